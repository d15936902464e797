package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"certnet/internal/ingest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Targets of issue 5, end to end through POST /ingest/v1/events.
const (
	benchIngestSQLite   = 100000.0 // alerts/s
	benchIngestPostgres = 60000.0
	benchIngestHalfP99  = 250 * time.Millisecond
	benchIngestHWM      = 2 << 30
)

// benchIngestKinds are the indicator kinds loaded, each --indicators times.
var benchIngestKinds = []string{"ipv4", "ipv6", "cidr", "domain", "url", "md5", "sha1", "sha256"}

// benchIndicator is the i-th generated indicator of a kind; alerts name
// some of them, so matches are made against a full-size index.
func benchIndicator(kind string, i int) string {
	switch kind {
	case "ipv4": // 100.64.0.0/10
		return fmt.Sprintf("100.%d.%d.%d", 64+(i>>16)&63, (i>>8)&255, i&255)
	case "ipv6":
		return fmt.Sprintf("2001:db8:%x:%x::1", (i>>16)&0xffff, i&0xffff)
	case "cidr": // /24s of 32.0.0.0–47.255.255.0
		return fmt.Sprintf("%d.%d.%d.0/24", 32+(i>>16)&15, (i>>8)&255, i&255)
	case "domain":
		return fmt.Sprintf("c2-%d.bad-%d.example.net", i, i%997)
	case "url":
		return fmt.Sprintf("http://phish-%d.example.com/login/%d", i%5000, i)
	case "md5", "sha1", "sha256":
		n := map[string]int{"md5": 16, "sha1": 20, "sha256": 32}[kind]
		b := make([]byte, n)
		r := rand.New(rand.NewPCG(uint64(i), uint64(len(kind))))
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		return fmt.Sprintf("%x", b)
	}
	return ""
}

// benchRange is the i-th member range: /26s in 10.0.0.0/8.
func benchRange(i int) string {
	a := i << 6
	return fmt.Sprintf("10.%d.%d.%d/26", (a>>16)&255, (a>>8)&255, a&255)
}

