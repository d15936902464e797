package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns the path of rel inside the third-party data folder
// ../shared/data beside the repository, looked for from the test's package
// folder upwards. Outside CI a missing folder skips the test; inside CI
// (CI=true) it fails, because CI runs with the data in place.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for range 8 {
		p := filepath.Join(dir, "..", "shared", "data", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		dir = filepath.Dir(dir)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but the shared data %s is not beside the repository (../shared/data)", rel)
	}
	t.Skipf("shared data %s not found: tests that read ../shared/data are skipped", rel)
	return ""
}
