package decode

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"certnet/internal/testkit"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"suricata": Suricata, "EVE": Suricata, " Wazuh ": Wazuh, "generic": Generic, "STIX": STIX, "stix2.1": STIX,
	} {
		if got, ok := ParseFormat(in); !ok || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "json", "cef", "suricata2"} {
		if got, ok := ParseFormat(in); ok {
			t.Errorf("ParseFormat(%q) = %q, want refused", in, got)
		}
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ndjson turns a JSON array file (as the shared Suricata samples are) into
// NDJSON, one compact element a line.
func ndjson(t testing.TB, arr []byte) []byte {
	t.Helper()
	var elems []stdjson.RawMessage
	if err := stdjson.Unmarshal(arr, &elems); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, el := range elems {
		if err := stdjson.Compact(&out, el); err != nil {
			t.Fatal(err)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func mustDecode(t *testing.T, f Format, body []byte) []Event {
	t.Helper()
	evs, lerrs, err := Decode(f, body, nil)
	if err != nil || len(lerrs) != 0 {
		t.Fatalf("Decode(%s): err %v, line errors %v", f, err, lerrs)
	}
	return evs
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestGeneric(t *testing.T) {
	evs := mustDecode(t, Generic, readFile(t, "testdata/generic.ndjson"))
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	e := evs[0]
	if !e.Time.Equal(time.Date(2026, 11, 20, 8, 15, 2, 0, time.UTC)) || e.Kind != "alert" || e.Sensor != "soc-hanoi-01" ||
		e.SignatureID != 900001 || e.Severity != 1 || e.Src != addr("10.20.1.15") ||
		e.Dst != addr("198.51.100.23") || e.SrcPort != 49822 || e.DstPort != 443 || e.Proto != "TCP" ||
		e.Count != 3 || !reflect.DeepEqual(e.Domains, []string{"update.evil-cdn.example"}) {
		t.Errorf("event 1 = %+v", e)
	}
	e = evs[1]
	if !e.Time.Equal(time.Date(2026, 11, 20, 1, 16, 40, 0, time.UTC)) || e.Count != 1 ||
		!reflect.DeepEqual(e.Hashes, []string{"44d88612fea8a8f36de82e1278abb02f"}) ||
		!reflect.DeepEqual(e.URLs, []string{"http://dl.evil-cdn.example/payload.exe"}) {
		t.Errorf("event 2 = %+v", e)
	}
	e = evs[2]
	if e.Kind != "alert" || !reflect.DeepEqual(e.Emails, []string{"billing@evil-cdn.example"}) || !reflect.DeepEqual(e.CVEs, []string{"CVE-2024-3400"}) {
		t.Errorf("event 3 = %+v", e)
	}
}

func TestSuricataSharedData(t *testing.T) {
	for _, name := range []string{"first-org-conf-2015.alerts-only.json", "honeypot-2018.alerts-only.json"} {
		t.Run(name, func(t *testing.T) {
			arr := readFile(t, testkit.SharedData(t, filepath.Join("suricata", name)))
			var n int
			if err := stdjson.Unmarshal(arr, &[]stdjson.RawMessage{}); err != nil {
				t.Fatal(err)
			}
			body := ndjson(t, arr)
			n = bytes.Count(body, []byte("\n"))
			if got := Detect(body); got != Suricata {
				t.Errorf("Detect(ndjson) = %q", got)
			}
			if got := Detect(arr); got != Suricata {
				t.Errorf("Detect(array) = %q", got)
			}
			evs := mustDecode(t, Suricata, body)
			if len(evs) != n {
				t.Fatalf("%d events from %d lines", len(evs), n)
			}
			fromArray := mustDecode(t, Suricata, arr)
			if !reflect.DeepEqual(evs, fromArray) {
				t.Error("the JSON array and its NDJSON decode differently")
			}
			for i, e := range evs {
				if e.Kind != "alert" || e.Signature == "" || e.SignatureID == 0 || e.Severity < 1 || e.Severity > 3 ||
					!e.Src.IsValid() || !e.Dst.IsValid() || e.Time.IsZero() || e.Time.Location() != time.UTC || e.Count != 1 {
					t.Fatalf("event %d = %+v", i+1, e)
				}
			}
		})
	}
	// The first alert of the 2015 file, field by field.
	evs := mustDecode(t, Suricata, ndjson(t, readFile(t, testkit.SharedData(t, "suricata/first-org-conf-2015.alerts-only.json"))))
	want := Event{Time: time.Date(2015, 3, 29, 17, 1, 38, 221126000, time.UTC), Kind: "alert", Signature: "ET SCAN Potential SSH Scan",
		SignatureID: 2001219, Category: "Attempted Information Leak", Severity: 2, Src: addr("222.186.56.46"), Dst: addr("192.168.0.2"),
		SrcPort: 4904, DstPort: 22, Proto: "TCP", Count: 1}
	if !reflect.DeepEqual(evs[0], want) {
		t.Errorf("first alert\n got %+v\nwant %+v", evs[0], want)
	}
	// The second is an HTTP alert: its host and URL are observables.
	if e := evs[1]; !reflect.DeepEqual(e.Domains, []string{"ui.skype.com"}) ||
		!reflect.DeepEqual(e.URLs, []string{"http://ui.skype.com/ui/0/7.2.0.103./en/getlatestversion?ver=7.2.0.103&uhash=1fdc256726fe284b6b490bfa128de6f14"}) {
		t.Errorf("http alert = %+v", e)
	}
	fi := mustDecode(t, Suricata, readFile(t, testkit.SharedData(t, "suricata/suricata-verify.output-eve-fileinfo.expected-eve.json")))
	if len(fi) != 1 || fi[0].Kind != "fileinfo" || !reflect.DeepEqual(fi[0].URLs, []string{"http://www.eicar.org/download/eicar.com"}) ||
		fi[0].Src != addr("188.40.238.250") || !fi[0].Time.Equal(time.Date(2016, 6, 8, 20, 1, 52, 875791000, time.UTC)) {
		t.Errorf("fileinfo = %+v", fi)
	}
}

func TestSuricataEventTypes(t *testing.T) {
	body := strings.Join([]string{
		`{"timestamp":"2026-11-20T10:00:00.000000+0700","event_type":"dns","host":"sensor-1","src_ip":"10.0.0.5","src_port":53000,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"WWW.Evil.Example.","rrtype":"A"}}`,
		`{"timestamp":"2026-11-20T10:00:01.000000+0700","event_type":"alert","src_ip":"10.0.0.5","src_port":53001,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","alert":{"signature":"ET DNS Query to a *.top domain","signature_id":2023883,"severity":2},"dns":{"query":[{"type":"query","rrname":"E.F.top","rrtype":"A","tx_id":0}],"queries":[{"rrname":"a.b.top","rrtype":"A"},{"rrname":"c.d.top"}]}}`,
		`{"timestamp":"2026-11-20T10:00:02.000000+0700","event_type":"tls","src_ip":"10.0.0.5","src_port":443,"dest_ip":"2001:db8::1","dest_port":50000,"proto":"TCP","tls":{"sni":"Login.Example.COM","version":"TLS 1.3"}}`,
		`{"timestamp":"2026-11-20T10:00:03.000000+0700","event_type":"fileinfo","src_ip":"::ffff:198.51.100.7","src_port":8080,"dest_ip":"10.0.0.5","dest_port":50001,"proto":"TCP","http":{"hostname":"dl.example.net","url":"/a.exe"},"fileinfo":{"filename":"a.exe","md5":"44D88612FEA8A8F36DE82E1278ABB02F","sha256":"275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"}}`,
		`{"timestamp":"2026-11-20T10:00:04.000000+0700","event_type":"alert","src_ip":"203.0.113.5","src_port":40000,"dest_ip":"10.0.0.9","dest_port":443,"proto":"TCP","alert":{"signature":"ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228) cve-2021-45046","signature_id":2034647,"category":"Attempted Administrator Privilege Gain","severity":1,"metadata":{"cve":["CVE_2021_44228","CVE_2021_45105"]}}}`,
		`{"timestamp":"2026-11-20T10:00:05.000000+0700","event_type":"anomaly","src_ip":"10.0.0.5","dest_ip":"10.0.0.6","proto":"TCP","anomaly":{"type":"stream","event":"PKT_INVALID_TIMESTAMP"}}`,
		`{"timestamp":"2026-11-20T10:00:06.000000+0700","event_type":"smtp","src_ip":"10.0.0.5","src_port":50002,"dest_ip":"10.0.0.25","dest_port":25,"proto":"TCP","smtp":{"mail_from":"<Phish@Bad.Example>","rcpt_to":["<user@gov.example>"]},"email":{"from":"\"Billing\" <phish@bad.example>","to":["user@gov.example"]}}`,
		`{"timestamp":"2026-11-20T10:00:07.000000+0700","event_type":"flow","src_ip":"10.0.0.5","src_port":50003,"dest_ip":"10.0.0.26","dest_port":22,"proto":"TCP","flow":{"pkts_toserver":3}}`,
	}, "\n")
	evs := mustDecode(t, Suricata, []byte(body))
	if len(evs) != 8 {
		t.Fatalf("%d events", len(evs))
	}
	checks := []struct {
		ok   bool
		what string
	}{
		{evs[0].Kind == "dns" && evs[0].Sensor == "sensor-1" && reflect.DeepEqual(evs[0].Domains, []string{"www.evil.example"}), "dns rrname"},
		{reflect.DeepEqual(evs[1].Domains, []string{"e.f.top", "a.b.top", "c.d.top"}), "dns query (Suricata 7) and queries (8) of an alert"},
		{evs[2].Dst == addr("2001:db8::1") && reflect.DeepEqual(evs[2].Domains, []string{"login.example.com"}), "tls sni"},
		{evs[3].Src == addr("198.51.100.7") && reflect.DeepEqual(evs[3].Hashes, []string{"44d88612fea8a8f36de82e1278abb02f", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}) &&
			reflect.DeepEqual(evs[3].URLs, []string{"http://dl.example.net:8080/a.exe"}), "fileinfo hashes, unmapped address, server port in the URL"},
		{reflect.DeepEqual(evs[4].CVEs, []string{"CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"}) && evs[4].Severity == 1, "CVEs from signature and metadata"},
		{evs[5].Kind == "anomaly" && evs[5].Signature == "stream PKT_INVALID_TIMESTAMP", "anomaly"},
		{reflect.DeepEqual(evs[6].Emails, []string{"Phish@bad.example", "user@gov.example", "phish@bad.example"}), "smtp and email addresses"},
		{evs[7].Kind == "flow" && evs[7].DstPort == 22, "flow"},
	}
	for i, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.what, evs[i])
		}
	}
}

func TestWazuh(t *testing.T) {
	body := readFile(t, "testdata/wazuh-alerts.json")
	if got := Detect(body); got != Wazuh {
		t.Errorf("Detect = %q", got)
	}
	evs := mustDecode(t, Wazuh, body)
	if len(evs) != 9 {
		t.Fatalf("%d events", len(evs))
	}
	if e := evs[5]; e.Src != addr("185.220.101.47") || e.SrcPort != 50223 || e.Sensor != "DC01-HANOI" || e.SignatureID != 60122 {
		t.Errorf("windows logon failure = %+v", e)
	}
	if e := evs[6]; e.Src != addr("10.10.4.42") || e.SrcPort != 61544 || e.Dst != addr("198.51.100.23") || e.DstPort != 443 || e.Proto != "TCP" ||
		!reflect.DeepEqual(e.Domains, []string{"cdn-update.evil.example"}) || e.Severity != 1 {
		t.Errorf("sysmon network connection = %+v", e)
	}
	if e := evs[7]; !reflect.DeepEqual(e.Hashes, []string{"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "5d41402abc4b2a76b9719d911017c592", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}) {
		t.Errorf("sysmon process creation = %+v", e)
	}
	if e := evs[8]; e.Src.IsValid() || e.SrcPort != 0 {
		t.Errorf("a logon failure without an address (\"-\") = %+v", e)
	}
	e := evs[0]
	if !e.Time.Equal(time.Date(2026, 11, 20, 2, 12, 44, 211000000, time.UTC)) || e.Kind != "alert" || e.Sensor != "web-hcm-02" ||
		e.SignatureID != 5710 || e.Severity != 3 || e.Src != addr("203.0.113.77") || e.SrcPort != 51834 ||
		e.Category != "syslog,sshd,authentication_failed,invalid_login" || !reflect.DeepEqual(e.Tags, []string{"T1110.001", "T1021.004"}) {
		t.Errorf("ssh alert = %+v", e)
	}
	if e := evs[1]; e.Severity != 1 || e.Src != addr("198.51.100.9") || e.Proto != "" || len(e.URLs) != 0 {
		t.Errorf("web scan alert (level 13; an HTTP method is not a protocol; a bare path is no URL) = %+v", e)
	}
	if e := evs[2]; e.Severity != 3 || e.Sensor != "app-dng-01" || !reflect.DeepEqual(e.Hashes, []string{
		"4e6b9a1d3c7f0b2a8d5e1f9c6a3b7d20", "8f0c2b6d1e9a7c3f5b4d2e1a0c9f8b7a6d5e4c3b", "3b9e4d6c2a1f0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d"}) {
		t.Errorf("syscheck alert = %+v", e)
	}
	if e := evs[3]; e.Severity != 2 || !reflect.DeepEqual(e.CVEs, []string{"CVE-2024-6387"}) {
		t.Errorf("vulnerability alert = %+v", e)
	}
	if e := evs[4]; e.Severity != 1 || e.Src != addr("10.30.2.51") || e.Dst != addr("192.0.2.200") || e.SrcPort != 50412 || e.DstPort != 443 || e.Proto != "TCP" {
		t.Errorf("suricata-through-wazuh alert = %+v", e)
	}
	for level, want := range map[int64]int{0: 4, 3: 4, 4: 3, 7: 3, 8: 2, 11: 2, 12: 1, 15: 1, 16: 1} {
		if got := wazuhSeverity(level); got != want {
			t.Errorf("level %d → severity %d, want %d", level, got, want)
		}
	}
}

func TestSTIX(t *testing.T) {
	body := readFile(t, "testdata/stix-sightings.ndjson")
	if got := Detect(body); got != STIX {
		t.Errorf("Detect = %q", got)
	}
	evs := mustDecode(t, STIX, body)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	e := evs[0]
	if e.Kind != "sighting" || e.Count != 17 || e.Sensor != "SOC Bộ Tài chính" || e.Signature != "Loader hash" ||
		!e.Time.Equal(time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC)) || e.Ref != "indicator--3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02" ||
		!reflect.DeepEqual(e.Hashes, []string{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}) {
		t.Errorf("sighting of an indicator = %+v", e)
	}
	e = evs[1]
	if e.Count != 1 || e.Src != addr("10.20.1.15") || e.Dst != addr("198.51.100.23") || e.SrcPort != 49822 || e.DstPort != 443 || e.Proto != "IPV4" ||
		!reflect.DeepEqual(e.Domains, []string{"cdn-update.evil.example"}) || !reflect.DeepEqual(e.URLs, []string{"https://cdn-update.evil.example/gate.php"}) ||
		!reflect.DeepEqual(e.Emails, []string{"ops@evil.example"}) || len(e.IPs) != 0 {
		t.Errorf("sighting with observed data = %+v", e)
	}
	e = evs[2]
	if e.Count != 4 || !reflect.DeepEqual(e.CVEs, []string{"CVE-2024-3400"}) || !e.Time.Equal(time.Date(2026, 11, 20, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("sighting of a vulnerability = %+v", e)
	}

	// The OASIS examples, pretty-printed bundles.
	dir := testkit.SharedData(t, "stix/cti-documentation-examples")
	ind := mustDecode(t, STIX, readFile(t, filepath.Join(dir, "sighting-of-an-indicator.json")))
	if len(ind) != 1 || !reflect.DeepEqual(ind[0].URLs, []string{"http://paypa1.banking.com"}) || ind[0].Sensor != "Beta Cyber Intelligence Company" || ind[0].Signature != "Malicious URL" {
		t.Errorf("sighting-of-an-indicator = %+v", ind)
	}
	od := mustDecode(t, STIX, readFile(t, filepath.Join(dir, "sighting-of-observed-data.json")))
	if len(od) != 1 || len(od[0].Hashes) != 2 || od[0].Signature != "Online Job Site Trojan" {
		t.Errorf("sighting-of-observed-data = %+v", od)
	}
	// A bundle without sightings is refused as a line, not as a body.
	_, lerrs, err := Decode(STIX, readFile(t, filepath.Join(dir, "indicator-for-malicious-url.json")), nil)
	if err != nil || len(lerrs) != 1 || lerrs[0].Code != CodeNoSighting || lerrs[0].Line != 1 {
		t.Errorf("bundle without sightings: %v %v", err, lerrs)
	}
}

func TestBadLines(t *testing.T) {
	good := map[Format]string{
		Generic:  `{"time":"2026-11-20T08:15:02Z","src_ip":"10.0.0.1"}`,
		Suricata: `{"timestamp":"2026-11-20T08:15:02.000000+0000","event_type":"flow","src_ip":"10.0.0.1","dest_ip":"10.0.0.2"}`,
		Wazuh:    `{"timestamp":"2026-11-20T08:15:02.000+0000","rule":{"id":"5710","level":5,"description":"x"},"agent":{"name":"a"}}`,
		STIX:     `{"type":"bundle","id":"bundle--1","objects":[{"type":"sighting","id":"sighting--1","created":"2026-11-20T08:15:02Z","sighting_of_ref":"indicator--1"}]}`,
	}
	cases := []struct {
		f    Format
		line string
		code string
	}{
		{Generic, `{"time":"2026-11-20T08:15:02Z","src_ip":"10.0.0.1"`, CodeJSON},
		{Generic, `not json`, CodeNotObject},
		{Generic, `[1,2]`, CodeNotObject},
		{Generic, `{"src_ip":"10.0.0.1"}`, CodeMissingField},
		{Generic, `{"time":"yesterday","src_ip":"10.0.0.1"}`, CodeTime},
		{Generic, `{"time":"2026-11-20T08:15:02","src_ip":"10.0.0.1"}`, CodeTime},
		{Generic, `{"time":"2026-11-20T08:15:02Z"}`, CodeMissingField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","src_ip":"10.0.0.300"}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","src_ip":"fe80::1%eth0"}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","src_ip":"10.0.0.1","dst_port":70000}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","hashes":["abc"]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","domains":["a b.example"]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","domains":[".."]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","domains":["a..example"]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","urls":["evil.example/x"]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","emails":["not-an-address"]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","cves":["CVE-21-1"]}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","signature":"x","severity":9}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","signature":"x","count":-1}`, CodeInvalidField},
		{Generic, `{"time":"2026-11-20T08:15:02Z","signature":"x","severity":"high"}`, CodeJSON},
		{Suricata, `{"event_type":"alert","src_ip":"10.0.0.1"}`, CodeMissingField},
		{Suricata, `{"timestamp":"2026-11-20T08:15:02.000000+0000","src_ip":"10.0.0.1"}`, CodeMissingField},
		{Suricata, `{"timestamp":"2026-13-20T08:15:02.000000+0000","event_type":"alert"}`, CodeTime},
		{Suricata, `{"timestamp":"2026-11-20T08:15:02.000000+0000","event_type":"alert","dest_ip":"x"}`, CodeInvalidField},
		{Suricata, `{"timestamp":"2026-11-20T08:15:02.000000+0000","event_type":"alert","src_port":-1}`, CodeInvalidField},
		{Suricata, `{"timestamp":"2026-11-20T08:15:02.000000+0000","event_type":"alert","alert":"x"}`, CodeJSON},
		{Wazuh, `{"timestamp":"2026-11-20T08:15:02.000+0000","agent":{"name":"a"}}`, CodeMissingField},
		{Wazuh, `{"timestamp":"2026-11-20T08:15:02.000+0000","rule":{"id":"x5710","level":5}}`, CodeInvalidField},
		{Wazuh, `{"timestamp":"2026-11-20T08:15:02.000+0000","rule":{"id":"5710","level":99}}`, CodeInvalidField},
		{Wazuh, `{"timestamp":"2026-11-20T08:15:02.000+0000","rule":{"id":"5710","level":5},"data":{"srcport":"ssh"}}`, CodeInvalidField},
		{Wazuh, `{"timestamp":"2026-11-20T08:15:02.000+0000","rule":{"id":"5710","level":5},"data":{"vulnerability":{"cve":"nope"}}}`, CodeInvalidField},
		{Wazuh, `{"timestamp":"2026-11-20","rule":{"id":"5710","level":5}}`, CodeTime},
		{STIX, `{"type":"bundle","id":"bundle--1","objects":[{"type":"sighting","id":"sighting--1","created":"2026-11-20T08:15:02Z"}]}`, CodeMissingField},
		{STIX, `{"type":"bundle","id":"bundle--1","objects":[{"type":"sighting","id":"sighting--1","sighting_of_ref":"indicator--1"}]}`, CodeMissingField},
		{STIX, `{"type":"bundle","id":"bundle--1","objects":[{"type":"sighting","id":"sighting--1","created":"nope","sighting_of_ref":"indicator--1"}]}`, CodeTime},
		{STIX, `{"type":"bundle","id":"bundle--1","objects":[{"type":"sighting","id":"sighting--1","created":"2026-11-20T08:15:02Z","sighting_of_ref":"indicator--1","count":-3}]}`, CodeInvalidField},
		{STIX, `{"type":"bundle","id":"bundle--1","objects":{"a":1}}`, CodeJSON},
		{STIX, `{"type":"bundle","id":"bundle--1","objects":[]}`, CodeNoSighting},
		{STIX, `{"type":"bundle",`, CodeJSON},
		{STIX, `[]`, CodeNotObject},
	}
	for _, c := range cases {
		// The bad line sits between two good ones, after a blank line: the
		// good ones are kept and the error names line 3.
		body := good[c.f] + "\n\n" + c.line + "\r\n" + good[c.f] + "\n"
		evs, lerrs, err := Decode(c.f, []byte(body), nil)
		if err != nil {
			t.Errorf("%s %s: body refused: %v", c.f, c.line, err)
			continue
		}
		if len(evs) != 2 || len(lerrs) != 1 || lerrs[0].Line != 3 || lerrs[0].Code != c.code || lerrs[0].Message == "" {
			t.Errorf("%s %s: %d events, errors %+v; want 2 events and one %s error on line 3", c.f, c.line, len(evs), lerrs, c.code)
		}
	}
}

func TestSTIXLargeBundle(t *testing.T) {
	// A compact bundle on one line may pass MaxLine (up to MaxBundle).
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--1","objects":[`)
	for i := 0; b.Len() < MaxLine+1000; i++ {
		fmt.Fprintf(&b, `{"type":"identity","id":"identity--%d","name":"%s"},`, i, strings.Repeat("x", 200))
	}
	b.WriteString(`{"type":"sighting","id":"sighting--1","created":"2026-11-20T08:15:02Z","sighting_of_ref":"indicator--1"}]}`)
	evs, lerrs, err := Decode(STIX, []byte(b.String()), nil)
	if err != nil || len(lerrs) != 0 || len(evs) != 1 {
		t.Errorf("large one-line bundle: %v %v %d", err, lerrs, len(evs))
	}
	// NDJSON whose first line is broken is still NDJSON.
	body := "{\"type\":\"bundle\",\n" + `{"type":"bundle","id":"bundle--2","objects":[{"type":"sighting","id":"sighting--2","created":"2026-11-20T08:15:02Z","sighting_of_ref":"indicator--1"}]}` + "\n"
	evs, lerrs, err = Decode(STIX, []byte(body), nil)
	if err != nil || len(evs) != 1 || len(lerrs) != 1 || lerrs[0].Line != 1 || lerrs[0].Code != CodeJSON {
		t.Errorf("NDJSON with a broken first line: %v %+v %d", err, lerrs, len(evs))
	}
}

func TestTooLong(t *testing.T) {
	long := `{"time":"2026-11-20T08:15:02Z","signature":"` + strings.Repeat("x", MaxLine) + `"}`
	good := map[Format]string{
		Generic: `{"time":"2026-11-20T08:15:02Z","src_ip":"10.0.0.1"}`,
		STIX:    `{"type":"bundle","id":"bundle--1","objects":[{"type":"sighting","id":"sighting--1","created":"2026-11-20T08:15:02Z","sighting_of_ref":"indicator--1"}]}`,
	}
	for f, g := range good {
		evs, lerrs, err := Decode(f, []byte(long+"\n"+g+"\n"), nil)
		if err != nil || len(evs) != 1 || len(lerrs) != 1 || lerrs[0].Code != CodeTooLong || lerrs[0].Line != 1 {
			t.Errorf("%s: %v %d %+v", f, err, len(evs), lerrs)
		}
	}
	// A single STIX bundle past MaxBundle.
	huge := `{"type":"bundle","objects":[],"x":"` + strings.Repeat("x", MaxBundle) + `"}`
	if _, lerrs, err := Decode(STIX, []byte(huge), nil); err != nil || len(lerrs) != 1 || lerrs[0].Code != CodeTooLong {
		t.Errorf("huge bundle: %v %+v", err, lerrs)
	}
}

func TestUnusableBody(t *testing.T) {
	if _, _, err := Decode("cef", []byte(`{}`), nil); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: %v", err)
	}
	for _, body := range []string{"hello", "\x00\x01", "<xml/>"} {
		if _, _, err := Decode(STIX, []byte(body), nil); !errors.Is(err, ErrNotJSON) {
			t.Errorf("STIX %q: %v", body, err)
		}
	}
	if _, _, err := Decode(STIX, []byte("{\n  \"type\": \"bundle\",\n  \"objects\": [\n"), nil); !errors.Is(err, ErrNotJSON) {
		t.Errorf("truncated pretty bundle: %v", err)
	}
	if _, _, err := Decode(Suricata, []byte(`[{"timestamp":"2026-11-20T08:15:02Z","event_type":"flow"},`), nil); !errors.Is(err, ErrNotJSON) {
		t.Errorf("truncated array: %v", err)
	}
	big := append([]byte("["), bytes.Repeat([]byte(" "), MaxArray)...)
	if _, _, err := Decode(Suricata, append(big, ']'), nil); !errors.Is(err, ErrArrayTooLarge) {
		t.Errorf("huge array: %v", err)
	}
	// Empty bodies are no events and no errors.
	for _, f := range Formats {
		evs, lerrs, err := Decode(f, []byte(" \n\r\n"), nil)
		if err != nil || len(evs)+len(lerrs) != 0 {
			t.Errorf("%s empty: %v %v %v", f, evs, lerrs, err)
		}
	}
}

func TestDetect(t *testing.T) {
	cases := map[string]Format{
		`{"timestamp":"2026-11-20T08:15:02Z","event_type":"alert"}`:                    Suricata,
		"\xef\xbb\xbf\n  {\"timestamp\":\"x\",\"rule\":{\"id\":\"1\"},\"agent\":{}}\n": Wazuh,
		`{"time":"2026-11-20T08:15:02Z","src_ip":"10.0.0.1"}`:                          Generic,
		`{"type":"bundle","id":"bundle--1","objects":[]}`:                              STIX,
		"{\n \"type\": \"bundle\",\n \"objects\": []\n}":                               STIX,
		"[\n {\"event_type\": \"alert\"}\n]":                                           Suricata,
		`{"a":1}`:                                                                      "",
		`hello`:                                                                        "",
		``:                                                                             "",
		`{"rule":"x"}`:                                                                 "",
	}
	for in, want := range cases {
		if got := Detect([]byte(in)); got != want {
			t.Errorf("Detect(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2015, 3, 29, 17, 1, 38, 221126000, time.UTC)
	for _, s := range []string{"2015-03-29T11:01:38.221126-0600", "2015-03-29T17:01:38.221126Z", "2015-03-29T17:01:38.221126+00:00", "2015-03-29T23:01:38.221126+06:00", "2015-03-29 17:01:38.221126Z"} {
		got, err := parseTime(s, false)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v", s, got, err)
		}
	}
	if got, err := parseTime("2015-03-29T17:01:38.221126", true); err != nil || !got.Equal(want) {
		t.Errorf("zoneless: %v %v", got, err)
	}
	if got, err := parseTime("2024-02-29T23:59:59.1234567891+07:00", false); err != nil || !got.Equal(time.Date(2024, 2, 29, 16, 59, 59, 123456789, time.UTC)) {
		t.Errorf("leap day, ten fraction digits: %v %v", got, err)
	}
	for _, s := range []string{"2015-03-29T17:01:38.221126", "", "2015-03-29", "0000-01-01T00:00:00Z", "2015-03-29T17:01:38+9999", "2015-03-29T17:01:38.221126-06",
		"2015-02-29T00:00:00Z", "2015-04-31T00:00:00Z", "2015-03-29T24:00:00Z", "2015-03-29T23:60:00Z", "2015-03-29T17:01:38.Z", "2015-03-29T17:01:38ZZ",
		"2015-3-29T17:01:38Z", "2015-03-29T17:01:38+07:0", "+015-03-29T17:01:38Z", "2015-03-29T17:01:38 +0700"} {
		if _, err := parseTime(s, false); err == nil {
			t.Errorf("parseTime(%q) accepted", s)
		}
	}
}

func TestCleanText(t *testing.T) {
	line := `{"time":"2026-11-20T08:15:02Z","signature":"bad\u0000 byte \ud800 and ` + "\xff" + ` end ` + strings.Repeat("é", 600) + `","sensor":"s\u0000"}`
	evs := mustDecode(t, Generic, []byte(line))
	e := evs[0]
	if !utf8.ValidString(e.Signature) || strings.ContainsRune(e.Signature, 0) || len(e.Signature) > 1024 || !strings.HasPrefix(e.Signature, "bad byte") || e.Sensor != "s" {
		t.Errorf("signature %q, sensor %q", e.Signature, e.Sensor)
	}
	if got := text("abc", 2); got != "ab" {
		t.Errorf("text cut: %q", got)
	}
	if got := text("aé", 2); got != "a" {
		t.Errorf("text cut inside a character: %q", got)
	}
}

func TestCVEs(t *testing.T) {
	got := scanCVEs("ET EXPLOIT (CVE-2021-44228) and cve_2019_0708, not XCVE-2020-1234 nor CVE-2020-12 nor CVE-2020-123456789; CVE-2021-44228 again", nil)
	if want := []string{"CVE-2021-44228", "CVE-2019-0708"}; !reflect.DeepEqual(got, want) {
		t.Errorf("scanCVEs = %v, want %v", got, want)
	}
}

// The events travel over the bus encoded with goccy/go-json: they must
// come back equal, with absent addresses left out.
func TestEventJSON(t *testing.T) {
	evs := mustDecode(t, STIX, readFile(t, "testdata/stix-sightings.ndjson"))
	evs = append(evs, mustDecode(t, Wazuh, readFile(t, "testdata/wazuh-alerts.json"))...)
	b, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	var back []Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(evs, back) {
		t.Errorf("round trip differs:\n%+v\n%+v", evs, back)
	}
	one, _ := json.Marshal(Event{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Kind: "alert", Count: 1})
	if string(one) != `{"t":"2026-01-01T00:00:00Z","k":"alert","n":1}` {
		t.Errorf("minimal event encodes as %s", one)
	}
}
