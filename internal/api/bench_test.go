package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// benchNetwork is a SQLite certnet holding n organisations: a national
// coordinator, 100 provincial units under it and the rest members under
// those, with names made of the usual Vietnamese words. It returns tokens of
// a viewer at the national coordinator and of a coordinator at a province.
func benchNetwork(b *testing.B, n int) (e *apptest.Env, tokens map[string]string) {
	b.Helper()
	start := time.Now()
	e = apptest.StartSQLite(b)
	ctx := context.Background()
	provinces := []string{"Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Huế", "Cao Bằng",
		"Lào Cai", "Nghệ An", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "An Giang", "Cà Mau"}
	words := []string{"Sở", "Trung tâm", "Công ty", "Ngân hàng", "Bệnh viện", "Cục", "Viện", "Tổng công ty"}
	fields := []string{"Thông tin", "Tài chính", "Giám sát", "Điện lực", "Viễn thông", "Y tế", "Giao thông", "Dữ liệu"}
	roles := []org.Role{org.RoleSystemOwner, org.RoleISP, org.RoleVoluntaryMember, org.RoleIOCCity, org.RoleProvincialSOC}
	var buf bytes.Buffer
	buf.WriteString("code,name,name_en,parent_code,roles\n")
	buf.WriteString("B00000,Cơ quan điều phối quốc gia,National coordinator,,national_coordinator\n")
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 1; i < n; i++ {
		parent, role := "B00000", org.RoleProvincialResponseUnit
		if i > 100 {
			parent, role = fmt.Sprintf("B%05d", 1+rng.IntN(100)), roles[rng.IntN(len(roles))]
		}
		fmt.Fprintf(&buf, "B%05d,%s %s %s %d,Member %d,%s,%s\n", i, words[rng.IntN(len(words))],
			fields[rng.IntN(len(fields))], provinces[rng.IntN(len(provinces))], i, i, parent, role)
	}
	rep, err := e.App.Orgs.Import(ctx, e.Sys, &buf, org.ImportOptions{Kind: org.ImportOrgs})
	if err != nil || rep.Imported != n {
		b.Fatalf("import: %+v %v", rep, err)
	}
	national, err := e.App.Orgs.GetByCode(ctx, e.Sys, "B00000")
	if err != nil {
		b.Fatal(err)
	}
	province, err := e.App.Orgs.GetByCode(ctx, e.Sys, "B00001")
	if err != nil {
		b.Fatal(err)
	}
	tokens = map[string]string{
		"national": e.Token(e.User(national.ID, "bench.national", policy.RoleViewer), "read"),
		"province": e.Token(e.User(province.ID, "bench.province", policy.RoleCoordinator), "read"),
	}
	b.Logf("setup: %d organisations imported and served in %v", n, time.Since(start).Round(time.Millisecond))
	return e, tokens
}

// benchGet sends the requests in turn through the whole HTTP stack (client,
// server, middleware, token check, service, SQLite) and reports the
// latency of one request: p50 and p95 in milliseconds.
func benchGet(b *testing.B, e *apptest.Env, token string, paths []string) {
	client := e.Srv.Client()
	reqs := make([]*http.Request, len(paths))
	for i, p := range paths {
		r, err := http.NewRequest("GET", e.URL+p, nil)
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+token)
		reqs[i] = r
	}
	var durs []time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		res, err := client.Do(reqs[i%len(reqs)])
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		durs = append(durs, time.Since(t0))
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("GET %s: %d %v", paths[i%len(paths)], res.StatusCode, err)
		}
		i++
	}
	slices.Sort(durs)
	q := func(p int) float64 {
		return float64(durs[min(len(durs)-1, len(durs)*p/100)].Microseconds()) / 1000
	}
	b.ReportMetric(q(50), "p50-ms")
	b.ReportMetric(q(95), "p95-ms")
}

// BenchmarkListOrgsAPI: GET /api/v1/orgs?limit=50 over 10 000 organisations
// on SQLite, as a national viewer and as a provincial coordinator. Target
// p95 < 20 ms.
func BenchmarkListOrgsAPI(b *testing.B) {
	e, tokens := benchNetwork(b, 10_000)
	for _, who := range []string{"national", "province"} {
		b.Run(who, func(b *testing.B) {
			benchGet(b, e, tokens[who], []string{"/api/v1/orgs?limit=50"})
		})
	}
}

// BenchmarkSearchOrgsAPI: GET /api/v1/orgs?q=<word without diacritics>
// over 10 000 organisations on SQLite. Target p95 < 20 ms.
func BenchmarkSearchOrgsAPI(b *testing.B) {
	e, tokens := benchNetwork(b, 10_000)
	paths := []string{"/api/v1/orgs?limit=50&q=ha+noi", "/api/v1/orgs?limit=50&q=vien+thong",
		"/api/v1/orgs?limit=50&q=benh+vien", "/api/v1/orgs?limit=50&q=da+nang", "/api/v1/orgs?limit=50&q=ngan+hang+can+tho",
		"/api/v1/orgs?limit=50&q=khong+co+dau"}
	for _, who := range []string{"national", "province"} {
		b.Run(who, func(b *testing.B) {
			benchGet(b, e, tokens[who], paths)
		})
	}
}
