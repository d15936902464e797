package forward_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"certnet/internal/forward"
)

// The file rotates twice (numbered: eve.json → .1 → .2) while the
// forwarder is stopped in the middle of it: the next run finishes the old
// file, wherever it went, then reads the file rotated after it, then the
// current one: nothing lost, nothing doubled, in order.
func TestRotatedTwiceWhileStopped(t *testing.T) {
	for _, named := range []bool{false, true} {
		name := "numbered"
		if named {
			name = "dated"
		}
		t.Run(name, func(t *testing.T) {
			h := newHub(t)
			dir := t.TempDir()
			path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
			lines := suricataLines(t, 2)
			in := forward.Input{Format: "suricata", Path: path}
			// An older rotated file, already read in an earlier life: left alone.
			appendLines(t, path+".9", "old line never to send")
			old := time.Now().Add(-time.Hour)
			os.Chtimes(path+".9", old, old)

			appendLines(t, path, lines[:100]...)
			r := start(t, h.config(t, state, in))
			waitFor(t, "the first lines", func() bool { return h.count() == 100 })
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}
			mv := func(from, to string) {
				if err := os.Rename(from, to); err != nil {
					t.Fatal(err)
				}
			}
			// Stopped: A gets more lines and rotates, B is written and
			// rotates, C is the current file.
			appendLines(t, path, lines[100:150]...)
			time.Sleep(5 * time.Millisecond)
			if named {
				mv(path, path+"-20261127")
			} else {
				mv(path, path+".1")
			}
			appendLines(t, path, lines[150:220]...)
			time.Sleep(5 * time.Millisecond)
			if named {
				mv(path, path+"-20261128")
			} else {
				mv(path+".1", path+".2")
				mv(path, path+".1")
			}
			appendLines(t, path, lines[220:300]...)

			r = start(t, h.config(t, state, in))
			waitFor(t, "every line", func() bool { return h.count() >= 300 && r.fw.Stats().Queued == 0 })
			appendLines(t, path, lines[300:]...)
			waitFor(t, "the lines written after", func() bool { return h.count() >= len(lines) })
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}
			if got := h.lines(); !slices.Equal(got, lines) {
				sameLines(t, got, lines)
				t.Fatal("the lines arrived out of order")
			}
		})
	}
}

// A saved position whose inode now holds another file (the old one was
// deleted and its inode reused) is not trusted: the fingerprint of the
// first bytes differs, so the file is read from its start.
func TestReusedInodeNotTrusted(t *testing.T) {
	h := newHub(t)
	dir := t.TempDir()
	path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 2)
	in := forward.Input{Format: "suricata", Path: path}
	appendLines(t, path, lines[:100]...)
	r := start(t, h.config(t, state, in))
	waitFor(t, "the first lines", func() bool { return h.count() == 100 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	// Rewrite the file in place (same inode) with other lines, longer than
	// the saved offset: only the fingerprint tells it is another file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[100:300] {
		f.WriteString(l + "\n")
	}
	f.Close()
	var st struct {
		Inputs map[string]struct {
			FP     string `json:"fp"`
			Offset int64  `json:"offset"`
		} `json:"inputs"`
	}
	b, err := os.ReadFile(filepath.Join(state, "forward.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if p := st.Inputs[path]; p.FP == "" || p.Offset == 0 {
		t.Fatalf("the saved position has no fingerprint: %s", b)
	}
	r = start(t, h.config(t, state, in))
	waitFor(t, "the new file's lines", func() bool { return h.count() >= 300 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	sameLines(t, h.lines(), lines[:300])
}
