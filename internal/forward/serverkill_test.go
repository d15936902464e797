package forward_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"certnet/internal/app"
	"certnet/internal/config"
	"certnet/internal/forward"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// TestHelperServe is `certnet serve` run as a child process by
// TestServerKill9; it does nothing in a normal test run.
func TestHelperServe(t *testing.T) {
	if os.Getenv("CERTNET_SERVE_HELPER") != "1" {
		t.Skip("run by TestServerKill9")
	}
	os.Exit(app.Main([]string{"serve", "--data", os.Getenv("SERVE_DATA"), "--addr", os.Getenv("SERVE_ADDR")}, os.Stdout, os.Stderr))
}

// A kill -9 of the server in the middle of a forwarder's run: certnet
// serve runs as a process of its own (this test binary started as
// `certnet serve`) on a data folder with a SOC source, a member's range and
// an indicator; a forwarder sends the real Suricata alerts as they are
// written; the server is killed with SIGKILL twice while batches are in
// flight and started again on the same folder and port. Once the forwarder
// has every batch acknowledged and the pipeline has caught up, every
// acknowledged event is counted exactly once: accepted and processed
// events, batch records and sightings are what the lines make, no more.
func TestServerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts the server three times (about 15 s)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	data, eve, state := filepath.Join(dir, "data"), filepath.Join(dir, "eve.json"), filepath.Join(dir, "state")
	lines := suricataLines(t, 4)
	// The indicator is the source address of some of the alerts; the member
	// owns the honeypot's address, the destination of others.
	const bad, honeypot = "89.248.168.51", "138.68.3.0/24"
	matching := 0
	for _, l := range lines {
		var ev struct {
			Src string `json:"src_ip"`
			Dst string `json:"dest_ip"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Src == bad || ev.Dst == bad {
			matching++
		}
	}
	if matching == 0 {
		t.Fatal("no alert names the indicator: the shared data changed")
	}

	cfg := config.Default()
	cfg.Data = data
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sys := policy.SystemActor("test")
	nat, err := a.Orgs.Create(ctx, sys, org.Input{Code: "VNCERT", Name: "Trung tâm", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	soc, err := a.Orgs.Create(ctx, sys, org.Input{Code: "SOC1", Name: "SOC tỉnh", ParentID: nat.ID, Roles: []org.Role{org.RoleProvincialSOC}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := a.Orgs.Create(ctx, sys, org.Input{Code: "M1", Name: "Thành viên", ParentID: nat.ID, Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Orgs.AddRange(ctx, sys, mem.ID, honeypot, ""); err != nil {
		t.Fatal(err)
	}
	ind, err := a.Intel.Create(ctx, sys, intel.Input{OwnerOrgID: nat.ID, Value: bad, TLP: policy.TLPGreen})
	if err != nil {
		t.Fatal(err)
	}
	src, tok, err := a.Ingest.CreateSource(ctx, sys, ingest.SourceInput{OrgID: soc.ID, Name: "suricata", Quota: 10_000_000})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	addr := freeAddr(t)
	base := "http://" + addr
	var srv *exec.Cmd
	serve := func() {
		t.Helper()
		srv = exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
		srv.Env = append(os.Environ(), "CERTNET_SERVE_HELPER=1", "SERVE_DATA="+data, "SERVE_ADDR="+addr)
		if log := os.Getenv("CERTNET_TEST_KILL9_LOG"); log != "" {
			srv.Stderr, _ = os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			srv.Stdout = srv.Stderr
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the server to listen", func() bool {
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
	}
	serve()
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })

	fcfg := forward.Config{URL: base + "/", Token: tok, State: state, Inputs: []forward.Input{{Format: "suricata", Path: eve}},
		BatchLines: 25, Flush: 20 * time.Millisecond, Poll: 5 * time.Millisecond,
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, StatusEvery: time.Hour, Log: testLogger(t)}
	fw := start(t, fcfg)
	written, kills := 0, 0
	for written < len(lines) {
		n := min(40, len(lines)-written)
		appendLines(t, eve, lines[written:written+n]...)
		written += n
		time.Sleep(15 * time.Millisecond)
		if kills < 2 && written >= (kills+1)*len(lines)/3 {
			// Wait for some acknowledgements, then kill while more are in
			// flight.
			acked := fw.fw.Stats().Accepted
			waitFor(t, "an acknowledgement before the kill", func() bool { return fw.fw.Stats().Accepted > acked })
			srv.Process.Signal(syscall.SIGKILL)
			srv.Wait()
			kills++
			appendLines(t, eve, lines[written:min(written+60, len(lines))]...) // written while the server is down
			written = min(written+60, len(lines))
			time.Sleep(100 * time.Millisecond)
			serve()
		}
	}
	waitFor(t, "every line acknowledged", func() bool {
		s := fw.fw.Stats()
		return s.Lines == int64(len(lines)) && s.Queued == 0 && s.Accepted == int64(len(lines))
	})
	st := fw.fw.Stats()
	if err := fw.stop(t); err != nil {
		t.Fatal(err)
	}
	if st.Retries == 0 {
		t.Fatal("the forwarder never retried: the kills happened outside its run")
	}
	// A clean stop, then the pipeline catches up on the folder.
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
	a, err = app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.OpenBus(ctx); err != nil {
		t.Fatal(err)
	}
	// Batches the killed server had taken from the stream and not yet
	// counted come back once their acknowledgement wait ends (2 minutes in
	// the server): a short one here.
	a.Pipeline.AckWait = 2 * time.Second
	pctx, stop := context.WithCancel(ctx)
	pdone := make(chan struct{})
	go func() { defer close(pdone); a.Pipeline.Run(pctx) }()
	defer func() { stop(); <-pdone }()
	waitFor(t, "the pipeline to catch up", func() bool {
		w, f, err := a.Pipeline.Backlog(ctx)
		return err == nil && w == 0 && f == 0
	})
	got, err := a.Ingest.Source(ctx, sys, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	var batches, keys, accepted int64
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT idem_key), COALESCE(SUM(accepted), 0) FROM ingest_batches
		WHERE source_id = ?`, src.ID).Scan(&batches, &keys, &accepted); err != nil {
		t.Fatal(err)
	}
	var sighted int64
	if err := a.DB.QueryRow(ctx, "SELECT COALESCE(SUM(count), 0) FROM intel_sightings WHERE indicator_id = ?", ind.ID).Scan(&sighted); err != nil {
		t.Fatal(err)
	}
	want := int64(len(lines))
	t.Logf("%d lines in %d batches (%d sent by the forwarder, %d retries), %d kills; accepted %d, processed %d, matches %d, sightings %d of %d",
		want, batches, st.BatchesSent, st.Retries, kills, got.Health.Events, got.Health.ProcessedEvents, got.Health.Matches, sighted, matching)
	if got.Health.Events != want || accepted != want || got.Health.ProcessedEvents != want {
		t.Fatalf("accepted %d (batch records %d), processed %d: want %d each", got.Health.Events, accepted, got.Health.ProcessedEvents, want)
	}
	if batches != keys || got.Health.Batches != batches || got.Health.ProcessedBatches != batches {
		t.Fatalf("%d batch records for %d keys, %d accepted, %d processed", batches, keys, got.Health.Batches, got.Health.ProcessedBatches)
	}
	if got.Health.Matches != int64(matching) || sighted != int64(matching) {
		t.Fatalf("matches %d, sightings %d: want %d", got.Health.Matches, sighted, matching)
	}
}

// freeAddr is a local address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
