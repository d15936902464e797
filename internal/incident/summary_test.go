package incident

import (
	"slices"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// summaryNet files a known set of incidents with their closure reports:
//
//	1 ddos      HNM  2026-02-10  in house, 1 000 000 đ
//	2 ddos      HNM  2026-05-01  domestic help, no estimate, a support report
//	3 malware   HNM  2026-06-30 23:59:59 (Vietnam)  foreign help, 2 500 000 đ, a coordination order
//	4 malware   HNM  2026-07-01 00:00 (Vietnam): the second half
//	5 phishing  HNM  2026-03-01  rejected: not counted
//	6 phishing  HNM  2026-03-02  no closure report
//	7 ddos      DNM  2026-04-01  in house, 7 đ (another province)
//	8 intrusion HNM  2026-03-03  duplicate of 6: not counted
//	9 ddos      HNM  2025-12-31 23:59 (Vietnam): the year before
type summaryNet struct {
	*fixture
	nc, hnmRep, dnmRep policy.Actor
	incs               []Incident
}

func vn(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, time.FixedZone("ICT", 7*3600)).UTC()
}

func newSummaryNet(t *testing.T, db *store.DB) *summaryNet {
	t.Helper()
	n := &summaryNet{fixture: newFixture(t, db)}
	n.nc = n.actor(n.national, policy.RoleCoordinator)
	n.hnmRep = n.actor(n.hnm, policy.RoleReporter)
	n.dnmRep = n.actor(n.dnm, policy.RoleReporter)
	mk := func(a policy.Actor, typ Type, at time.Time) Incident {
		return n.mustCreate(a, func(in *Input) { in.Type, in.DetectedAt = typ, at })
	}
	work := func(inc Incident) {
		for _, st := range []Status{StatusVerified, StatusContainment, StatusRecovery} {
			if _, err := n.s.Transition(ctx, n.nc, inc.Ref, st, TransitionInput{}); err != nil {
				t.Fatalf("%s to %s: %v", inc.Ref, st, err)
			}
		}
	}
	closeWith := func(a policy.Actor, inc Incident, h Handling, damage *int64) {
		work(inc)
		if _, err := n.s.AddReport(ctx, a, inc.Ref, ReportClosure, ReportInput{Result: "Đã xử lý", Lessons: "Rút kinh nghiệm",
			Handling: h, DamageVND: damage, DamageNote: "Ước tính chi phí khôi phục"}); err != nil {
			t.Fatalf("closure %s: %v", inc.Ref, err)
		}
	}
	vnd := func(v int64) *int64 { return &v }
	i1 := mk(n.hnmRep, TypeDDoS, vn(2026, 2, 10, 9, 0, 0))
	closeWith(n.hnmRep, i1, HandledInHouse, vnd(1_000_000))
	i2 := mk(n.hnmRep, TypeDDoS, vn(2026, 5, 1, 9, 0, 0))
	if _, err := n.s.AddReport(ctx, n.hnmRep, i2.Ref, ReportSupport, ReportInput{Support: "Cần chuyên gia phân tích lưu lượng"}); err != nil {
		t.Fatal(err)
	}
	closeWith(n.hnmRep, i2, HandledDomesticHelp, nil)
	i3 := mk(n.hnmRep, TypeMalware, vn(2026, 6, 30, 23, 59, 59))
	closeWith(n.hnmRep, i3, HandledForeignHelp, vnd(2_500_000))
	if _, err := db.Exec(ctx, `INSERT INTO coord_orders (incident_id, issuer_org_id, title, actions, priority, tlp,
		deadline_at, created_at) VALUES (?, ?, 'Lệnh điều phối', 'Chặn địa chỉ', 'high', 'AMBER', ?, ?)`,
		i3.ID, n.national.ID, t0.Add(24*time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	i4 := mk(n.hnmRep, TypeMalware, vn(2026, 7, 1, 0, 0, 0))
	i5 := mk(n.hnmRep, TypePhishing, vn(2026, 3, 1, 9, 0, 0))
	if _, err := n.s.Transition(ctx, n.nc, i5.Ref, StatusRejected, TransitionInput{Reason: "Không phải sự cố"}); err != nil {
		t.Fatal(err)
	}
	i6 := mk(n.hnmRep, TypePhishing, vn(2026, 3, 2, 9, 0, 0))
	i7 := mk(n.dnmRep, TypeDDoS, vn(2026, 4, 1, 9, 0, 0))
	closeWith(n.dnmRep, i7, HandledInHouse, vnd(7))
	i8 := mk(n.hnmRep, TypeIntrusion, vn(2026, 3, 3, 9, 0, 0))
	if _, err := n.s.Transition(ctx, n.nc, i8.Ref, StatusDuplicate, TransitionInput{DuplicateOf: i6.Ref}); err != nil {
		t.Fatal(err)
	}
	i9 := mk(n.hnmRep, TypeDDoS, vn(2025, 12, 31, 23, 59, 0))
	// Effort recorded by helpers (QĐ 1622): the ISP on 2 and 7, twice on
	// 2; the member itself on 2 (not a helper of its own incident).
	for _, e := range []struct {
		inc  Incident
		org  int64
		cost int64
	}{{i2, n.isp.ID, 300_000}, {i2, n.isp.ID, 200_000}, {i7, n.isp.ID, 1_000}, {i2, n.hnm.ID, 9_999}, {i3, n.hn.ID, 50}} {
		if _, err := db.Exec(ctx, `INSERT INTO coord_efforts (incident_id, org_id, work_date, people, hours_tenths, cost_vnd,
			description, created_at) VALUES (?, ?, '2026-05-02', 2, 80, ?, 'Phân tích lưu lượng', ?)`, e.inc.ID, e.org, e.cost, t0); err != nil {
			t.Fatal(err)
		}
	}
	n.incs = []Incident{i1, i2, i3, i4, i5, i6, i7, i8, i9}
	return n
}

// row is a SummaryRow written short: count, in house, domestic, foreign,
// coordinator asked, damage, damage count.
func row(typ Type, c, ih, dh, fh, asked int, dmg int64, dc int) SummaryRow {
	return SummaryRow{Type: typ, Count: c, InHouse: ih, DomesticHelp: dh, ForeignHelp: fh, CoordinatorAsked: asked,
		DamageVND: dmg, DamageCount: dc}
}

func checkSummary(t *testing.T, label string, got Summary, want ...SummaryRow) {
	t.Helper()
	if len(got.Rows) != len(Types) {
		t.Fatalf("%s: %d rows, want one per type (%d)", label, len(got.Rows), len(Types))
	}
	byType := map[Type]SummaryRow{}
	var total SummaryRow
	for _, w := range want {
		byType[w.Type] = w
		total.add(w)
	}
	for i, r := range got.Rows {
		if r.Type != Types[i] {
			t.Errorf("%s: row %d is %s, want %s (form 05 order)", label, i, r.Type, Types[i])
		}
		w := byType[r.Type]
		w.Type = r.Type
		if r != w {
			t.Errorf("%s: %s = %+v, want %+v", label, r.Type, r, w)
		}
	}
	if got.Total != total {
		t.Errorf("%s: total %+v, want %+v", label, got.Total, total)
	}
}

func TestSummaryCounts(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		n := newSummaryNet(t, db)
		sum := func(a policy.Actor, f SummaryFilter) Summary {
			t.Helper()
			s, err := n.s.Summary(ctx, a, f)
			if err != nil {
				t.Fatalf("summary %+v: %v", f, err)
			}
			return s
		}
		h1 := sum(n.nc, SummaryFilter{Year: 2026, Half: FirstHalf})
		checkSummary(t, "national, first half", h1,
			row(TypeDDoS, 3, 2, 1, 0, 1, 1_000_007, 2),
			row(TypeMalware, 1, 0, 0, 1, 1, 2_500_000, 1),
			row(TypePhishing, 1, 0, 0, 0, 0, 0, 0))
		if want := []SummaryHelper{{n.isp.ID, n.isp.Name, 2, 501_000}, {n.hn.ID, n.hn.Name, 1, 50}}; !slices.Equal(h1.Helpers, want) {
			t.Errorf("helpers %+v, want %+v", h1.Helpers, want)
		}
		if h1.OrgID != n.national.ID || h1.OrgName != n.national.Name {
			t.Errorf("reporting organisation %d %q", h1.OrgID, h1.OrgName)
		}
		if !h1.From.Equal(vn(2026, 1, 1, 0, 0, 0)) || !h1.To.Equal(vn(2026, 7, 1, 0, 0, 0)) {
			t.Errorf("first half %v – %v", h1.From, h1.To)
		}
		// The boundary: 1 July 00:00 in Vietnam is the second half.
		checkSummary(t, "national, second half", sum(n.nc, SummaryFilter{Year: 2026, Half: SecondHalf}),
			row(TypeMalware, 1, 0, 0, 0, 0, 0, 0))
		checkSummary(t, "national, year", sum(n.nc, SummaryFilter{Year: 2026}),
			row(TypeDDoS, 3, 2, 1, 0, 1, 1_000_007, 2),
			row(TypeMalware, 2, 0, 0, 1, 1, 2_500_000, 1),
			row(TypePhishing, 1, 0, 0, 0, 0, 0, 0))
		checkSummary(t, "national, 2025", sum(n.nc, SummaryFilter{Year: 2025, Half: SecondHalf}),
			row(TypeDDoS, 1, 0, 0, 0, 0, 0, 0))
		// Dates: [From, To).
		checkSummary(t, "national, dates", sum(n.nc, SummaryFilter{From: vn(2026, 5, 1, 9, 0, 0), To: vn(2026, 6, 30, 23, 59, 59)}),
			row(TypeDDoS, 1, 0, 1, 0, 1, 0, 0))

		// A member sees its own incidents only, whatever it asks.
		hnm := sum(n.hnmRep, SummaryFilter{Year: 2026, Half: FirstHalf})
		checkSummary(t, "HNM", hnm,
			row(TypeDDoS, 2, 1, 1, 0, 1, 1_000_000, 1),
			row(TypeMalware, 1, 0, 0, 1, 1, 2_500_000, 1),
			row(TypePhishing, 1, 0, 0, 0, 0, 0, 0))
		if want := []SummaryHelper{{n.isp.ID, n.isp.Name, 1, 500_000}, {n.hn.ID, n.hn.Name, 1, 50}}; !slices.Equal(hnm.Helpers, want) {
			t.Errorf("member's helpers %+v, want %+v", hnm.Helpers, want)
		}
		if hnm.OrgID != n.hnm.ID || hnm.OrgCode != "HNM" {
			t.Errorf("member's summary is about %d %q", hnm.OrgID, hnm.OrgCode)
		}
		checkSummary(t, "DNM", sum(n.dnmRep, SummaryFilter{Year: 2026, Half: FirstHalf}),
			row(TypeDDoS, 1, 1, 0, 0, 0, 7, 1))
		if _, err := n.s.Summary(ctx, n.dnmRep, SummaryFilter{Year: 2026, OrgID: n.hnm.ID}); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("a member asks for another member's summary: %v", err)
		}
		// A response unit: its subtree.
		hn := n.actor(n.hn, policy.RoleAnalyst)
		checkSummary(t, "HN unit", sum(hn, SummaryFilter{Year: 2026, Half: FirstHalf}),
			row(TypeDDoS, 2, 1, 1, 0, 1, 1_000_000, 1),
			row(TypeMalware, 1, 0, 0, 1, 1, 2_500_000, 1),
			row(TypePhishing, 1, 0, 0, 0, 0, 0, 0))
		if _, err := n.s.Summary(ctx, hn, SummaryFilter{Year: 2026, OrgID: n.dn.ID}); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("a unit asks for a sibling's summary: %v", err)
		}
		// The national coordinator chooses an organisation (with its
		// subtree) or a province.
		checkSummary(t, "national on DN", sum(n.nc, SummaryFilter{Year: 2026, OrgID: n.dn.ID}),
			row(TypeDDoS, 1, 1, 0, 0, 0, 7, 1))
		checkSummary(t, "national on province HN", sum(n.nc, SummaryFilter{Year: 2026, Half: FirstHalf, ProvinceCode: "hn"}),
			row(TypeDDoS, 2, 1, 1, 0, 1, 1_000_000, 1),
			row(TypeMalware, 1, 0, 0, 1, 1, 2_500_000, 1),
			row(TypePhishing, 1, 0, 0, 0, 0, 0, 0))
		// Someone with no role reads nothing.
		none := n.actor(n.hnm)
		if _, err := n.s.Summary(ctx, none, SummaryFilter{Year: 2026}); err == nil {
			t.Error("an actor without a role reads a summary")
		}
	})
}

