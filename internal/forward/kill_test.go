package forward_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"certnet/internal/forward"
)

// TestHelperForwarder is the forwarder run as a child process by
// TestKill9; it does nothing in a normal test run.
func TestHelperForwarder(t *testing.T) {
	if os.Getenv("CERTNET_FORWARD_HELPER") != "1" {
		t.Skip("run by TestKill9")
	}
	fw, err := forward.New(forward.Config{URL: os.Getenv("HUB_URL"), Token: "cns_test", State: os.Getenv("HUB_STATE"),
		Inputs:     []forward.Input{{Format: "suricata", Path: os.Getenv("HUB_INPUT")}},
		BatchLines: 37, Flush: 10 * time.Millisecond, Poll: 2 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	fw.Run(context.Background()) // until killed
}

// A real kill -9 of the forwarder process, again and again while the file
// grows and rotates (numbered as logrotate does, eve.json.1 → .2, and
// dated), often more than once while a forwarder is down or behind: once a
// last run has caught up, the server holds every line exactly once.
// CERTNET_TEST_KILL9_LOG=FILE keeps the children's logs.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts and kills 17 processes (about 2 s)")
	}
	h := newHub(t)
	dir := t.TempDir()
	path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 20)
	rng := rand.New(rand.NewPCG(7, 8))
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperForwarder$")
		cmd.Env = append(os.Environ(), "CERTNET_FORWARD_HELPER=1", "HUB_URL="+h.srv.URL, "HUB_STATE="+state, "HUB_INPUT="+path)
		if log := os.Getenv("CERTNET_TEST_KILL9_LOG"); log != "" {
			cmd.Stderr, _ = os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			cmd.Stdout = cmd.Stderr
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	written := 0
	rotations := 0
	for round := range 16 {
		cmd := child()
		for range 3 {
			n := min(rng.IntN(150), len(lines)-written)
			appendLines(t, path, lines[written:written+n]...)
			written += n
			time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		}
		if round == 0 {
			// A forwarder that never saved a position starts at the file
			// now at the path (not its rotated history): let the first one
			// save one, however slowly the machine starts processes.
			waitFor(t, "the first position saved", func() bool {
				_, err := os.Stat(filepath.Join(state, "forward.json"))
				return err == nil
			})
		}
		if round%3 == 2 {
			rotations++
			if rotations%2 == 0 {
				shiftRotate(t, path)
			} else {
				os.Rename(path, fmt.Sprintf("%s-%04d", path, round))
			}
			n := min(50, len(lines)-written)
			appendLines(t, path, lines[written:written+n]...)
			written += n
		}
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
	}
	appendLines(t, path, lines[written:]...)
	written = len(lines)
	cmd := child()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for h.count() < written && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a doubled batch would arrive now
	sameLines(t, h.lines(), lines)
	t.Logf("%d lines in %d batches, %d requests, 16 kills, %d rotations", written, len(h.keys), h.requests, rotations)
}

// shiftRotate rotates as logrotate does: eve.json.2 → .3, .1 → .2,
// eve.json → .1.
func shiftRotate(t *testing.T, path string) {
	t.Helper()
	last := 0
	for {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", path, last+1)); err != nil {
			break
		}
		last++
	}
	for i := last; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", path, i), fmt.Sprintf("%s.%d", path, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
}
