package app

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchIngestSmoke runs certnet bench ingest small: ranges and
// indicators loaded, both measurements printed, every acknowledged event
// counted by the pipeline (the command fails otherwise); then again with
// --reuse; --reuse on a folder it did not fill is refused.
func TestBenchIngestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("generates data and drives the pipeline")
	}
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	args := []string{"bench", "ingest", "--indicators", "500", "--ranges", "300", "--seconds", "0.5", "--clients", "2", "--batch", "500", "--data", dir}
	if code := Main(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"member ranges loaded", "indicators loaded", "matcher built", "full rate: alerts acknowledged and through the pipeline",
		"half rate: acknowledgement latency", "events counted by the pipeline", "peak resident memory"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := Main([]string{"bench", "ingest", "--reuse", "--data", filepath.Join(t.TempDir(), "empty")}, &out, &errb); code != 2 {
		t.Errorf("--reuse on an empty folder: exit %d", code)
	}
	out.Reset()
	errb.Reset()
	if code := Main(append(args[:len(args):len(args)], "--reuse"), &out, &errb); code != 0 || !strings.Contains(out.String(), "reusing 300 ranges and 4000 indicators") {
		t.Errorf("--reuse: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if code := Main([]string{"bench", "ingest", "--ranges", "0", "--data", dir}, &out, &errb); code != 2 {
		t.Errorf("--ranges 0: exit %d", code)
	}
}
