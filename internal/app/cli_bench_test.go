package app

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSmoke runs certnet bench incidents on 2 000 generated incidents:
// every measurement is printed; a second run on the same folder is refused
// unless it reuses the data.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("generates data")
	}
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	if code := Main([]string{"bench", "incidents", "--n", "2000", "--seconds", "0.5", "--rounds", "5", "--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"generated 2000 incidents", "national coordinator", "provincial unit",
		"full-text search", "creations with audit and outbox"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := Main([]string{"bench", "incidents", "--n", "10", "--data", dir}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "not empty") {
		t.Errorf("second run: exit %d: %s", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := Main([]string{"bench", "incidents", "--reuse", "--seconds", "0.2", "--rounds", "3", "--data", dir}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "reusing 2") || !strings.Contains(out.String(), "full-text search") {
		t.Errorf("--reuse: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if code := Main([]string{"bench", "incidents", "--reuse", "--data", filepath.Join(t.TempDir(), "empty")}, &out, &errb); code != 2 {
		t.Errorf("--reuse on an empty folder: exit %d", code)
	}
	if code := Main([]string{"bench", "nothing"}, &out, &errb); code != 2 {
		t.Errorf("unknown bench: exit %d", code)
	}
}
