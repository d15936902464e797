package app

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Targets of issue 3 (1 000 000 incidents on SQLite).
const (
	benchListP95   = 50 * time.Millisecond
	benchSearchP95 = 100 * time.Millisecond
	benchCreates   = 500.0
)

// runBench: certnet bench incidents [--n N] [--seconds S] [--check] --data DIR.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "intel" {
		return runBenchIntel(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ingest" {
		return runBenchIngest(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "incidents" {
		return usagef("usage: certnet bench incidents [--n 1000000] [--seconds 10] [--check] [--data DIR] | certnet bench intel [--n 1000000] [--reuse] [--postgres URL] [--data DIR]")
	}
	fs, cfg, finish := newFlags("bench incidents", 0, stderr)
	n := fs.Int("n", 1000000, "incidents to generate")
	secs := fs.Float64("seconds", 10, "how long to measure creations")
	rounds := fs.Int("rounds", 200, "queries per measurement")
	check := fs.Bool("check", false, "exit non-zero when a target is missed")
	reuse := fs.Bool("reuse", false, "measure again on a data folder an earlier bench run generated (skips generation)")
	if err := parse(fs, args[1:], finish); err != nil {
		return err
	}
	if *n < 1 || *rounds < 1 {
		return usagef("--n and --rounds must be positive")
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, io.Discard))
	if err != nil {
		return err
	}
	defer a.Close()
	if a.DB.Engine != store.SQLite {
		return usagef("bench runs on a fresh SQLite data folder (--data)")
	}
	var existing int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM organisations").Scan(&existing); err != nil {
		return err
	}
	var net *benchNet
	switch {
	case *reuse:
		if net, err = benchReload(ctx, a); err != nil {
			return err
		}
		var have int
		if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM incidents").Scan(&have); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reusing %d incidents in %s\n", have, a.DB.Where)
	case existing > 0:
		return usagef("the data folder is not empty: bench needs a fresh one (or --reuse on one an earlier bench generated)")
	default:
		if net, err = benchNetwork(ctx, a); err != nil {
			return err
		}
		t0 := time.Now()
		if err := benchGenerate(ctx, a, net, *n, stdout); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\ngenerated %d incidents in %s\n", *n, time.Since(t0).Round(time.Millisecond))
	}
	res, err := benchMeasure(ctx, a, net, *rounds, time.Duration(*secs*float64(time.Second)), stdout)
	if err != nil {
		return err
	}
	if *check && !res.ok() {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

type benchNet struct {
	national org.Org
	units    []org.Org // provincial response units
	members  []org.Org
}

var benchProvinces = []org.Province{
	{Code: "HNI", Name: "Hà Nội", Region: "north"}, {Code: "HCM", Name: "Thành phố Hồ Chí Minh", Region: "south"},
	{Code: "DNG", Name: "Đà Nẵng", Region: "central"}, {Code: "HPG", Name: "Hải Phòng", Region: "north"},
	{Code: "CTO", Name: "Cần Thơ", Region: "south"}, {Code: "QNH", Name: "Quảng Ninh", Region: "north"},
	{Code: "NAN", Name: "Nghệ An", Region: "central"}, {Code: "TTH", Name: "Thừa Thiên Huế", Region: "central"},
	{Code: "BDG", Name: "Bình Dương", Region: "south"}, {Code: "DNI", Name: "Đồng Nai", Region: "south"},
	{Code: "KHA", Name: "Khánh Hòa", Region: "central"}, {Code: "LDG", Name: "Lâm Đồng", Region: "central"},
	{Code: "THA", Name: "Thanh Hóa", Region: "central"}, {Code: "BNH", Name: "Bắc Ninh", Region: "north"},
	{Code: "AGG", Name: "An Giang", Region: "south"}, {Code: "GLI", Name: "Gia Lai", Region: "central"},
}

var benchMemberKinds = []string{"Sở Y tế", "Bệnh viện Đa khoa", "Ngân hàng Thương mại", "Công ty Điện lực",
	"Sở Tài chính", "Trường Đại học", "Cổng thông tin điện tử", "Sở Giao thông vận tải"}

func benchNetwork(ctx context.Context, a *App) (*benchNet, error) {
	sys := policy.SystemActor("bench")
	net := &benchNet{}
	var err error
	if net.national, err = a.Orgs.Create(ctx, sys, org.Input{Code: "VNCERT", Name: "Trung tâm Ứng cứu khẩn cấp không gian mạng Việt Nam",
		Roles: []org.Role{org.RoleNationalCoordinator}, Active: true}); err != nil {
		return nil, err
	}
	for i, p := range benchProvinces {
		p.SortOrder = i + 1
		if err := a.Orgs.SaveProvince(ctx, sys, p); err != nil {
			return nil, err
		}
		u, err := a.Orgs.Create(ctx, sys, org.Input{Code: "U-" + p.Code, Name: "Sở Khoa học và Công nghệ " + p.Name,
			ParentID: net.national.ID, ProvinceCode: p.Code, Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
		if err != nil {
			return nil, err
		}
		net.units = append(net.units, u)
		for j, k := range benchMemberKinds {
			in := org.Input{Code: fmt.Sprintf("M-%s-%d", p.Code, j), Name: k + " " + p.Name, ParentID: u.ID,
				ProvinceCode: p.Code, Roles: []org.Role{org.RoleSystemOwner}, Active: true}
			if j == 2 {
				in.Sector = org.SectorFinance
			}
			m, err := a.Orgs.Create(ctx, sys, in)
			if err != nil {
				return nil, err
			}
			net.members = append(net.members, m)
		}
	}
	return net, nil
}

// benchReload finds the network an earlier run of benchNetwork made in
// this data folder, by its codes.
func benchReload(ctx context.Context, a *App) (*benchNet, error) {
	rows, err := a.DB.Query(ctx, "SELECT id, code, name, COALESCE(parent_id, 0) FROM organisations ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	net := &benchNet{}
	for rows.Next() {
		var o org.Org
		if err := rows.Scan(&o.ID, &o.Code, &o.Name, &o.ParentID); err != nil {
			return nil, err
		}
		switch {
		case o.Code == "VNCERT":
			net.national = o
		case strings.HasPrefix(o.Code, "U-"):
			net.units = append(net.units, o)
		case strings.HasPrefix(o.Code, "M-"):
			net.members = append(net.members, o)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if net.national.ID == 0 || len(net.units) == 0 || len(net.members) == 0 {
		return nil, usagef("--reuse: this data folder holds no network made by certnet bench")
	}
	return net, nil
}

var benchTitles = []string{"Tấn công từ chối dịch vụ vào cổng thông tin", "Thư lừa đảo giả mạo ngân hàng",
	"Mã độc tống tiền mã hóa dữ liệu máy chủ", "Xâm nhập trái phép hệ thống quản lý", "Thay đổi giao diện trang chủ",
	"Lộ lọt dữ liệu cá nhân khách hàng", "Phát hiện mã độc trên máy trạm", "Dò quét cổng dịch vụ bất thường"}

func benchGenerate(ctx context.Context, a *App, net *benchNet, n int, out io.Writer) error {
	rng := rand.New(rand.NewPCG(42, 1))
	end := time.Now().UTC().Truncate(time.Second)
	start := end.AddDate(-2, 0, 0)
	span := end.Sub(start)
	statuses := []incident.Status{incident.StatusClosed, incident.StatusClosed, incident.StatusClosed, incident.StatusReceived,
		incident.StatusVerified, incident.StatusContainment, incident.StatusRecovery, incident.StatusReview,
		incident.StatusRejected, incident.StatusDuplicate}
	tlps := []policy.TLP{policy.TLPAmber, policy.TLPAmber, policy.TLPGreen, policy.TLPClear, policy.TLPAmberStrict}
	const batch = 20000
	// Incidents come in time order, so that references follow the years.
	times := make([]time.Time, n)
	for i := range times {
		times[i] = start.Add(time.Duration(rng.Int64N(int64(span))))
	}
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	seqs := map[int]int64{}
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		err := a.DB.InTx(ctx, func(tx *store.Tx) error {
			const ins = `INSERT INTO incidents (ref, year, seq, title, description, type, severity, class,
				status, tlp, reporter_org_id, affected_org_id, reported_by, reported_by_name, detected_at, reported_at,
				exceeds_capacity, details, search_text, version, next_due_at, closed_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'bench', ?, ?, 0, '{}', ?, 1, ?, ?, ?, ?)`
			for i := lo; i < hi; i++ {
				m := net.members[rng.IntN(len(net.members))]
				rep := m.ID
				if rng.IntN(10) == 0 {
					rep = m.ParentID
				}
				at := times[i]
				year := at.In(i18n.Zone).Year()
				seqs[year]++
				inc := incident.Incident{Ref: incident.FormatRef(year, seqs[year]),
					Title:       benchTitles[rng.IntN(len(benchTitles))] + " " + m.Name,
					Description: fmt.Sprintf("Máy chủ 203.0.%d.%d có lưu lượng bất thường, đã cô lập và thu thập nhật ký.", rng.IntN(256), rng.IntN(256)),
					Type:        incident.Types[rng.IntN(len(incident.Types))], Severity: incident.Severities[rng.IntN(len(incident.Severities))],
					Status: statuses[rng.IntN(len(statuses))], TLP: tlps[rng.IntN(len(tlps))]}
				class := incident.ClassOrdinary
				if rng.IntN(200) == 0 {
					class = incident.ClassSerious
				}
				var due, closed any
				if inc.Status == incident.StatusClosed {
					closed = at.Add(time.Duration(rng.IntN(30*24)) * time.Hour)
				} else if !inc.Status.Terminal() {
					due = at.Add(5 * 24 * time.Hour)
				}
				if _, err := tx.Exec(ctx, ins, inc.Ref, year, seqs[year], inc.Title, inc.Description, string(inc.Type),
					string(inc.Severity), string(class), string(inc.Status), string(inc.TLP), rep, m.ID,
					at.Add(-time.Duration(rng.IntN(72))*time.Hour), at, incident.SearchText(inc, m.Name),
					due, closed, at, at); err != nil {
					return err
				}
			}
			for y, s := range seqs {
				if _, err := tx.Exec(ctx, `INSERT INTO incident_sequences (year, last) VALUES (?, ?)
					ON CONFLICT (year) DO UPDATE SET last = excluded.last`, y, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		bar(out, hi, n)
	}
	_, err := a.DB.Exec(ctx, "ANALYZE")
	return err
}

func bar(out io.Writer, done, total int) {
	const width = 40
	k := done * width / total
	fmt.Fprintf(out, "\rgenerating [%s%s] %d/%d", strings.Repeat("#", k), strings.Repeat(".", width-k), done, total)
}

type benchResult struct {
	listNational, listUnit, search []time.Duration
	creates                        float64
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func (r benchResult) ok() bool {
	return pct(r.listNational, 95) < benchListP95 && pct(r.listUnit, 95) < benchListP95 &&
		pct(r.search, 95) < benchSearchP95 && r.creates >= benchCreates
}

func benchMeasure(ctx context.Context, a *App, net *benchNet, rounds int, dur time.Duration, out io.Writer) (benchResult, error) {
	var res benchResult
	actor := func(o org.Org, uid int64, roles ...policy.Role) (policy.Actor, error) {
		sc, err := a.Orgs.ScopeOf(ctx, o.ID)
		return policy.Actor{UserID: uid, Username: o.Code, OrgID: o.ID, Roles: roles, Scope: sc}, err
	}
	nc, err := actor(net.national, 1, policy.RoleCoordinator, policy.RoleAnalyst)
	if err != nil {
		return res, err
	}
	unit, err := actor(net.units[0], 2, policy.RoleAnalyst)
	if err != nil {
		return res, err
	}
	list := func(ac policy.Actor, f func(i int) incident.Filter) ([]time.Duration, error) {
		var lat []time.Duration
		for i := range rounds {
			t := time.Now()
			if _, _, err := a.Incidents.List(ctx, ac, f(i)); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(t))
		}
		return lat, nil
	}
	if res.listNational, err = list(nc, func(i int) incident.Filter {
		return incident.Filter{Status: incident.StatusReceived, Type: incident.Types[i%len(incident.Types)],
			Offset: (i % 5) * 50, Limit: 50}
	}); err != nil {
		return res, err
	}
	report(out, "list page, national coordinator (status+type filter)", res.listNational, benchListP95)
	if res.listUnit, err = list(unit, func(i int) incident.Filter {
		return incident.Filter{Severity: incident.Severities[i%len(incident.Severities)], Limit: 50}
	}); err != nil {
		return res, err
	}
	report(out, "list page, provincial unit (severity filter)", res.listUnit, benchListP95)
	queries := []string{"ma doc tong tien", "ha noi", "lua dao ngan hang", "SC-2025-000123", "203.0.113", "cong thong tin da nang"}
	if res.search, err = list(nc, func(i int) incident.Filter {
		return incident.Filter{Q: queries[i%len(queries)], Limit: 50}
	}); err != nil {
		return res, err
	}
	report(out, "full-text search without diacritics", res.search, benchSearchP95)

	// Creations through the service: reference, first report, timeline,
	// observables, audit entry and outbox message, one transaction each.
	m := net.members[0]
	rep, err := actor(m, 3, policy.RoleReporter)
	if err != nil {
		return res, err
	}
	in := incident.Input{Title: "Tấn công thay đổi giao diện cổng thông tin", Description: "Máy chủ 203.0.113.10 bị thay đổi trang chủ.",
		Type: incident.TypeDefacement, Severity: incident.SeverityHigh, DetectedAt: time.Now().Add(-time.Hour),
		Contact:    incident.Contact{Name: "Nguyễn Văn A", Email: "a@example.vn", Phone: "+84 24 1234 5678"},
		System:     incident.System{Name: "Cổng thông tin", OwnerName: m.Name, Level: 3},
		DetectedBy: incident.DetectLogReview}
	t0 := time.Now()
	count := 0
	for time.Since(t0) < dur {
		if _, err := a.Incidents.Create(ctx, rep, in); err != nil {
			return res, err
		}
		count++
	}
	res.creates = float64(count) / time.Since(t0).Seconds()
	mark := "ok"
	if res.creates < benchCreates {
		mark = "MISSED"
	}
	fmt.Fprintf(out, "%-55s %8.0f /s  (target ≥ %.0f/s: %s)\n", "creations with audit and outbox", res.creates, benchCreates, mark)
	return res, nil
}

func report(out io.Writer, name string, lat []time.Duration, target time.Duration) {
	mark := "ok"
	if pct(lat, 95) >= target {
		mark = "MISSED"
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(out, "%-55s p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms  (target p95 < %s: %s)\n", name,
		ms(pct(lat, 50)), ms(pct(lat, 95)), ms(pct(lat, 99)), target, mark)
}
