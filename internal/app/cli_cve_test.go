package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"certnet/internal/testkit"
)

func TestCLIImportNVDAndKEV(t *testing.T) {
	nvd := testkit.SharedData(t, "nvd/cves-2023.json")
	kev := testkit.SharedData(t, "kev/known_exploited_vulnerabilities.json")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	t.Setenv("CERTNET_LANG", "en")
	if code, out, errs := run(t, "import", "nvd", "--data", data, nvd); code != 0 || !strings.Contains(out, "200 CVE records, 200 kept, 0 refused") {
		t.Fatalf("import nvd: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, "import", "kev", "--data", data, kev); code != 0 || !strings.Contains(out, "1404 CVE records, 1404 kept") {
		t.Fatalf("import kev: %d %s %s", code, out, errs)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"vulnerabilities":[{"cve":{"id":"CVE-2023-0001"}},{"cve":{"id":"nope"}}]}`), 0o600)
	if code, out, errs := run(t, "import", "nvd", "--data", data, bad); code != 0 || !strings.Contains(out, "1 refused") || !strings.Contains(errs, "record 1 nope") {
		t.Fatalf("record error: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, "import", "nvd", "--data", data, kev); code == 0 || !strings.Contains(errs, "known_exploited_vulnerabilities.json") {
		t.Fatalf("KEV given as NVD: %d %s", code, errs)
	}
	if code, _, _ := run(t, "import", "kev", "--data", data); code != 2 {
		t.Fatalf("no file: %d", code)
	}
}
