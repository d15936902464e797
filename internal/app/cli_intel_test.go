package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"certnet/internal/intel/stix"
)

func TestCLIIntelImportExport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	t.Setenv("CERTNET_LANG", "en")
	if code, out, errs := run(t, "org", "add", "--data", data, "--code", "VNCERT", "--name", "Trung tâm", "--roles", "national_coordinator"); code != 0 {
		t.Fatalf("org add: %d %s %s", code, out, errs)
	}
	bundle := filepath.Join(dir, "b.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[
	{"type":"indicator","spec_version":"2.1","id":"indicator--6ba7b811-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",
	 "object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
	{"type":"indicator","spec_version":"2.1","id":"indicator--6ba7b812-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "pattern":"[ipv4-addr:value = ","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}`), 0o600)
	code, out, errs := run(t, "import", "stix", "--data", data, "--org", "VNCERT", bundle)
	if code != 0 || !strings.Contains(out, "2 objects, 1 kept, 1 refused") || !strings.Contains(errs, "object 1 indicator") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if code, _, errs = run(t, "import", "stix", "--data", data, "--org", "NOPE", bundle); code == 0 {
		t.Fatalf("unknown org accepted: %s", errs)
	}
	if code, _, _ = run(t, "import", "yaml", "--data", data, bundle); code != 2 {
		t.Fatalf("unknown format: %d", code)
	}
	outPath := filepath.Join(dir, "out.json")
	if code, out, errs = run(t, "export", "stix", "--data", data, "--tlp", "GREEN", "--out", outPath); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	b, _ := os.ReadFile(outPath)
	v, err := stix.DefaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateBundle(b); err != nil || !strings.Contains(string(b), "198.51.100.1") {
		t.Fatalf("export: %v\n%s", err, b)
	}
	feed := filepath.Join(dir, "feed")
	if code, out, errs = run(t, "export", "misp", "--data", data, "--out", feed); code != 0 || !strings.Contains(out, "1 attributes") {
		t.Fatalf("export misp: %d %s %s", code, out, errs)
	}
	if code, out, errs = run(t, "import", "misp", "--data", data, "--org", "VNCERT", feed); code != 0 || !strings.Contains(out, "0 refused") {
		t.Fatalf("re-import misp feed: %d %s %s", code, out, errs)
	}
	if code, _, _ = run(t, "export", "stix", "--data", data, "--tlp", "PINK"); code != 2 {
		t.Fatalf("bad label: %d", code)
	}
}
