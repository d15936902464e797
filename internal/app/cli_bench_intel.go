package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"certnet/internal/auth"
	"certnet/internal/intel"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/taxii"
)

// Targets of issue 4 (1 000 000 indicators).
const (
	benchImportRate = 50000.0 // indicators/s on SQLite
	benchImportHWM  = 1 << 30 // peak resident memory of the import
	benchTAXIIP95   = 100 * time.Millisecond
)

// runBenchIntel: certnet bench intel [--n N] [--reuse] [--postgres URL]
// [--rounds R] [--deep P] [--check] --data DIR. It generates a STIX bundle
// of N indicators of mixed kinds and labels in a temporary file, imports it
// as certnet import stix does (the same service call and options, with a
// progress bar), reports indicators/s and the peak memory of the import,
// then times TAXII object pages of 1 000 through the real HTTP handler.
func runBenchIntel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("bench intel", 0, stderr)
	n := fs.Int("n", 1000000, "indicators to generate and import")
	rounds := fs.Int("rounds", 20, "requests per TAXII measurement")
	deep := fs.Int("deep", 100, "pages of 1 000 to walk with next before timing the deep cursor")
	reuse := fs.Bool("reuse", false, "measure TAXII again on a data folder an earlier bench intel filled (skips generation and import)")
	pg := fs.String("postgres", "", "run on this PostgreSQL database (postgres://…, a fresh one) instead of SQLite in --data")
	check := fs.Bool("check", false, "exit non-zero when a target is missed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file (go tool pprof)")
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	if *n < 1 || *rounds < 1 || *deep < 0 {
		return usagef("--n and --rounds must be positive, --deep not negative")
	}
	if *pg != "" {
		cfg.DB = *pg
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, io.Discard))
	if err != nil {
		return err
	}
	defer a.Close()
	var existing int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM organisations").Scan(&existing); err != nil {
		return err
	}
	var net *benchNet
	ok := true
	switch {
	case *reuse:
		if net, err = benchReload(ctx, a); err != nil {
			return err
		}
		var have int
		if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM intel_indicators WHERE owner_org_id = ?", net.national.ID).Scan(&have); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reusing %d indicators in %s\n", have, a.DB.Where)
	case existing > 0:
		return usagef("the database is not empty: bench needs a fresh one (or --reuse on one an earlier bench intel filled)")
	default:
		if net, err = benchNetwork(ctx, a); err != nil {
			return err
		}
		if ok, err = benchImport(ctx, a, net, *n, *cpuprofile, stdout, stderr); err != nil {
			return err
		}
	}
	tok, err := benchTAXII(ctx, a, net, *rounds, *deep, stdout)
	if err != nil {
		return err
	}
	if *check && !(ok && tok) {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

// benchKinds are the kinds of the generated indicators, by share.
type benchKind struct {
	share int
	make  func(i int, r *rand.Rand) string // the pattern
}

var benchKinds = []benchKind{
	{40, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[ipv4-addr:value = '%d.%d.%d.%d']", 1+i>>24&127, i>>16&255, i>>8&255, i&255)
	}},
	{8, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[ipv6-addr:value = '2001:db8:%x:%x::%x']", i>>16, i&0xffff, r.IntN(0xffff)+1)
	}},
	{18, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[domain-name:value = 'c2-%d.bad-%d.example.vn']", i, r.IntN(500))
	}},
	{10, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[url:value = 'http://phish-%d.example.com/login/%d?id=%d']", r.IntN(5000), i, r.IntN(1000))
	}},
	{14, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[file:hashes.'SHA-256' = '%016x%016x%016x%016x']", r.Uint64(), r.Uint64(), r.Uint64(), uint64(i))
	}},
	{5, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[file:hashes.MD5 = '%016x%016x']", r.Uint64(), uint64(i))
	}},
	{5, func(i int, r *rand.Rand) string {
		return fmt.Sprintf("[email-addr:value = 'lure%d@mail-%d.example.org']", i, r.IntN(300))
	}},
}

// benchMarkings are the labels of the generated indicators, by share.
type benchMarking struct {
	share int
	label string
}

var benchMarkings = []benchMarking{{50, "GREEN"}, {30, "AMBER"}, {15, "CLEAR"}, {5, "AMBER+STRICT"}}

