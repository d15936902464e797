package decode

import (
	"bytes"
	"reflect"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedLines adds every line of the testdata files as a seed, and the file
// whole.
func seedLines(f *testing.F, files ...string) {
	for _, p := range files {
		b := readFile(f, p)
		f.Add(b)
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(l) > 0 {
				f.Add(l)
			}
		}
	}
}

// sharedSeeds adds files of the shared data folder as seeds when it is
// there (the fuzzers run without it too).
func sharedSeeds(f *testing.F, rels ...string) {
	for _, rel := range rels {
		for _, up := range []string{"../../../..", "../../../../.."} {
			if b, err := os.ReadFile(filepath.Join(up, "shared", "data", rel)); err == nil {
				f.Add(b)
				break
			}
		}
	}
}

// checkEvents asserts what Decode promises of any input.
func checkEvents(t *testing.T, body []byte, evs []Event, lerrs []LineError) {
	lines := bytes.Count(body, []byte("\n")) + 1
	for _, le := range lerrs {
		if le.Line < 1 || le.Code == "" || le.Message == "" {
			t.Fatalf("bad line error %+v", le)
		}
		if body := skipBlank(body); len(body) > 0 && body[0] != '[' && le.Line > lines {
			t.Fatalf("line error %+v beyond the %d lines", le, lines)
		}
	}
	if len(evs) > 0 {
		// The events travel encoded as JSON and are stored as text: they
		// come back equal, and every string is valid UTF-8 without NUL.
		b, err := json.Marshal(evs)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back []Event
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(normNil(back), normNil(evs)) {
			t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, evs, back)
		}
	}
	for _, e := range evs {
		for _, s := range append(append(append(append([]string{e.Kind, e.Sensor, e.Signature, e.Category, e.Proto, e.Ref}, e.Domains...), e.URLs...), e.Emails...), e.Tags...) {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("string %q is not clean text", s)
			}
		}
		if e.Time.IsZero() || e.Time.Location().String() != "UTC" || e.Count < 1 || e.Severity < 0 || e.Severity > 4 || e.Kind == "" {
			t.Fatalf("bad event %+v", e)
		}
		for _, a := range append(e.IPs, e.Src, e.Dst) {
			if a.Is4In6() || a.Zone() != "" {
				t.Fatalf("address %v not normalised", a)
			}
		}
		for _, d := range e.Domains {
			if d == "" || d != strings.ToLower(d) || strings.HasSuffix(d, ".") {
				t.Fatalf("domain %q not normalised", d)
			}
		}
		for _, h := range e.Hashes {
			if h != strings.ToLower(h) || (len(h) != 32 && len(h) != 40 && len(h) != 64) {
				t.Fatalf("hash %q not normalised", h)
			}
		}
		for _, c := range e.CVEs {
			if !strings.HasPrefix(c, "CVE-") || c != strings.ToUpper(c) {
				t.Fatalf("CVE %q not normalised", c)
			}
		}
		for _, u := range e.URLs {
			if v, ok := normURL(u); !ok || v != u {
				t.Fatalf("URL %q not normalised (%q)", u, v)
			}
		}
	}
}

func fuzzFormat(f *testing.F, format Format) {
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, lerrs, err := Decode(format, body, nil)
		if err != nil {
			if len(evs) != 0 || len(lerrs) != 0 {
				t.Fatalf("err %v with %d events and %d line errors", err, len(evs), len(lerrs))
			}
			return
		}
		checkEvents(t, body, evs, lerrs)
	})
}

func FuzzDecodeSuricata(f *testing.F) {
	seedLines(f, "testdata/suricata.ndjson")
	sharedSeeds(f, "suricata/suricata-verify.output-eve-fileinfo.expected-eve.json", "suricata/honeypot-2018.alerts-only.json")
	fuzzFormat(f, Suricata)
}

func FuzzDecodeWazuh(f *testing.F) {
	seedLines(f, "testdata/wazuh-alerts.json")
	fuzzFormat(f, Wazuh)
}

func FuzzDecodeGeneric(f *testing.F) {
	seedLines(f, "testdata/generic.ndjson")
	fuzzFormat(f, Generic)
}

func FuzzDecodeSTIX(f *testing.F) {
	seedLines(f, "testdata/stix-sightings.ndjson")
	sharedSeeds(f, "stix/cti-documentation-examples/sighting-of-an-indicator.json", "stix/cti-documentation-examples/sighting-of-observed-data.json")
	fuzzFormat(f, STIX)
}

func FuzzDetect(f *testing.F) {
	seedLines(f, "testdata/suricata.ndjson", "testdata/wazuh-alerts.json", "testdata/generic.ndjson", "testdata/stix-sightings.ndjson")
	f.Fuzz(func(t *testing.T, body []byte) {
		got := Detect(body)
		if got == "" {
			return
		}
		if _, ok := ParseFormat(string(got)); !ok {
			t.Fatalf("Detect gave %q, which ParseFormat refuses", got)
		}
		// Whatever Detect says, decoding in that format never panics.
		evs, lerrs, err := Decode(got, body, nil)
		if err == nil {
			checkEvents(t, body, evs, lerrs)
		}
	})
}

// FuzzParseTime checks the hand-written timestamp reader against time.Parse
// wherever both accept the input.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2015-03-29T11:01:38.221126-0600", "2026-11-20T08:15:02Z", "2024-02-29T23:59:59.123+07:00", "2019-01-02T03:50:11.315110", "2015-02-29T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s, true)
		if err != nil {
			return
		}
		if got.Location() != time.UTC || got.Year() < 1970 {
			t.Fatalf("parseTime(%q) = %v", s, got)
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02T15:04:05.999999999"} {
			if want, err := time.Parse(layout, s); err == nil && !want.Equal(got) {
				t.Fatalf("parseTime(%q) = %v, time.Parse = %v", s, got, want)
			}
		}
	})
}

// normNil treats empty and nil lists alike (omitempty drops both).
func normNil(evs []Event) []Event {
	out := make([]Event, len(evs))
	for i, e := range evs {
		for _, l := range []*[]string{&e.Domains, &e.URLs, &e.Hashes, &e.Emails, &e.CVEs, &e.Tags} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		if len(e.IPs) == 0 {
			e.IPs = nil
		}
		out[i] = e
	}
	return out
}
