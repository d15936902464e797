package forward_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/forward"
	"certnet/internal/ingest"
	"certnet/internal/org"
	"certnet/internal/testkit"
)

// End to end against the real ingest endpoint: the Suricata alerts go
// through the forwarder, which crashes once after an acknowledged batch and
// sends it again; the source's counters hold every alert once.
func TestForwardToCertnet(t *testing.T) {
	e := apptest.Start(t, testkit.NewSQLite(t))
	ctx := context.Background()
	if err := e.App.OpenBus(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.App.Bus.Close() })
	soc := e.Org("SOC1", "SOC một", 0, org.RoleProvincialSOC)
	src, token, err := e.App.Ingest.CreateSource(ctx, e.Sys, ingest.SourceInput{OrgID: soc.ID, Name: "suricata-1"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, state := filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 5)
	appendLines(t, path, lines...)
	cfg := forward.Config{URL: e.URL, Token: token, State: state, Inputs: []forward.Input{{Format: "suricata", Path: path}},
		BatchLines: 100, Poll: 5e6, Flush: 20e6, RetryMin: 1e6, RetryMax: 20e6, Log: testLogger(t)}
	var sent atomic.Int64
	r := start(t, forward.WithCrash(cfg, func(p string) bool { return p == "sent" && sent.Add(1) == 3 }))
	waitFor(t, "the crash", r.ended)
	if err := r.stop(t); !errors.Is(err, forward.ErrCrash) {
		t.Fatalf("first run: %v", err)
	}
	r = start(t, cfg)
	health := func() ingest.Source {
		s, err := e.App.Ingest.Source(ctx, e.Sys, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor(t, "every alert at the server", func() bool {
		h := health().Health
		return h.Events+h.Rejected >= int64(len(lines)) && r.fw.Stats().Queued == 0
	})
	r.stop(t)
	h := health().Health
	if h.Events != int64(len(lines)) || h.Rejected != 0 || h.Batches == 0 {
		t.Fatalf("server counted %+v for %d alerts", h, len(lines))
	}
}