func pick[T any](r *rand.Rand, items []T, share func(T) int) T {
	k := r.IntN(100)
	for _, it := range items {
		if k -= share(it); k < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// benchBundle writes a bundle of n indicators to w.
func benchBundle(w io.Writer, n int, progress func(int)) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(4, 2026))
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fmt.Fprintf(bw, `{"type":"bundle","id":"bundle--%s","objects":[`, "6f1a8b0e-4c2d-4e5f-9a7b-3c1d2e4f5a6b")
	for i := range n {
		if i > 0 {
			bw.WriteByte(',')
		}
		kind := pick(r, benchKinds, func(k benchKind) int { return k.share })
		mark := pick(r, benchMarkings, func(m benchMarking) int { return m.share })
		at := created.Add(time.Duration(i) * time.Second)
		ts := stix.FormatTime(at)
		o := map[string]any{"type": "indicator", "spec_version": "2.1",
			"id":      fmt.Sprintf("indicator--%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(0x10000), r.IntN(0x1000), r.IntN(0x1000), i),
			"created": ts, "modified": ts, "valid_from": ts, "pattern": kind.make(i, r), "pattern_type": "stix",
			"object_marking_refs": []string{stix.TLPMarkingID(mark.label)}, "confidence": 10 * r.IntN(11)}
		switch r.IntN(10) {
		case 0:
			o["valid_until"] = stix.FormatTime(at.AddDate(1, 0, 0))
		case 1:
			o["name"] = "Máy chủ điều khiển mã độc"
			o["labels"] = []string{`rsit:malicious-code="c2-server"`}
		case 2:
			o["kill_chain_phases"] = []map[string]string{{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}}
		}
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		bw.Write(b)
		if progress != nil && (i+1)%10000 == 0 {
			progress(i + 1)
		}
	}
	bw.WriteString("]}")
	return bw.Flush()
}

// peakRSS reads the process's peak resident memory (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the machine's 1-minute load average (Linux), or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// resetPeakRSS starts VmHWM again from the current resident size (Linux).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func newBar(out io.Writer, total int, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("indicators"))
}

func benchImport(ctx context.Context, a *App, net *benchNet, n int, cpuprofile string, stdout, stderr io.Writer) (bool, error) {
	f, err := os.CreateTemp("", "certnet-bench-intel-*.json")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	t0 := time.Now()
	gen := newBar(stderr, n, "generating")
	if err := benchBundle(f, n, func(k int) { gen.Set(k) }); err != nil {
		return false, err
	}
	gen.Finish()
	st, _ := f.Stat()
	fmt.Fprintf(stdout, "\ngenerated a bundle of %d indicators (%.0f MiB) in %s: %s\n", n, float64(st.Size())/(1<<20),
		time.Since(t0).Round(time.Millisecond), f.Name())
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	// As certnet import stix --org VNCERT --tlp AMBER does.
	actor := cliActor()
	actor.OrgID = net.national.ID
	opt := intel.ImportOptions{Name: "bench-intel.json", DefaultTLP: policy.TLPAmber}
	bar := newBar(stderr, n, "import stix")
	opt.Progress = func(k int) { bar.Set(k) }
	restore := batchGC() // as certnet import does
	defer restore()
	runtime.GC()
	resetPeakRSS()
	load0 := loadAvg()
	if cpuprofile != "" {
		pf, err := os.Create(cpuprofile)
		if err != nil {
			return false, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return false, err
		}
	}
	cpu0 := cpuTime()
	t1 := time.Now()
	res, err := a.Intel.ImportSTIX(ctx, actor, f, opt)
	el := time.Since(t1)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	cpu := cpuTime() - cpu0
	bar.Finish()
	if err != nil {
		return false, describe(err)
	}
	hwm := peakRSS()
	// The import is durable at its commit; SQLite's checkpoint (copying it
	// from the WAL into the database file) runs after it, in the
	// background. The TAXII figures are taken once it is done.
	t2 := time.Now()
	a.DB.WaitCheckpoints()
	ckpt := time.Since(t2)
	rate := float64(res.Indicators) / el.Seconds()
	fmt.Fprintf(stdout, "\nimported %d objects (%d kept, %d refused; %d indicators) in %s; load average %s at the start, %s at the end\n",
		res.Total, res.Accepted, res.Rejected, res.Indicators, el.Round(time.Millisecond), load0, loadAvg())
	if res.Indicators > 0 {
		// On a shared machine the wall-clock rate says more about the
		// neighbours than about certnet: the CPU time the import used is
		// the figure that does not move with them.
		fmt.Fprintf(stdout, "%-55s %8.1f µs per indicator (%.1f s user+system, %.0f%% of one CPU while it ran, GOMAXPROCS %d)\n",
			"CPU time of the import", float64(cpu.Microseconds())/float64(res.Indicators), cpu.Seconds(),
			100*cpu.Seconds()/el.Seconds(), runtime.GOMAXPROCS(0))
	}
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	rateOK := rate >= benchImportRate || a.DB.Engine != "sqlite"
	target := fmt.Sprintf("target on SQLite ≥ %.0f/s: %s", benchImportRate, mark(rateOK))
	if a.DB.Engine != "sqlite" {
		target = "the target is SQLite's"
	}
	fmt.Fprintf(stdout, "%-55s %8.0f /s  (%s)\n", "STIX import, streaming ("+string(a.DB.Engine)+")", rate, target)
	fmt.Fprintf(stdout, "%-55s %8.0f MiB (target < %d MiB: %s)\n", "peak resident memory of the import (VmHWM)", float64(hwm)/(1<<20),
		benchImportHWM>>20, mark(hwm < benchImportHWM))
	if a.DB.Engine == "sqlite" {
		fmt.Fprintf(stdout, "%-55s %8.1f s after the commit\n", "WAL checkpoint of the import, in the background", ckpt.Seconds())
	}
	return rateOK && hwm < benchImportHWM && res.Rejected == 0, nil
}

