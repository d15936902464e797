package app

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchIntelSmoke runs certnet bench intel on 3 000 generated
// indicators: the import keeps them all and every measurement is printed;
// a second run on the same folder is refused unless it reuses the data.
func TestBenchIntelSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("generates data")
	}
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	if code := Main([]string{"bench", "intel", "--n", "3000", "--rounds", "2", "--deep", "1", "--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"imported 3000 objects (3000 kept, 0 refused; 3000 indicators)", "STIX import, streaming (sqlite)",
		"VmHWM", "WAL checkpoint of the import", "TAXII first page", "TAXII cursor pages 2–2", "deep cursor", "added_after", "a member's view"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := Main([]string{"bench", "intel", "--n", "10", "--data", dir}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "not empty") {
		t.Errorf("second run: exit %d: %s", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := Main([]string{"bench", "intel", "--reuse", "--rounds", "1", "--deep", "0", "--data", dir}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "reusing 3000 indicators") || !strings.Contains(out.String(), "a member's view") {
		t.Errorf("--reuse: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}

// TestBenchBundle: the generated bundle is what the importer takes whole,
// of every kind.
func TestBenchBundle(t *testing.T) {
	var b bytes.Buffer
	if err := benchBundle(&b, 500, nil); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"ipv4-addr", "ipv6-addr", "domain-name", "url:value", "SHA-256", "MD5", "email-addr", "valid_until", "kill_chain_phases"} {
		if !strings.Contains(b.String(), kind) {
			t.Errorf("no %s in the bundle", kind)
		}
	}
}
