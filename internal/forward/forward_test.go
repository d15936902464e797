package forward_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"certnet/internal/forward"
)

// Appends, a partial line, a rotation with a late write to the old file,
// copytruncate and a second rotation: every line arrives once, in order.
func TestTailAppendRotateTruncate(t *testing.T) {
	h := newHub(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "eve.json")
	lines := suricataLines(t, 2)
	appendLines(t, path, lines[:100]...)
	r := start(t, h.config(t, filepath.Join(dir, "state"), forward.Input{Format: "suricata", Path: path}))
	waitFor(t, "the first 100 lines", func() bool { return h.count() == 100 })

	// A line written in two goes is sent whole.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(lines[100][:50])
	time.Sleep(30 * time.Millisecond) // several polls see the half line
	f.WriteString(lines[100][50:] + "\n" + lines[101] + "\n")
	waitFor(t, "the line written in two goes", func() bool { return h.count() == 102 })

	// Rotation: rename, the writer still writes a line to the old file,
	// then a new file at the path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	f.WriteString(lines[102] + "\n")
	f.Close()
	appendLines(t, path, lines[103:200]...)
	waitFor(t, "the lines around the rotation", func() bool { return h.count() == 200 })

	// copytruncate: the file is emptied in place, then written again.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, lines[200:220]...)
	waitFor(t, "the lines after truncation", func() bool { return h.count() == 220 })

	// Rotation to an empty new file, filled later; the old file is removed.
	os.Rename(path, path+".2")
	appendLines(t, path+".2", lines[220:230]...)
	os.WriteFile(path, nil, 0o644)
	waitFor(t, "the old file's last lines", func() bool { return h.count() == 230 })
	os.Remove(path + ".2")
	appendLines(t, path, lines[230:]...)
	waitFor(t, "every line", func() bool { return h.count() == len(lines) })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := h.lines(); !slices.Equal(got, lines) {
		sameLines(t, got, lines)
		t.Fatal("the lines arrived out of order")
	}
	for k, f := range h.formats {
		if f != "suricata" {
			t.Fatalf("batch %s sent as %q", k, f)
		}
	}
	if st := r.fw.Stats(); st.Lines != int64(len(lines)) || st.Queued != 0 || st.SpoolBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A stop (SIGTERM) puts the batch being filled in the spool; the next run
// sends it.
func TestStopFlushesTheBatch(t *testing.T) {
	h := newHub(t)
	h.setRespond(func(string, int, []string) (int, http.Header) { return 503, http.Header{"Retry-After": {"3600"}} })
	dir := t.TempDir()
	path, state := filepath.Join(dir, "alerts.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 1)[:150]
	appendLines(t, path, lines...)
	appendLines(t, path+".w", `{"timestamp":"2026-11-27T00:00:00+0700","rule":{"level":5}}`)
	cfg := h.config(t, state, forward.Input{Format: "suricata", Path: path})
	cfg.BatchLines, cfg.Flush = 1000, time.Hour
	r := start(t, cfg)
	waitFor(t, "the lines read", func() bool { return r.fw.Stats().Lines == 150 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if files := spoolFiles(t, state, "spool"); len(files) != 1 || !strings.HasSuffix(files[0], ".suricata.ndjson.gz") {
		t.Fatalf("spool after stop: %v", files)
	}
	var st struct {
		Inputs map[string]struct{ Offset int64 } `json:"inputs"`
	}
	raw, _ := os.ReadFile(filepath.Join(state, "forward.json"))
	json.Unmarshal(raw, &st)
	fi, _ := os.Stat(path)
	if st.Inputs[path].Offset != fi.Size() {
		t.Fatalf("saved offset %d, file size %d", st.Inputs[path].Offset, fi.Size())
	}
	h.setRespond(nil)
	r = start(t, cfg)
	waitFor(t, "the spooled batch", func() bool { return h.count() == 150 })
	r.stop(t)
	sameLines(t, h.lines(), lines)
	if len(h.keys) != 1 {
		t.Fatalf("%d batches, want 1", len(h.keys))
	}
}

// Crashes at every point of the path — after a read, between the spool
// write and the offset save, after the save, before a send, after an
// acknowledged send — with the file growing and rotating between runs and
// the server failing now and then: once a last run has finished, the
// server holds every line exactly once (batches deduplicated by key).
func TestCrashRestartExactlyOnce(t *testing.T) {
	h := newHub(t)
	var failures atomic.Int64
	h.setRespond(func(key string, attempt int, _ []string) (int, http.Header) {
		if attempt == 1 && len(key)%3 == 0 {
			failures.Add(1)
			return 500, nil
		}
		return 0, nil
	})
	dir := t.TempDir()
	path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 20)
	rng := rand.New(rand.NewPCG(5, 6))
	written, rotations := 0, 0
	write := func(n int) {
		n = min(n, len(lines)-written)
		appendLines(t, path, lines[written:written+n]...)
		written += n
	}
	points := []string{"read", "spooled", "saved", "sending", "sent"}
	crashes := map[string]int{}
	for round := range 40 {
		point := points[round%len(points)]
		at := int64(1 + rng.IntN(4))
		var calls atomic.Int64
		cfg := forward.WithCrash(h.config(t, state, forward.Input{Format: "suricata", Path: path}),
			func(p string) bool { return p == point && calls.Add(1) == at })
		cfg.BatchLines = 10 + rng.IntN(50)
		write(rng.IntN(60))
		if round%6 == 5 { // rotated while the forwarder is down
			rotations++
			os.Rename(path, fmt.Sprintf("%s.%d", path, rotations))
			n := min(5, len(lines)-written)
			appendLines(t, fmt.Sprintf("%s.%d", path, rotations), lines[written:written+n]...)
			written += n
		}
		r := start(t, cfg)
		write(rng.IntN(60))
		if round%6 == 2 { // rotated while it runs
			rotations++
			os.Rename(path, fmt.Sprintf("%s.%d", path, rotations))
			write(rng.IntN(30))
		}
		waitFor(t, "a crash or every line", func() bool { return r.ended() || h.count() >= written })
		err := r.stop(t)
		if errors.Is(err, forward.ErrCrash) {
			crashes[point]++
		} else if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	write(len(lines))
	r := start(t, h.config(t, state, forward.Input{Format: "suricata", Path: path}))
	// Every line at the server and every batch acknowledged (a batch the
	// server recorded just as a run stopped is sent again, and replayed).
	waitFor(t, "every line after the crashes", func() bool { return h.count() >= written && r.fw.Stats().Queued == 0 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	sameLines(t, h.lines(), lines[:written])
	if written != len(lines) {
		t.Fatalf("wrote %d of %d lines", written, len(lines))
	}
	for _, p := range points {
		if crashes[p] == 0 {
			t.Errorf("no crash at %q (crashes %v)", p, crashes)
		}
	}
	if f := spoolFiles(t, state, "spool"); len(f) != 0 {
		t.Fatalf("spool not empty at the end: %v", f)
	}
	if failures.Load() == 0 {
		t.Fatal("the server never failed: retries untested")
	}
	t.Logf("%d lines, %d batches, %d requests, crashes %v, %d rotations, %d failures", written, len(h.keys), h.requests, crashes, rotations, failures.Load())
}

// A full spool stops the reading; nothing is dropped, and once the server
// answers again every line arrives once.
func TestBackPressure(t *testing.T) {
	h := newHub(t)
	gate := make(chan struct{})
	h.setRespond(func(string, int, []string) (int, http.Header) { <-gate; return 0, nil })
	dir := t.TempDir()
	path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 3)
	appendLines(t, path, lines...)
	cfg := h.config(t, state, forward.Input{Format: "suricata", Path: path})
	cfg.BatchLines, cfg.MaxBuffer = 20, 1
	r := start(t, cfg)
	waitFor(t, "the input paused", func() bool { return r.fw.Stats().Paused })
	time.Sleep(50 * time.Millisecond) // let it try to read on
	st := r.fw.Stats()
	if n := len(spoolFiles(t, state, "spool")); st.Lines >= int64(len(lines)) || n > 3 || st.Queued > 2 {
		t.Fatalf("reading went on with a full spool: %+v, %d spool files", st, n)
	}
	close(gate)
	waitFor(t, "every line", func() bool { return h.count() == len(lines) })
	r.stop(t)
	sameLines(t, h.lines(), lines)
}

// A batch the server refuses for good (400) goes to rejected/ with a note,
// is tried once, and the rest goes on; a refused token stalls without
// rejecting anything until the server takes it.
func TestRefusedBatches(t *testing.T) {
	h := newHub(t)
	h.setRespond(func(_ string, _ int, lines []string) (int, http.Header) {
		for _, l := range lines {
			if strings.Contains(l, "poison") {
				return 400, nil
			}
		}
		return 0, nil
	})
	dir := t.TempDir()
	path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 1)[:60]
	poison := `{"poison":true}`
	appendLines(t, path, lines[:30]...)
	appendLines(t, path, poison)
	appendLines(t, path, lines[30:]...)
	cfg := h.config(t, state, forward.Input{Format: "suricata", Path: path})
	cfg.BatchLines = 10
	r := start(t, cfg)
	waitFor(t, "every batch sent or refused", func() bool {
		st := r.fw.Stats()
		return st.BatchesRejected == 1 && st.Queued == 0 && h.count() == 51 // 60 good lines less 9 beside the bad one
	})
	rej := spoolFiles(t, state, "rejected")
	if len(rej) != 2 || !strings.HasSuffix(rej[0], ".ndjson.gz") || rej[1] != rej[0]+".txt" {
		t.Fatalf("rejected/: %v", rej)
	}
	note, _ := os.ReadFile(filepath.Join(state, "rejected", rej[1]))
	if !strings.Contains(string(note), "HTTP 400") || !strings.Contains(string(note), "Idempotency-Key fwd-") {
		t.Fatalf("note: %s", note)
	}
	zf, _ := os.Open(filepath.Join(state, "rejected", rej[0]))
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(zr)
	zf.Close()
	if !bytes.Contains(kept, []byte(poison)) {
		t.Fatalf("the rejected batch does not hold the refused line: %s", kept)
	}
	h.mu.Lock()
	for k, n := range h.attempts {
		if n != 1 {
			t.Errorf("batch %s tried %d times", k, n)
		}
	}
	h.mu.Unlock()
	r.stop(t)
	// Every line is either at the server or in the refused batch.
	got := append(h.lines(), strings.Split(strings.TrimSpace(string(kept)), "\n")...)
	sameLines(t, got, append(slices.Clone(lines), poison))
	delivered := h.count()

	// A token the server does not know: retried, never rejected.
	h.mu.Lock()
	h.token = "cns_other"
	before := h.requests
	h.mu.Unlock()
	appendLines(t, path, lines[:5]...)
	r = start(t, cfg)
	waitFor(t, "retries with a refused token", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.requests >= before+3 })
	if st := r.fw.Stats(); st.BatchesRejected != 0 || st.Queued != 1 {
		t.Fatalf("with a refused token: %+v", st)
	}
	r.stop(t)
	h.mu.Lock()
	h.token = "cns_test"
	h.mu.Unlock()
	r = start(t, cfg)
	waitFor(t, "the batch once the token is taken", func() bool { return h.count() == delivered+5 })
	r.stop(t)
}

// 429 and 503 are retried no sooner than Retry-After says; 500 with the
// backoff.
func TestRetryAfter(t *testing.T) {
	h := newHub(t)
	h.setRespond(func(key string, attempt int, _ []string) (int, http.Header) {
		switch attempt {
		case 1:
			return 429, http.Header{"Retry-After": {"7"}}
		case 2:
			return 503, http.Header{"Retry-After": {"2"}}
		case 3:
			return 500, nil
		}
		return 0, nil
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "eve.json")
	lines := suricataLines(t, 1)[:10]
	appendLines(t, path, lines...)
	var mu sync.Mutex
	var waits []time.Duration
	cfg := forward.WithSleep(h.config(t, filepath.Join(dir, "state"), forward.Input{Format: "suricata", Path: path}),
		func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return ctx.Err()
		})
	cfg.BatchLines = 10
	r := start(t, cfg)
	waitFor(t, "the batch", func() bool { return h.count() == 10 })
	r.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 3 || waits[0] < 7*time.Second || waits[1] < 2*time.Second || waits[2] > cfg.RetryMax || waits[2] < 0 {
		t.Fatalf("waits %v", waits)
	}
	if st := r.fw.Stats(); st.Retries != 3 || st.BatchesSent != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Two inputs of different formats are sent each under its own format, and
// a second forwarder on the same state folder is refused.
func TestTwoInputsAndLock(t *testing.T) {
	h := newHub(t)
	dir := t.TempDir()
	eve, wazuh, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "alerts.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 1)
	w := []string{
		`{"timestamp":"2026-11-27T01:00:00.000+0700","rule":{"level":10,"description":"sshd: brute force","id":"5712"},"agent":{"id":"001","name":"web1"},"data":{"srcip":"8.42.77.171"}}`,
		`{"timestamp":"2026-11-27T01:00:01.000+0700","rule":{"level":5,"description":"login failed","id":"5503"},"agent":{"id":"001","name":"web1"},"data":{"srcip":"138.68.3.71"}}`,
	}
	appendLines(t, eve, lines...)
	appendLines(t, wazuh, w...)
	cfg := h.config(t, state, forward.Input{Format: "suricata", Path: eve}, forward.Input{Format: "wazuh", Path: wazuh})
	r := start(t, cfg)
	waitFor(t, "both inputs", func() bool { return h.count() == len(lines)+len(w) })
	fw2, _ := forward.New(cfg)
	if err := fw2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second forwarder on the same state: %v", err)
	}
	r.stop(t)
	sameLines(t, h.lines(), append(slices.Clone(lines), w...))
	for k, lines := range h.batches {
		want := "suricata"
		if strings.Contains(lines[0], `"rule"`) {
			want = "wazuh"
		}
		if h.formats[k] != want {
			t.Fatalf("batch %s sent as %q, holds %s", k, h.formats[k], lines[0][:40])
		}
	}
}

func TestConfigRefused(t *testing.T) {
	good := forward.Config{URL: "https://hub/", Token: "t", State: t.TempDir(), Inputs: []forward.Input{{Path: "/x"}}}
	for name, mod := range map[string]func(*forward.Config){
		"no url":     func(c *forward.Config) { c.URL = "" },
		"bad url":    func(c *forward.Config) { c.URL = "ftp://hub/" },
		"no token":   func(c *forward.Config) { c.Token = "" },
		"no state":   func(c *forward.Config) { c.State = "" },
		"no input":   func(c *forward.Config) { c.Inputs = nil },
		"same input": func(c *forward.Config) { c.Inputs = []forward.Input{{Path: "/x"}, {Format: "wazuh", Path: "/x"}} },
	} {
		c := good
		mod(&c)
		if _, err := forward.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := forward.New(good); err != nil {
		t.Fatal(err)
	}
}