// benchTAXII times GET …/objects/?limit=1000 through the HTTP handler: the
// first page, a page after a deep cursor, with added_after, and the first
// page a member of the network sees.
func benchTAXII(ctx context.Context, a *App, net *benchNet, rounds, deep int, out io.Writer) (bool, error) {
	sys := policy.SystemActor("bench")
	token := func(o org.Org, name string, role policy.Role) (string, error) {
		u, err := a.Auth.CreateUser(ctx, sys, auth.UserInput{OrgID: o.ID, Username: name, DisplayName: "Bench " + name,
			Email: name + "@bench.example.vn", Password: "Bench-password-" + strconv.Itoa(int(o.ID)) + "-long!", Roles: []policy.Role{role}})
		if err != nil && !strings.Contains(err.Error(), "taken") {
			return "", describe(err)
		}
		if err != nil { // --reuse: the user is there
			var id int64
			if err := a.DB.QueryRow(ctx, "SELECT id FROM users WHERE username = ?", name).Scan(&id); err != nil {
				return "", err
			}
			u.ID = id
		}
		_, plain, err := a.Auth.CreateToken(ctx, sys, u.ID, "bench intel", []string{auth.ScopeRead}, time.Time{})
		return plain, describe(err)
	}
	nat, err := token(net.national, "bench-taxii-national", policy.RoleAnalyst)
	if err != nil {
		return false, err
	}
	member, err := token(net.members[0], "bench-taxii-member", policy.RoleAnalyst)
	if err != nil {
		return false, err
	}
	h, err := a.Handler()
	if err != nil {
		return false, err
	}
	green := ""
	for _, c := range taxii.Collections {
		if c.Alias == "indicators-green" {
			green = c.ID
		}
	}
	base := "/taxii2/" + taxii.Root + "/collections/" + green + "/objects/?limit=1000"
	type page struct {
		Objects []json.RawMessage `json:"objects"`
		More    bool              `json:"more"`
		Next    string            `json:"next"`
	}
	get := func(tok, path string) (page, time.Duration, error) {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		t := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(t)
		var p page
		if rec.Code != http.StatusOK {
			return p, d, fmt.Errorf("GET %s: %d %s", path, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		err := json.Unmarshal(rec.Body.Bytes(), &p)
		return p, d, err
	}
	times := func(tok, path string) ([]time.Duration, int, error) {
		var lat []time.Duration
		n := 0
		for range rounds {
			p, d, err := get(tok, path)
			if err != nil {
				return nil, 0, err
			}
			lat = append(lat, d)
			n = len(p.Objects)
		}
		return lat, n, nil
	}
	ok := true
	show := func(name string, lat []time.Duration, n int) {
		report(out, fmt.Sprintf("%s (%d objects)", name, n), lat, benchTAXIIP95)
		ok = ok && pct(lat, 95) < benchTAXIIP95
	}
	lat, k, err := times(nat, base)
	if err != nil {
		return false, err
	}
	show("TAXII first page of 1 000, national analyst", lat, k)
	// Walk deep pages with next; each is a cursor page.
	var walk []time.Duration
	p, _, err := get(nat, base)
	if err != nil {
		return false, err
	}
	cur := p.Next
	for i := 0; i < deep && p.More && cur != ""; i++ {
		var d time.Duration
		if p, d, err = get(nat, base+"&next="+url.QueryEscape(cur)); err != nil {
			return false, err
		}
		walk = append(walk, d)
		if p.More && p.Next != "" {
			cur = p.Next
		}
	}
	if len(walk) > 0 {
		show(fmt.Sprintf("TAXII cursor pages 2–%d (walk with next)", len(walk)+1), walk, 1000)
		if lat, k, err = times(nat, base+"&next="+url.QueryEscape(cur)); err != nil {
			return false, err
		}
		show(fmt.Sprintf("TAXII page after a deep cursor (page %d)", len(walk)+1), lat, k)
	}
	var first time.Time
	if err := a.DB.QueryRow(ctx, "SELECT created_at FROM intel_indicators ORDER BY id LIMIT 1").Scan(&first); err != nil {
		return false, err
	}
	after := first.Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if lat, k, err = times(nat, base+"&added_after="+url.QueryEscape(after)); err != nil {
		return false, err
	}
	show("TAXII page with added_after", lat, k)
	if lat, k, err = times(member, base); err != nil {
		return false, err
	}
	show("TAXII first page of 1 000, a member's view", lat, k)
	return ok, nil
}