// runBenchIngest: certnet bench ingest [--indicators N] [--ranges N]
// [--seconds S] [--clients C] [--batch B] [--eve DIR] [--reuse]
// [--postgres URL] [--check] --data DIR.
func runBenchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("bench ingest", 0, stderr)
	nInd := fs.Int("indicators", 1000000, "indicators of each kind ("+strings.Join(benchIngestKinds, ", ")+")")
	nRanges := fs.Int("ranges", 100000, "member address ranges")
	secs := fs.Float64("seconds", 20, "how long each measurement (full rate, half rate) drives the API")
	clients := fs.Int("clients", 4, "concurrent HTTP clients")
	batch := fs.Int("batch", 5000, "alerts per batch (one gzip NDJSON body)")
	eveDir := fs.String("eve", "", "folder of Suricata EVE alert files used as templates (default: ../shared/data/suricata above the working folder)")
	reuse := fs.Bool("reuse", false, "measure again on a data folder an earlier bench ingest filled (skips the loads)")
	pg := fs.String("postgres", "", "run on this PostgreSQL database (postgres://…, a fresh one) instead of SQLite in --data")
	check := fs.Bool("check", false, "exit non-zero when a target is missed")
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	if *nInd < 0 || *nRanges < 1 || *secs <= 0 || *clients < 1 || *batch < 1 || *batch > ingest.DefaultMaxEvents {
		return usagef("--ranges, --seconds, --clients and --batch must be positive (--batch at most %d), --indicators not negative", ingest.DefaultMaxEvents)
	}
	if *pg != "" {
		cfg.DB = *pg
	}
	templates, err := benchEVETemplates(*eveDir)
	if err != nil {
		return err
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, io.Discard))
	if err != nil {
		return err
	}
	defer a.Close()
	target := benchIngestSQLite
	if a.DB.Engine == store.Postgres {
		target = benchIngestPostgres
	}
	var existing int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM organisations").Scan(&existing); err != nil {
		return err
	}
	var bn *benchNet
	switch {
	case *reuse:
		if bn, err = benchReload(ctx, a); err != nil {
			return err
		}
		var r, i int
		if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM org_ranges").Scan(&r); err != nil {
			return err
		}
		if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM intel_indicators").Scan(&i); err != nil {
			return err
		}
		if r < *nRanges {
			return usagef("--reuse: this data folder holds %d ranges, fewer than --ranges %d", r, *nRanges)
		}
		fmt.Fprintf(stdout, "reusing %d ranges and %d indicators in %s\n", r, i, a.DB.Where)
	case existing > 0:
		return usagef("the database is not empty: bench needs a fresh one (or --reuse on one an earlier bench ingest filled)")
	default:
		if bn, err = benchNetwork(ctx, a); err != nil {
			return err
		}
		if err := benchLoadRanges(ctx, a, bn, *nRanges, stderr, stdout); err != nil {
			return err
		}
		if err := benchLoadIndicators(ctx, a, bn, *nInd, stderr, stdout); err != nil {
			return err
		}
	}
	sys := policy.SystemActor("bench")
	src, tok, err := a.Ingest.CreateSource(ctx, sys, ingest.SourceInput{OrgID: bn.units[0].ID,
		Name: "bench " + time.Now().UTC().Format("2006-01-02 15:04:05.000"), Quota: 100_000_000})
	if err != nil {
		return err
	}
	if err := a.OpenBus(ctx); err != nil {
		return err
	}
	resetPeakRSS()
	t0 := time.Now()
	pctx, stop := context.WithCancel(ctx)
	pdone := make(chan error, 1)
	go func() { pdone <- a.Pipeline.Run(pctx) }()
	defer func() { stop(); <-pdone }()
	for a.Pipeline.Indicators() < 0 {
		select {
		case err := <-pdone:
			pdone <- err
			return fmt.Errorf("the pipeline stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	fmt.Fprintf(stdout, "%-55s %8.1f s  (%d indicators indexed, %d member ranges)\n", "matcher built", time.Since(t0).Seconds(),
		a.Pipeline.Indicators(), *nRanges)

	bodies, matching, err := benchEVEBodies(templates, *batch, *nInd, *nRanges, 24)
	if err != nil {
		return err
	}
	h, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	d := &benchDriver{url: "http://" + ln.Addr().String() + "/ingest/v1/events", token: tok, bodies: bodies, batch: *batch,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients * 2}, Timeout: 2 * time.Minute}}
	dur := time.Duration(*secs * float64(time.Second))

	fmt.Fprintf(stdout, "driving %s with %d clients, batches of %d alerts (%d KiB gzipped), %.0f s per measurement; load average %s\n",
		d.url, *clients, *batch, len(bodies[0])>>10, *secs, benchLoad())
	full, err := d.run(ctx, *clients, dur, 0)
	if err != nil {
		return err
	}
	drained, err := benchDrain(ctx, a)
	if err != nil {
		return err
	}
	ackRate := float64(full.alerts) / full.elapsed.Seconds()
	e2eRate := float64(full.alerts) / (full.elapsed + drained).Seconds()
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(stdout, "%-55s %8.0f /s\n", "full rate: alerts acknowledged (durable)", ackRate)
	fmt.Fprintf(stdout, "%-55s %8.0f /s  (target ≥ %.0f/s: %s; pipeline caught up %.1f s after the last ack)\n",
		"full rate: alerts acknowledged and through the pipeline", e2eRate, target, mark(e2eRate >= target), drained.Seconds())
	benchLatency(stdout, "full rate: acknowledgement latency", full.lat, 0)

	half := e2eRate / 2
	res, err := d.run(ctx, *clients, dur, half)
	if err != nil {
		return err
	}
	if _, err := benchDrain(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-55s %8.0f /s  (asked %.0f/s)\n", "half rate: alerts acknowledged", float64(res.alerts)/res.elapsed.Seconds(), half)
	halfOK := benchLatency(stdout, "half rate: acknowledgement latency", res.lat, benchIngestHalfP99)

	got, err := a.Ingest.Source(ctx, sys, src.ID)
	if err != nil {
		return err
	}
	sent := full.alerts + res.alerts
	fmt.Fprintf(stdout, "%-55s %d of %d acknowledged, %d matches (%d alerts name an indicator)\n", "events counted by the pipeline",
		got.Health.ProcessedEvents, sent, got.Health.Matches, int64(matching)*(full.batches+res.batches))
	hwm := peakRSS()
	fmt.Fprintf(stdout, "%-55s %8.0f MiB (target < %d MiB: %s); load average %s\n", "peak resident memory (VmHWM)",
		float64(hwm)/(1<<20), benchIngestHWM>>20, mark(hwm < benchIngestHWM), benchLoad())
	if got.Health.ProcessedEvents != sent {
		return fmt.Errorf("the pipeline counted %d events, %d were acknowledged", got.Health.ProcessedEvents, sent)
	}
	if named := int64(matching) * (full.batches + res.batches); got.Health.Matches != named {
		return fmt.Errorf("the pipeline matched %d events, %d name an indicator", got.Health.Matches, named)
	}
	if *check && !(e2eRate >= target && halfOK && hwm < benchIngestHWM) {
		return errors.New("a target was missed")
	}
	return nil
}

func benchLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// benchLoadRanges gives the members n /26 ranges through the bulk loader.
func benchLoadRanges(ctx context.Context, a *App, net *benchNet, n int, bars, out io.Writer) error {
	in := make([]org.BulkRange, n)
	for i := range in {
		in[i] = org.BulkRange{OrgID: net.members[i%len(net.members)].ID, CIDR: benchRange(i)}
	}
	bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(bars), progressbar.OptionSetDescription("member ranges"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("ranges"))
	t0 := time.Now()
	_, err := a.Orgs.BulkAddRanges(ctx, policy.SystemActor("bench"), in, org.BulkOptions{Batch: 20000,
		Progress: func(done, _ int) { bar.Set(done) }})
	bar.Finish()
	fmt.Fprintln(bars)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%-55s %8.0f /s  (%d in %.1f s)\n", "member ranges loaded", float64(n)/time.Since(t0).Seconds(), n, time.Since(t0).Seconds())
	return nil
}

// benchLoadIndicators stores n indicators of each kind straight into the
// store, in multi-row inserts (the generator is not what is measured; the
// STIX import is, by certnet bench intel).
func benchLoadIndicators(ctx context.Context, a *App, net *benchNet, n int, bars, out io.Writer) error {
	if n == 0 {
		return nil
	}
	total := n * len(benchIngestKinds)
	bar := newBar(bars, total, "indicators")
	t0 := time.Now()
	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	const per, txRows = 500, 50000
	tlps := []string{"GREEN", "GREEN", "AMBER", "CLEAR"}
	done := 0
	for _, kind := range benchIngestKinds {
		for lo := 0; lo < n; lo += txRows {
			hi := min(lo+txRows, n)
			err := a.DB.InTx(ctx, func(tx *store.Tx) error {
				args := make([]any, 0, per*8)
				for i := lo; i < hi; i += per {
					m := min(per, hi-i)
					args = args[:0]
					for j := i; j < i+m; j++ {
						args = append(args, net.national.ID, kind, benchIndicator(kind, j), 40+j%60, now, tlps[j%len(tlps)], now, now)
					}
					q := "INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, confidence, valid_from, tlp, stix_id, created_at, updated_at) VALUES " +
						strings.TrimSuffix(strings.Repeat("(?, ?, ?, '', ?, ?, ?, '', ?, ?), ", m), ", ")
					if _, err := tx.Exec(ctx, q, args...); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			done += hi - lo
			bar.Set(done)
		}
	}
	bar.Finish()
	fmt.Fprintln(bars)
	fmt.Fprintf(out, "%-55s %8.0f /s  (%d in %.1f s)\n", "indicators loaded", float64(total)/time.Since(t0).Seconds(), total, time.Since(t0).Seconds())
	return nil
}

// benchEVETemplates reads the Suricata alerts the generated ones are made
// from: every *.json file of dir (a JSON array of EVE objects, or EVE
// lines), keeping the alerts.
func benchEVETemplates(dir string) ([]map[string]any, error) {
	if dir == "" {
		wd, _ := os.Getwd()
		for range 8 {
			p := filepath.Join(wd, "..", "shared", "data", "suricata")
			if _, err := os.Stat(p); err == nil {
				dir = p
				break
			}
			wd = filepath.Dir(wd)
		}
		if dir == "" {
			return nil, usagef("no Suricata templates found: give --eve DIR (a folder of EVE alert files)")
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var arr []map[string]any
		if err := json.Unmarshal(b, &arr); err != nil {
			arr = arr[:0]
			for _, l := range bytes.Split(b, []byte("\n")) {
				var m map[string]any
				if json.Unmarshal(l, &m) == nil {
					arr = append(arr, m)
				}
			}
		}
		for _, m := range arr {
			if m["event_type"] == "alert" {
				if _, ok := m["alert"].(map[string]any); ok {
					out = append(out, m)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, usagef("no Suricata alerts in %s", dir)
	}
	return out, nil
}

// benchEVEBodies makes count gzip NDJSON bodies of batch alerts each, from
// the templates: the destination is an address of a member range, the
// source an outside one, and one alert in 50 names an indicator (an IPv4
// source, an address inside a CIDR indicator, a TLS name or an HTTP URL).
// matching is how many alerts of a body name one.
func benchEVEBodies(templates []map[string]any, batch, nInd, nRanges, count int) (bodies [][]byte, matching int, err error) {
	rng := rand.New(rand.NewPCG(5, 5))
	ts := time.Now().UTC()
	var raw bytes.Buffer
	for b := range count {
		raw.Reset()
		m := 0
		for i := range batch {
			ev := map[string]any{}
			for k, v := range templates[rng.IntN(len(templates))] {
				ev[k] = v
			}
			delete(ev, "tls")
			delete(ev, "http")
			k := b*batch + i
			ev["timestamp"] = ts.Add(time.Duration(k) * time.Millisecond).Format("2006-01-02T15:04:05.000000-0700")
			ev["flow_id"] = 1_000_000_000 + k
			r := rng.IntN(nRanges) << 6
			ev["dest_ip"] = fmt.Sprintf("10.%d.%d.%d", (r>>16)&255, (r>>8)&255, r&255+1+rng.IntN(62))
			ev["src_ip"] = fmt.Sprintf("198.%d.%d.%d", 18+rng.IntN(2), rng.IntN(256), 1+rng.IntN(254))
			if nInd > 0 && k%50 == 0 {
				m++
				j := rng.IntN(nInd)
				switch (k / 50) % 4 {
				case 0:
					ev["src_ip"] = benchIndicator("ipv4", j)
				case 1:
					ev["src_ip"] = strings.TrimSuffix(benchIndicator("cidr", j), "0/24") + fmt.Sprint(1+rng.IntN(254))
				case 2:
					ev["tls"] = map[string]any{"sni": benchIndicator("domain", j), "version": "TLS 1.2"}
				case 3:
					u := strings.TrimPrefix(benchIndicator("url", j), "http://")
					host, path, _ := strings.Cut(u, "/")
					ev["http"] = map[string]any{"hostname": host, "url": "/" + path, "http_method": "GET", "protocol": "HTTP/1.1"}
					// An HTTP alert is on port 80: the decoder writes a URL on
					// another port with it, which a URL indicator without a
					// port does not name.
					ev["proto"], ev["dest_port"], ev["src_port"] = "TCP", 80, 1024+rng.IntN(60000)
				}
			}
			line, err := json.Marshal(ev)
			if err != nil {
				return nil, 0, err
			}
			raw.Write(line)
			raw.WriteByte('\n')
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
		zw.Write(raw.Bytes())
		zw.Close()
		bodies = append(bodies, z.Bytes())
		matching = m
	}
	return bodies, matching, nil
}

type benchDriver struct {
	url, token string
	bodies     [][]byte
	batch      int
	client     *http.Client
	seq        atomic.Int64
}

type benchRun struct {
	alerts, batches int64
	elapsed         time.Duration
	lat             []time.Duration
}

// run posts batches from clients goroutines for dur: as fast as they are
// answered when rate is 0, else paced to rate alerts/s in total.
func (d *benchDriver) run(ctx context.Context, clients int, dur time.Duration, rate float64) (benchRun, error) {
	var res benchRun
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	end := start.Add(dur)
	var tick <-chan time.Time
	if rate > 0 {
		every := time.Duration(float64(d.batch) / rate * float64(time.Second))
		t := time.NewTicker(max(every, time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				if tick != nil {
					select {
					case <-tick:
					case <-time.After(time.Until(end)):
						return
					}
				}
				n := d.seq.Add(1)
				req, _ := http.NewRequestWithContext(ctx, "POST", d.url, bytes.NewReader(d.bodies[int(n)%len(d.bodies)]))
				req.Header.Set("Authorization", "Bearer "+d.token)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d-%d", start.UnixNano(), n))
				req.Header.Set("X-Certnet-Format", "suricata")
				req.Header.Set("Content-Type", "application/x-ndjson")
				req.Header.Set("Content-Encoding", "gzip")
				t0 := time.Now()
				resp, err := d.client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("batch answered %s", resp.Status)
					}
				}
				lat := time.Since(t0)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				res.lat = append(res.lat, lat)
				res.batches++
				res.alerts += int64(d.batch)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res, firstErr
}

// benchDrain waits until the pipeline has processed every batch in the
// stream, and says how long that took.
func benchDrain(ctx context.Context, a *App) (time.Duration, error) {
	t0 := time.Now()
	for {
		w, f, err := a.Pipeline.Backlog(ctx)
		if err != nil {
			return 0, err
		}
		if w == 0 && f == 0 {
			return time.Since(t0), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// benchLatency prints p50/p95/p99 and reports whether p99 is under the
// target (0: no target).
func benchLatency(out io.Writer, name string, lat []time.Duration, target time.Duration) bool {
	slices.Sort(lat)
	at := func(p int) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, len(lat)*p/100)].Microseconds()) / 1000
	}
	ok := target == 0 || (len(lat) > 0 && at(99) < float64(target.Microseconds())/1000)
	fmt.Fprintf(out, "%-55s p50 %7.1f ms  p95 %7.1f ms  p99 %7.1f ms  (%d batches", name, at(50), at(95), at(99), len(lat))
	if target > 0 {
		m := "ok"
		if !ok {
			m = "MISSED"
		}
		fmt.Fprintf(out, "; target p99 < %s: %s", target, m)
	}
	fmt.Fprintln(out, ")")
	return ok
}