func TestSummaryBadPeriod(t *testing.T) {
	n := newFixture(t, testkit.NewSQLite(t))
	nc := n.actor(n.national, policy.RoleCoordinator)
	for name, f := range map[string]SummaryFilter{
		"no period":      {},
		"year 1999":      {Year: 1999},
		"half 3":         {Year: 2026, Half: 3},
		"year and dates": {Year: 2026, From: t0.Add(-time.Hour), To: t0},
		"from after to":  {From: t0, To: t0.Add(-time.Hour)},
		"only from":      {From: t0},
		"ten years":      {From: t0.AddDate(-10, 0, 0), To: t0},
		"half, no year":  {Half: FirstHalf, From: t0.Add(-time.Hour), To: t0},
		"bad province":   {Year: 2026, ProvinceCode: "HN'; --"},
		"negative org":   {Year: 2026, OrgID: -1},
	} {
		if _, err := n.s.Summary(ctx, nc, f); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := n.s.Summary(ctx, nc, SummaryFilter{Year: 2026, OrgID: 999_999}); !errs.Is(err, errs.KindNotFound) {
		t.Errorf("unknown organisation: %v", err)
	}
}

// The closure report's handling and damage are checked, kept in the report
// and copied onto the incident; a refused report changes nothing.
func TestClosureHandlingAndDamage(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		nc := f.actor(f.national, policy.RoleCoordinator)
		rep := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(rep)
		for _, st := range []Status{StatusVerified, StatusContainment, StatusRecovery} {
			if _, err := f.s.Transition(ctx, nc, inc.Ref, st, TransitionInput{}); err != nil {
				t.Fatal(err)
			}
		}
		neg, huge := int64(-1), MaxDamageVND+1
		for name, in := range map[string]ReportInput{
			"unknown handling": {Handling: "outsourced"},
			"negative damage":  {Handling: HandledInHouse, DamageVND: &neg},
			"huge damage":      {DamageVND: &huge},
			"control chars":    {DamageNote: "a\x00b"},
		} {
			in.Result, in.Lessons = "Đã xử lý", "Bài học"
			if _, err := f.s.AddReport(ctx, rep, inc.Ref, ReportClosure, in); !errs.Is(err, errs.KindInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		// Only the closure report carries them.
		pr, err := f.s.AddReport(ctx, rep, inc.Ref, ReportProgress, ReportInput{Summary: "Đang xử lý", Handling: "bogus", DamageVND: &neg})
		if err != nil || pr.Body.Handling != "" || pr.Body.DamageVND != nil {
			t.Errorf("progress report with closure fields: %+v %v", pr.Body, err)
		}
		var handling string
		var damage *int64
		read := func() {
			t.Helper()
			if err := db.QueryRow(ctx, "SELECT handling, damage_vnd FROM incidents WHERE id = ?", inc.ID).Scan(&handling, &damage); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if handling != "" || damage != nil {
			t.Fatalf("refused reports changed the incident: %q %v", handling, damage)
		}
		v := int64(12_345_678)
		r, err := f.s.AddReport(ctx, rep, inc.Ref, ReportClosure, ReportInput{Result: "Đã xử lý", Lessons: "Bài học",
			Handling: " domestic_help ", DamageVND: &v, DamageNote: "Chi phí thuê chuyên gia"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Body.Handling != HandledDomesticHelp || r.Body.DamageVND == nil || *r.Body.DamageVND != v {
			t.Errorf("report body %+v", r.Body)
		}
		read()
		if handling != "domestic_help" || damage == nil || *damage != v {
			t.Errorf("incident after closure: %q %v", handling, damage)
		}
		got, err := f.s.Get(ctx, rep, inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		last := got.Reports[len(got.Reports)-1]
		if last.Body.DamageNote != "Chi phí thuê chuyên gia" || last.Body.Handling != HandledDomesticHelp {
			t.Errorf("stored report %+v", last.Body)
		}
		// A later closure report without an estimate replaces the values.
		if _, err := f.s.AddReport(ctx, rep, inc.Ref, ReportClosure, ReportInput{Result: "Bổ sung", Lessons: "Bài học",
			Handling: HandledInHouse}); err != nil {
			t.Fatal(err)
		}
		read()
		if handling != "in_house" || damage != nil {
			t.Errorf("after the second closure report: %q %v", handling, damage)
		}
		f.verifyAudit()
	})
}
