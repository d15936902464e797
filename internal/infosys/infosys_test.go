package infosys

import (
	"context"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// t0 is Thursday 26 November 2026, 08:00 in Hà Nội.
var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

type fixture struct {
	t     testing.TB
	orgs  *org.Service
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, hn, hosp, dn org.Org
	uid                    int64
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testkit.NewClock(t0)
	f := &fixture{t: t, clock: clock, sys: policy.SystemActor("test"), uid: 1000}
	f.orgs = org.NewService(db, clock.Now, nil)
	f.s = NewService(db, clock.Now, nil)
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 2}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(in org.Input) org.Org {
		o, err := f.orgs.Create(ctx, f.sys, in)
		if err != nil {
			t.Fatalf("create org %s: %v", in.Code, err)
		}
		return o
	}
	f.national = mk(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.hn = mk(org.Input{Code: "HN", Name: "Sở KH&CN Hà Nội", ParentID: f.national.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.hosp = mk(org.Input{Code: "HNM", Name: "Bệnh viện Hà Nội", ParentID: f.hn.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.dn = mk(org.Input{Code: "DN", Name: "Sở KH&CN Đà Nẵng", ParentID: f.national.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	if _, err := f.orgs.AddRange(ctx, f.sys, f.hosp.ID, "203.0.113.0/24", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.orgs.AddDomain(ctx, f.sys, f.hosp.ID, "benhvien.vn", ""); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) actor(o org.Org, roles ...policy.Role) policy.Actor {
	f.t.Helper()
	sc, err := f.orgs.ScopeOf(context.Background(), o.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.uid++
	return policy.Actor{UserID: f.uid, Username: o.Code + "-user", OrgID: o.ID, Roles: roles, Scope: sc}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalid || !e.Has(field) {
		t.Fatalf("want invalid %s, got %v", field, err)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("want %v, got %v", k, err)
	}
}

func fullPlan() map[string]string {
	p := map[string]string{}
	for _, k := range PlanSections {
		p[k] = "Phương án " + k
	}
	return p
}

// level3 answers: personal data of 50 000 patients.
var level3 = Answers{Scope: ScopeOrganisation, DataKind: DataPersonal, PersonalCount: 50_000, PublicServiceLevel: 2, Harm: HarmOrg}

func TestPropose(t *testing.T) {
	cases := []struct {
		a    Answers
		want int
	}{
		{Answers{Scope: ScopeInternal, DataKind: DataPublic, Harm: HarmMinor}, 1},
		{Answers{Scope: ScopeOrganisation, DataKind: DataPersonal, PersonalCount: 9_999, Harm: HarmMinor}, 2},
		{level3, 3},
		{Answers{Scope: ScopeInternal, DataKind: DataSecret, Harm: HarmMinor}, 3},
		{Answers{Scope: ScopeInternal, DataKind: DataPublic, PublicServiceLevel: 3, Harm: HarmMinor}, 3},
		{Answers{Scope: ScopeNational, DataKind: DataPublic, Always24x7: true, Harm: HarmSerious}, 4},
		{Answers{Scope: ScopeShared, DataKind: DataPublic, Harm: HarmDefence}, 4},
		{Answers{Scope: ScopeNational, DataKind: DataNational, Always24x7: true, Harm: HarmEspSerious}, 5},
		{Answers{Scope: ScopeInternal, DataKind: DataPublic, International: true, Harm: HarmMinor}, 5},
	}
	for i, c := range cases {
		got, reasons := Propose(c.a)
		if got != c.want || len(reasons) == 0 || reasons[0].Level != got {
			t.Errorf("case %d: level %d (reasons %v), want %d", i, got, reasons, c.want)
		}
	}
}

func TestInventoryAndPolicy(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		in := SystemInput{OwnerOrgID: f.hosp.ID, Name: "Hệ thống quản lý bệnh viện", Sector: "health", DataKind: DataPersonal,
			PersonalCount: 50_000, Addresses: []string{"203.0.113.10", "203.0.113.64/26"}, Domains: []string{"His.BenhVien.vn."}}
		sys, err := f.s.CreateSystem(ctx, owner, in)
		if err != nil {
			t.Fatal(err)
		}
		if sys.Domains[0] != "his.benhvien.vn" || len(sys.Addresses) != 2 || sys.Level != 0 {
			t.Fatalf("system %+v", sys)
		}
		// Bad input: addresses and domains outside the constituency, counts.
		bad := in
		bad.Name = "Khác"
		bad.Addresses = []string{"198.51.100.1"}
		_, err = f.s.CreateSystem(ctx, owner, bad)
		wantField(t, err, "addresses")
		bad.Addresses, bad.Domains = nil, []string{"example.com"}
		_, err = f.s.CreateSystem(ctx, owner, bad)
		wantField(t, err, "domains")
		// A Unicode name under the owner's domain is the registry's domain in
		// its xn-- form (as org stores it), accepted and kept in that form;
		// a name the registry would refuse is refused here too.
		idn := in
		idn.Name, idn.Addresses, idn.Domains = "Cổng tra cứu", nil, []string{"Tra-Cứu.BenhVien.vn"}
		got, err := f.s.CreateSystem(ctx, owner, idn)
		if err != nil {
			t.Fatalf("Unicode domain under the owner's: %v", err)
		}
		if want, _ := org.CanonicalDomain("tra-cứu.benhvien.vn"); len(got.Domains) != 1 || got.Domains[0] != want || !strings.HasPrefix(want, "xn--") {
			t.Fatalf("stored domains %v, want [%s]", got.Domains, want)
		}
		bad.Domains = []string{"-x.benhvien.vn"}
		_, err = f.s.CreateSystem(ctx, owner, bad)
		wantField(t, err, "domains")
		bad.Domains, bad.PersonalCount = nil, -1
		_, err = f.s.CreateSystem(ctx, owner, bad)
		wantField(t, err, "personal_count")
		bad.PersonalCount, bad.Name = 0, in.Name
		_, err = f.s.CreateSystem(ctx, owner, bad)
		wantField(t, err, "name")
		bad.Name, bad.IOC = "X", "village"
		_, err = f.s.CreateSystem(ctx, owner, bad)
		wantField(t, err, "ioc")

		// Scope: the province sees it, Đà Nẵng does not; a viewer may not write.
		if _, err := f.s.System(ctx, f.actor(f.hn, policy.RoleViewer), sys.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.System(ctx, f.actor(f.dn, policy.RoleAdmin), sys.ID)
		wantKind(t, err, errs.KindNotFound)
		_, err = f.s.CreateSystem(ctx, f.actor(f.hosp, policy.RoleViewer), SystemInput{OwnerOrgID: f.hosp.ID, Name: "Y"})
		wantKind(t, err, errs.KindForbidden)
		// Naming itself the operator does not let Đà Nẵng register a system
		// in the hospital's name.
		_, err = f.s.CreateSystem(ctx, f.actor(f.dn, policy.RoleAdmin), SystemInput{OwnerOrgID: f.hosp.ID, OperatorOrgID: f.dn.ID, Name: "Z"})
		wantKind(t, err, errs.KindNotFound)
		list, total, err := f.s.List(ctx, f.actor(f.dn, policy.RoleAdmin), Filter{Level: -1})
		if err != nil || total != 0 || len(list) != 0 {
			t.Fatalf("DN sees %d systems, %v", total, err)
		}
		list, total, err = f.s.List(ctx, f.actor(f.national, policy.RoleViewer), Filter{Level: -1, Query: "bệnh"})
		if err != nil || total != 1 || list[0].ID != sys.ID {
			t.Fatalf("national sees %d systems, %v", total, err)
		}
		// The operator (Đà Nẵng here) keeps the system it runs.
		in.OperatorOrgID = f.dn.ID
		if _, err := f.s.UpdateSystem(ctx, owner, sys.ID, in); err != nil {
			t.Fatal(err)
		}
		in.Purpose = "Khám chữa bệnh"
		if _, err := f.s.UpdateSystem(ctx, f.actor(f.dn, policy.RoleCoordinator), sys.ID, in); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDossierWorkflow(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		unit := f.actor(f.hn, policy.RoleCoordinator)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HIS", DataKind: DataPersonal, PersonalCount: 50_000})
		if err != nil {
			t.Fatal(err)
		}
		// A level contradicting the answers needs a written justification.
		_, err = f.s.SaveDossier(ctx, owner, sys.ID, 0, DossierInput{ProposedLevel: 2, Answers: level3})
		wantField(t, err, "justification")
		d, err := f.s.SaveDossier(ctx, owner, sys.ID, 0, DossierInput{Answers: level3, Overview: "Tổng quan"})
		if err != nil {
			t.Fatal(err)
		}
		if d.ProposedLevel != 3 || d.ComputedLevel != 3 || d.Status != StatusDraft {
			t.Fatalf("dossier %+v", d)
		}
		_, err = f.s.SaveDossier(ctx, owner, sys.ID, 0, DossierInput{Answers: level3})
		wantKind(t, err, errs.KindConflict)
		// Incomplete: the design and the plan are missing.
		_, err = f.s.Move(ctx, owner, d.ID, StepSubmit, "", "")
		wantField(t, err, "design")
		if d, err = f.s.SaveDossier(ctx, owner, 0, d.ID, DossierInput{Answers: level3, Overview: "Tổng quan", Design: "Thiết kế", Plan: fullPlan()}); err != nil {
			t.Fatal(err)
		}
		if d, err = f.s.Move(ctx, owner, d.ID, StepSubmit, "", ""); err != nil {
			t.Fatal(err)
		}
		if want := t0.AddDate(0, 0, 15); !d.AppraisalDue.Equal(want) {
			t.Fatalf("appraisal due %v, want %v", d.AppraisalDue, want)
		}
		// It waits for the province's appraisal, not for the owner's viewer.
		if ws, err := f.s.Waiting(ctx, unit, 10); err != nil || len(ws) != 1 || ws[0].ID != d.ID || ws[0].Step != StepAppraise ||
			ws[0].SystemName != "HIS" || !ws[0].Due.Equal(d.AppraisalDue) || ws[0].Overview != "Tổng quan" {
			t.Fatalf("waiting %+v %v", ws, err)
		}
		if ws, err := f.s.Waiting(ctx, f.actor(f.hosp, policy.RoleViewer), 10); err != nil || len(ws) != 0 {
			t.Fatalf("waiting for a viewer %+v %v", ws, err)
		}
		// The owner's viewer may not appraise; Đà Nẵng cannot see it.
		_, err = f.s.Move(ctx, f.actor(f.hosp, policy.RoleViewer), d.ID, StepAppraise, "", "")
		wantKind(t, err, errs.KindForbidden)
		_, err = f.s.Move(ctx, f.actor(f.dn, policy.RoleAdmin), d.ID, StepAppraise, "", "")
		wantKind(t, err, errs.KindNotFound)
		// Returned without a comment: refused; with one: back to draft.
		_, err = f.s.Move(ctx, unit, d.ID, StepReturn, " ", "")
		wantField(t, err, "comment")
		f.clock.Advance(16 * 24 * time.Hour)
		if !d.AppraisalLate(f.clock.Now()) {
			t.Fatal("appraisal 16 days after submission is not late")
		}
		if d, err = f.s.Move(ctx, unit, d.ID, StepReturn, "Bổ sung phương án dự phòng", ""); err != nil {
			t.Fatal(err)
		}
		if d.Status != StatusDraft || d.Comments != "Bổ sung phương án dự phòng" || !d.SubmittedAt.IsZero() {
			t.Fatalf("returned dossier %+v", d)
		}
		// Submitted again on Friday 11 Dec; appraised the same day.
		f.clock.Set(time.Date(2026, 12, 11, 2, 0, 0, 0, time.UTC))
		if err := f.s.SetHoliday(ctx, f.actor(f.national, policy.RoleAdmin), Holiday{Day: "2026-12-15", Name: "Ngày nghỉ bù"}); err != nil {
			t.Fatal(err)
		}
		err = f.s.SetHoliday(ctx, owner, Holiday{Day: "2026-12-16", Name: "x"})
		wantKind(t, err, errs.KindForbidden)
		if _, err = f.s.Move(ctx, owner, d.ID, StepSubmit, "", ""); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Move(ctx, owner, d.ID, StepApprove, "", "")
		wantKind(t, err, errs.KindConflict)
		_, err = f.s.Move(ctx, owner, d.ID, Step("archive"), "", "")
		wantField(t, err, "step")
		if d, err = f.s.Move(ctx, unit, d.ID, StepAppraise, "Đạt", ""); err != nil {
			t.Fatal(err)
		}
		// 7 working days from Fri 11 Dec: 14, 16, 17, 18, 21, 22, 23 (15 is a holiday).
		if got := d.ApprovalDue.In(Local).Format(time.DateOnly); got != "2026-12-23" {
			t.Fatalf("approval due %s, want 2026-12-23", got)
		}
		// A coordinator of the owner may not approve (admin only); approval late flagged.
		_, err = f.s.Move(ctx, f.actor(f.hosp, policy.RoleCoordinator), d.ID, StepApprove, "", "")
		wantKind(t, err, errs.KindForbidden)
		f.clock.Set(time.Date(2026, 12, 24, 2, 0, 0, 0, time.UTC))
		if !d.ApprovalLate(f.clock.Now()) {
			t.Fatal("approval after 7 working days not flagged")
		}
		if d, err = f.s.Move(ctx, owner, d.ID, StepApprove, "", "QĐ 12/QĐ-BV"); err != nil {
			t.Fatal(err)
		}
		if !d.ApprovalLate(f.clock.Now()) {
			t.Fatal("late approval not flagged")
		}
		sys, _ = f.s.System(ctx, owner, sys.ID)
		if sys.Level != 3 {
			t.Fatalf("level %d after approval", sys.Level)
		}
		_, _, evs, err := f.s.Dossier(ctx, owner, d.ID)
		if err != nil || len(evs) != 5 || evs[1].To != EventReturned || evs[1].Comment == "" {
			t.Fatalf("history %+v %v", evs, err)
		}
		// Re-classification to level 5: appraised and approved nationally only.
		l5 := Answers{Scope: ScopeNational, DataKind: DataNational, Always24x7: true, Harm: HarmEspSerious}
		d5, err := f.s.SaveDossier(ctx, owner, sys.ID, 0, DossierInput{Answers: l5, Overview: "o", Design: "d", Plan: fullPlan()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Move(ctx, owner, d5.ID, StepSubmit, "", "")
		wantField(t, err, "expert_opinion")
		if _, err = f.s.SaveDossier(ctx, owner, 0, d5.ID, DossierInput{Answers: l5, Overview: "o", Design: "d", Plan: fullPlan(), ExpertOpinion: "Đồng ý"}); err != nil {
			t.Fatal(err)
		}
		if d5, err = f.s.Move(ctx, owner, d5.ID, StepSubmit, "", ""); err != nil {
			t.Fatal(err)
		}
		if !d5.AppraisalDue.Equal(f.clock.Now().AddDate(0, 0, 30)) {
			t.Fatalf("level-5 appraisal due %v", d5.AppraisalDue)
		}
		_, err = f.s.Move(ctx, unit, d5.ID, StepAppraise, "", "")
		wantKind(t, err, errs.KindForbidden)
		nat := f.actor(f.national, policy.RoleAdmin)
		if _, err = f.s.Move(ctx, nat, d5.ID, StepAppraise, "", ""); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Move(ctx, owner, d5.ID, StepApprove, "", "QĐ 1")
		wantKind(t, err, errs.KindForbidden)
		_, err = f.s.Move(ctx, nat, d5.ID, StepApprove, "", "")
		wantField(t, err, "decision_ref")
		if _, err = f.s.Move(ctx, nat, d5.ID, StepApprove, "", "QĐ 88/QĐ-TTg"); err != nil {
			t.Fatal(err)
		}
		_, ds, _, err := f.s.Detail(ctx, owner, sys.ID)
		if err != nil || len(ds) != 2 || ds[0].ProposedLevel != 5 || ds[1].ProposedLevel != 3 {
			t.Fatalf("history of levels %+v %v", ds, err)
		}
	})
}

func TestSchedules(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "Cổng dữ liệu"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE infosys_systems SET level = 5, level_approved_on = ? WHERE id = ?", t0.AddDate(-1, 0, 0), sys.ID); err != nil {
			t.Fatal(err)
		}
		rec := func(kind string, at time.Time, who string) error {
			_, err := f.s.RecordActivity(ctx, owner, Activity{SystemID: sys.ID, Kind: kind, DoneOn: at, Performer: who})
			return err
		}
		wantField(t, rec(KindAssessment, t0.AddDate(0, -7, 0), ""), "performer")
		wantField(t, rec(KindScan, t0.AddDate(0, 0, 1), ""), "done_on")
		wantField(t, rec("audit", t0, ""), "kind")
		if err := rec(KindAssessment, t0.AddDate(0, -7, 0), "Công ty kiểm định A"); err != nil {
			t.Fatal(err)
		}
		if err := rec(KindScan, t0.AddDate(0, -5, -10), ""); err != nil {
			t.Fatal(err)
		}
		if err := rec(KindHunt, t0.AddDate(0, -1, 0), ""); err != nil {
			t.Fatal(err)
		}
		_, _, due, err := f.s.Detail(ctx, owner, sys.ID)
		if err != nil {
			t.Fatal(err)
		}
		state := map[string]string{}
		for _, d := range due {
			state[d.Kind] = d.State
		}
		// Level 5 assessed 7 months ago: overdue; scanned 5 months 10 days ago:
		// due soon; hunted last month: fine; never drilled: overdue.
		want := map[string]string{KindAssessment: DueOverdue, KindScan: DueSoonS, KindHunt: DueOK, KindDrill: DueOverdue}
		for k, v := range want {
			if state[k] != v {
				t.Errorf("%s: %s, want %s", k, state[k], v)
			}
		}
		_, _, _, err = f.s.Detail(ctx, f.actor(f.dn, policy.RoleAdmin), sys.ID)
		wantKind(t, err, errs.KindNotFound)
		if all, err := f.s.Schedules(ctx, owner); err != nil || len(all) != len(due) || all[0].State != DueOverdue {
			t.Fatalf("schedules in scope %+v %v", all, err)
		}
		if all, err := f.s.Schedules(ctx, f.actor(f.dn, policy.RoleAdmin)); err != nil || len(all) != 0 {
			t.Fatalf("Đà Nẵng's schedules %+v %v", all, err)
		}
		// Reminders fire once per obligation and due date.
		n, err := f.s.Remind(ctx)
		if err != nil || n != 3 {
			t.Fatalf("reminders %d %v", n, err)
		}
		var queued int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE kind LIKE 'infosys.%'").Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Remind(ctx); err != nil {
			t.Fatal(err)
		}
		var again int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE kind LIKE 'infosys.%'").Scan(&again); err != nil {
			t.Fatal(err)
		}
		if queued == 0 || again != queued {
			t.Fatalf("outbox %d then %d", queued, again)
		}
	})
}

func TestPeriods(t *testing.T) {
	for _, c := range []struct {
		sys  System
		kind string
		want int
	}{
		{System{Level: 5}, KindAssessment, 6},
		{System{Level: 4}, KindAssessment, 12},
		{System{Level: 3}, KindAssessment, 12},
		{System{Level: 2}, KindAssessment, 0},
		{System{Level: 2, IOC: IOCProvincial}, KindAssessment, 6},
		{System{Level: 1, IOC: IOCCity}, KindAssessment, 12},
		{System{Level: 1}, KindScan, 6},
		{System{Level: 2}, KindDrill, 0},
		{System{Level: 3}, KindDrill, 12},
	} {
		if got := Period(c.sys, c.kind); got != c.want {
			t.Errorf("level %d ioc %q %s: %d, want %d", c.sys.Level, c.sys.IOC, c.kind, got, c.want)
		}
	}
}

func TestKPIs(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		for i, lv := range []int{3, 3, 0, 1} {
			sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HT " + itoa(int64(i)), Sector: "health", PlanDeployed: i == 0})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, "UPDATE infosys_systems SET level = ? WHERE id = ?", lv, sys.ID); err != nil {
				t.Fatal(err)
			}
		}
		ks, err := f.s.KPIs(ctx, f.actor(f.national, policy.RoleViewer), ByProvince)
		if err != nil || len(ks) != 1 {
			t.Fatalf("%+v %v", ks, err)
		}
		k := ks[0]
		if k.Key != "HN" || k.Systems != 4 || k.Classified != 3 || k.ClassPct != 75 || k.High != 2 || k.HighPlanPct != 50 || k.Target != 100 || k.MeetsTarget {
			t.Fatalf("%+v", k)
		}
		ks, _ = f.s.KPIs(ctx, f.actor(f.dn, policy.RoleViewer), ByNation)
		if len(ks) != 0 {
			t.Fatalf("DN sees %+v", ks)
		}
		_, err = f.s.KPIs(ctx, owner, "planet")
		wantField(t, err, "by")
		if Target(2023) != 80 || Target(2024) != 90 || Target(2026) != 100 || Target(2022) != 0 {
			t.Fatal("targets")
		}
	})
}
