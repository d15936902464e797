package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/taxii"
)

// BenchmarkTAXIIPages stores CERTNET_BENCH_TAXII_N shared objects (default
// 1 000 000) over a national centre, two provinces and twelve members
// (SeedShared), then times GET objects?limit=1000 through the whole HTTP
// stack: the first page of GREEN, a deep page (cursor at 90 %), an
// added_after page, a member's AMBER (its own only among 300 000) and a
// province's AMBER (its scope). Each iteration reads every case once; it
// reports p50 and p95 per case in ms, and the CPU time per page.
//
//	go test ./internal/taxii/ -run '^$' -bench TAXIIPages -benchtime 40x
//
// CERTNET_BENCH_TAXII_DIR keeps the database; CERTNET_BENCH_TAXII_REUSE=1
// reads it again without seeding.
func BenchmarkTAXIIPages(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CERTNET_BENCH_TAXII_N")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	w := benchSeed(b, n)
	e := apptest.Start(b, w.db)
	natTok, hnTok, memTok, start := w.natTok, w.hnTok, w.memTok, w.start
	deep, err := taxii.DeepCursor(ctx, e.DB, 0.9)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, tok, col string
		q              url.Values
		want           int // objects the page must hold at least
	}{
		{"first", natTok, "indicators-green", url.Values{"limit": {"1000"}}, 1000},
		{"deep", natTok, "indicators-green", url.Values{"limit": {"1000"}, "next": {taxii.NextParam(deep)}}, 1000},
		{"added_after", natTok, "indicators-green", url.Values{"limit": {"1000"},
			"added_after": {start.Add(time.Duration(n/4) * time.Millisecond).Format(time.RFC3339Nano)}}, 1000},
		{"member_amber", memTok, "amber", url.Values{"limit": {"1000"}}, min(1000, n/15*6/20)},
		{"province_amber", hnTok, "amber", url.Values{"limit": {"1000"}}, 1000},
	}
	times := make([][]time.Duration, len(cases))
	get := func(i int) {
		c := cases[i]
		req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+taxii.BenchPath(c.col, c.q), nil)
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Authorization", "Bearer "+c.tok)
		t := time.Now()
		res, err := e.Srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		times[i] = append(times[i], time.Since(t))
		var p struct {
			Objects []json.RawMessage `json:"objects"`
		}
		if res.StatusCode != 200 || json.Unmarshal(body, &p) != nil || len(p.Objects) < c.want {
			b.Fatalf("%s: %d, %d objects (want %d)", c.name, res.StatusCode, len(p.Objects), c.want)
		}
	}
	for i := range cases {
		get(i) // warm
		times[i] = nil
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	c0 := cpu()
	for range b.N {
		for i := range cases {
			get(i)
		}
	}
	used := cpu() - c0
	b.StopTimer()
	// The process's CPU time per page (server and client), which the
	// machine's load does not stretch as it does the wall times.
	b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N*len(cases)), "cpu_ms/page")
	for i, c := range cases {
		d := times[i]
		slices.Sort(d)
		p50, p95 := d[len(d)/2], d[min(len(d)-1, len(d)*95/100)]
		b.ReportMetric(float64(p50.Microseconds())/1000, c.name+"_p50_ms")
		b.ReportMetric(float64(p95.Microseconds())/1000, c.name+"_p95_ms")
	}
}

// benchWorld is the seeded database, kept for the benchmark's second run
// in the process (Go runs it with b.N = 1 first).
type benchWorld struct {
	db                    *store.DB
	n                     int
	natTok, hnTok, memTok string
	start                 time.Time
}

var benchOnce struct {
	sync.Mutex
	w *benchWorld
}

// benchSeed makes (once per process) a SQLite database in
// CERTNET_BENCH_TAXII_DIR (a temporary directory when unset) with a
// national centre, two provinces, twelve members and n objects; with
// CERTNET_BENCH_TAXII_REUSE=1 it opens the one an earlier run left there.
func benchSeed(b *testing.B, n int) *benchWorld {
	benchOnce.Lock()
	defer benchOnce.Unlock()
	if w := benchOnce.w; w != nil && w.n == n {
		return w
	}
	ctx := context.Background()
	dir := os.Getenv("CERTNET_BENCH_TAXII_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "taxii-bench"); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(dir, "certnet.db")
	reuse := os.Getenv("CERTNET_BENCH_TAXII_REUSE") != ""
	if !reuse {
		os.Remove(path)
	}
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	e := apptest.Start(b, db)
	if reuse {
		// The database of an earlier run: its organisations, new users.
		ids := map[string]int64{}
		for _, code := range []string{"VNCERT", "HN", "M00"} {
			var id int64
			if err := db.QueryRow(ctx, "SELECT id FROM organisations WHERE code = ?", code).Scan(&id); err != nil {
				b.Fatalf("reuse %s: %v (run once without CERTNET_BENCH_TAXII_REUSE)", path, err)
			}
			ids[code] = id
		}
		var start time.Time
		if err := db.QueryRow(ctx, "SELECT updated_at FROM intel_indicators ORDER BY id LIMIT 1").Scan(&start); err != nil {
			b.Fatal(err)
		}
		sfx := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
		w := &benchWorld{db: db, n: n, start: start.UTC(),
			natTok: e.Token(e.User(ids["VNCERT"], "nat-"+sfx, policy.RoleAnalyst)),
			hnTok:  e.Token(e.User(ids["HN"], "hn-"+sfx, policy.RoleAnalyst)),
			memTok: e.Token(e.User(ids["M00"], "mem-"+sfx, policy.RoleAnalyst))}
		benchOnce.w = w
		return w
	}
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	dn := e.Org("DN", "Đà Nẵng", nat.ID, org.RoleProvincialResponseUnit)
	owners := []int64{nat.ID, hn.ID, dn.ID}
	var member int64
	for i := range 12 {
		parent := hn.ID
		if i%2 == 1 {
			parent = dn.ID
		}
		o := e.Org(fmt.Sprintf("M%02d", i), fmt.Sprintf("Thành viên %d", i), parent, org.RoleSystemOwner)
		owners = append(owners, o.ID)
		if member == 0 {
			member = o.ID
		}
	}
	start := e.Clock.Now().Add(-time.Duration(n/2) * time.Millisecond)
	t0 := time.Now()
	if err := taxii.SeedShared(ctx, db, owners, n, start, nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d objects in %s (%s)", n, time.Since(t0).Round(time.Millisecond), path)
	w := &benchWorld{db: db, n: n, start: start,
		natTok: e.Token(e.User(nat.ID, "nat-analyst", policy.RoleAnalyst)),
		hnTok:  e.Token(e.User(hn.ID, "hn-analyst", policy.RoleAnalyst)),
		memTok: e.Token(e.User(member, "member-analyst", policy.RoleAnalyst))}
	benchOnce.w = w
	return w
}
