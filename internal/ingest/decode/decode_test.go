package decode

import (
	"net/netip"
	"os"
	"testing"
	"time"
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

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGeneric(t *testing.T) {
	evs, lerrs, err := Decode(Generic, readFile(t, "testdata/generic.ndjson"), nil)
	if err != nil || len(lerrs) != 0 {
		t.Fatalf("err %v, line errors %v", err, lerrs)
	}
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	e := evs[0]
	if !e.Time.Equal(time.Date(2026, 11, 20, 8, 15, 2, 0, time.UTC)) || e.Kind != "alert" || e.Sensor != "soc-hanoi-01" ||
		e.SignatureID != 900001 || e.Severity != 1 || e.Src != netip.MustParseAddr("10.20.1.15") ||
		e.Dst != netip.MustParseAddr("198.51.100.23") || e.SrcPort != 49822 || e.DstPort != 443 || e.Proto != "TCP" ||
		e.Count != 3 || len(e.Domains) != 1 || e.Domains[0] != "update.evil-cdn.example" {
		t.Errorf("event 1 = %+v", e)
	}
	e = evs[1]
	if !e.Time.Equal(time.Date(2026, 11, 20, 1, 16, 40, 0, time.UTC)) || e.Count != 1 ||
		len(e.Hashes) != 1 || e.Hashes[0] != "44d88612fea8a8f36de82e1278abb02f" ||
		len(e.URLs) != 1 || e.URLs[0] != "http://dl.evil-cdn.example/payload.exe" {
		t.Errorf("event 2 = %+v", e)
	}
	e = evs[2]
	if e.Kind != "alert" || len(e.Emails) != 1 || e.Emails[0] != "billing@evil-cdn.example" || len(e.CVEs) != 1 || e.CVEs[0] != "CVE-2024-3400" {
		t.Errorf("event 3 = %+v", e)
	}
}
