package readiness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// t0 is a Thursday morning in Hà Nội.
var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

type fixture struct {
	t     testing.TB
	db    *store.DB
	orgs  *org.Service
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, hn, hnm, dn org.Org
	uid                   int64
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testkit.NewClock(t0)
	f := &fixture{t: t, db: db, clock: clock, sys: policy.SystemActor("test"), uid: 1000}
	f.orgs = org.NewService(db, clock.Now, nil)
	f.s = NewService(db, clock.Now, nil)
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 2}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	f.national = f.create(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.hn = f.create(org.Input{Code: "HN", Name: "Sở KH&CN Hà Nội", ParentID: f.national.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.hnm = f.create(org.Input{Code: "HNM", Name: "Bệnh viện Hà Nội", ParentID: f.hn.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.dn = f.create(org.Input{Code: "DN", Name: "Sở KH&CN Đà Nẵng", ParentID: f.national.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	return f
}

func (f *fixture) create(in org.Input) org.Org {
	f.t.Helper()
	o, err := f.orgs.Create(context.Background(), f.sys, in)
	if err != nil {
		f.t.Fatalf("create org %s: %v", in.Code, err)
	}
	return o
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

func (f *fixture) team(a policy.Actor, orgID int64, name string) Team {
	f.t.Helper()
	tm, err := f.s.CreateTeam(context.Background(), a, TeamInput{OrgID: orgID, Name: name, Email: "csirt@hn.gov.vn"})
	if err != nil {
		f.t.Fatal(err)
	}
	return tm
}

func (f *fixture) person(a policy.Actor, orgID int64, name string) Person {
	f.t.Helper()
	p, err := f.s.CreatePerson(context.Background(), a, PersonInput{OrgID: orgID, FullName: name})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) verifyAudit() {
	f.t.Helper()
	res, err := audit.Verify(context.Background(), f.db, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Break != nil {
		f.t.Fatalf("audit chain broken at %d: %s", res.Break.Seq, res.Break.Reason)
	}
}

func fieldErr(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalid || !e.Has(field) {
		t.Fatalf("want invalid %s, got %v", field, err)
	}
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTeamsAndMembers(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.hn, policy.RoleAdmin)

		// Bad input changes nothing.
		_, err := f.s.CreateTeam(ctx, admin, TeamInput{OrgID: f.hn.ID, Name: "  ", Email: "not an address"})
		fieldErr(t, err, "name")
		fieldErr(t, err, "email")
		if n := count(t, db, "SELECT COUNT(*) FROM readiness_teams"); n != 0 {
			t.Fatalf("teams after bad input: %d", n)
		}
		tm := f.team(admin, f.hn.ID, "Đội ứng cứu sự cố Hà Nội")
		_, err = f.s.CreateTeam(ctx, admin, TeamInput{OrgID: f.hn.ID, Name: "Đội ứng cứu sự cố Hà Nội"})
		fieldErr(t, err, "name")

		// A viewer reads but does not write; another province does not see it.
		viewer := f.actor(f.hn, policy.RoleViewer)
		if _, err := f.s.Team(ctx, viewer, tm.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CreateTeam(ctx, viewer, TeamInput{OrgID: f.hn.ID, Name: "X"}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer create: %v", err)
		}
		dnAdmin := f.actor(f.dn, policy.RoleAdmin)
		if _, err := f.s.Team(ctx, dnAdmin, tm.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("other province reads: %v", err)
		}
		if ts, err := f.s.Teams(ctx, dnAdmin, 0); err != nil || len(ts) != 0 {
			t.Fatalf("other province lists %v %v", ts, err)
		}

		// A member of another organisation only with an agreement.
		own := f.person(admin, f.hn.ID, "Nguyễn Văn An")
		other := f.person(admin, f.hnm.ID, "Trần Thị Bình")
		if _, err := f.s.AddMember(ctx, admin, tm.ID, own.ID, RoleLead); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.AddMember(ctx, admin, tm.ID, other.ID, RoleExpert)
		fieldErr(t, err, "person_id")
		_, err = f.s.AddMember(ctx, admin, tm.ID, own.ID, "boss")
		fieldErr(t, err, "role")
		fieldErr(t, err, "person_id") // already a member
		// An agreement that ended does not count.
		if _, err := f.s.AddAgreement(ctx, admin, AgreementInput{OrgID: f.hn.ID, PartnerOrgID: f.hnm.ID,
			DocRef: "01/2024/TTHT", SignedOn: t0.AddDate(-2, 0, 0), ValidUntil: t0.AddDate(-1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.AddMember(ctx, admin, tm.ID, other.ID, RoleExpert)
		fieldErr(t, err, "person_id")
		_, err = f.s.AddAgreement(ctx, admin, AgreementInput{OrgID: f.hn.ID, PartnerOrgID: f.hn.ID, DocRef: ""})
		fieldErr(t, err, "partner_org_id")
		fieldErr(t, err, "doc_ref")
		fieldErr(t, err, "signed_on")
		g, err := f.s.AddAgreement(ctx, admin, AgreementInput{OrgID: f.hn.ID, PartnerOrgID: f.hnm.ID,
			DocRef: "07/2026/TTHT", SignedOn: t0.AddDate(0, -1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.s.AddMember(ctx, admin, tm.ID, other.ID, RoleExpert)
		if err != nil || m.AgreementID != g.ID {
			t.Fatalf("member with agreement: %+v %v", m, err)
		}
		if err := f.s.RemoveMember(ctx, viewer, tm.ID, other.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer removes: %v", err)
		}
		if err := f.s.RemoveMember(ctx, admin, tm.ID, other.ID); err != nil {
			t.Fatal(err)
		}
		d, err := f.s.Team(ctx, admin, tm.ID)
		if err != nil || d.Members != 1 {
			t.Fatalf("team after remove: %+v %v", d, err)
		}
		f.verifyAudit()
	})
}

func TestQualifiedExpertsAndCertificateExpiry(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.hn, policy.RoleAdmin)
		tm := f.team(admin, f.hn.ID, "Đội ƯCSC")
		for i := range 5 {
			p := f.person(admin, f.hn.ID, fmt.Sprintf("Chuyên gia %d", i+1))
			if _, err := f.s.AddMember(ctx, admin, tm.ID, p.ID, RoleExpert); err != nil {
				t.Fatal(err)
			}
			exp := t0.AddDate(2, 0, 0)
			if i == 0 {
				exp = t0.AddDate(0, 0, 10) // expires in ten days
			}
			if _, err := f.s.AddCertificate(ctx, admin, p.ID, CertificateInput{Name: "GCIH", Issuer: "GIAC",
				ObtainedOn: t0.AddDate(-1, 0, 0), ExpiresOn: exp}); err != nil {
				t.Fatal(err)
			}
		}
		// Bad certificate input.
		_, err := f.s.AddCertificate(ctx, admin, 0, CertificateInput{Name: "x", ObtainedOn: t0})
		if !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("certificate of nobody: %v", err)
		}
		d, _ := f.s.Team(ctx, admin, tm.ID)
		p1 := d.MemberList[0].ID
		_, err = f.s.AddCertificate(ctx, admin, p1, CertificateInput{Name: "", ObtainedOn: t0.AddDate(1, 0, 0), ExpiresOn: t0.AddDate(-1, 0, 0)})
		fieldErr(t, err, "name")
		fieldErr(t, err, "obtained_on")
		fieldErr(t, err, "expires_on")

		ts, err := f.s.Teams(ctx, admin, f.hn.ID)
		if err != nil || len(ts) != 1 || ts[0].Qualified != 5 || !ts[0].MeetsExperts() {
			t.Fatalf("teams: %+v %v", ts, err)
		}
		// Reminder: once, to the organisation (with, in November, the
		// two provinces without a drill this year).
		n, err := f.s.Remind(ctx)
		if err != nil || n != 3 {
			t.Fatalf("remind: %d %v", n, err)
		}
		f.s.Remind(ctx)
		if c := count(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = ?", NotifyCertExpiring); c != 1 {
			t.Fatalf("notifications: %d", c)
		}
		if xs, err := f.s.Expiring(ctx, admin); err != nil || len(xs) != 1 {
			t.Fatalf("expiring: %v %v", xs, err)
		}
		if xs, _ := f.s.Expiring(ctx, f.actor(f.dn, policy.RoleAdmin)); len(xs) != 0 {
			t.Fatalf("expiring seen by another province: %v", xs)
		}
		// On its expiry day the certificate still counts, in the list (SQL)
		// as on the team page (Person.Qualified).
		f.clock.Advance(10 * 24 * time.Hour)
		ts, _ = f.s.Teams(ctx, admin, f.hn.ID)
		if d, err := f.s.Team(ctx, admin, tm.ID); err != nil || ts[0].Qualified != 5 || d.Qualified != 5 || ts[0].Members != 5 {
			t.Fatalf("on the expiry day: list %+v, team %d %v", ts[0], d.Qualified, err)
		}
		// The day after it has expired: four qualified.
		f.clock.Advance(24 * time.Hour)
		ts, _ = f.s.Teams(ctx, admin, f.hn.ID)
		if d, _ := f.s.Team(ctx, admin, tm.ID); ts[0].Qualified != 4 || d.Qualified != 4 || ts[0].MeetsExperts() {
			t.Fatalf("after expiry: %+v", ts[0])
		}
		if xs, _ := f.s.Expiring(ctx, admin); len(xs) != 0 {
			t.Fatalf("expired still expiring: %v", xs)
		}
		f.verifyAudit()
	})
}

func TestRotaUncoveredNight(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.hn, policy.RoleAdmin)
		tm := f.team(admin, f.hn.ID, "Đội trực")
		a := f.person(admin, f.hn.ID, "Ngày")
		b := f.person(admin, f.hn.ID, "Đêm")
		outsider := f.person(admin, f.hn.ID, "Không trong đội")
		for _, p := range []Person{a, b} {
			if _, err := f.s.AddMember(ctx, admin, tm.ID, p.ID, RoleMember); err != nil {
				t.Fatal(err)
			}
		}
		week := WeekStart(t0)
		if week.Weekday() != time.Monday || week.In(Local).Hour() != 0 {
			t.Fatalf("week start %v", week)
		}
		// Day shifts 06–18 every day, night shifts 18–06 except Wednesday's night.
		for i := -1; i < 7; i++ {
			d := week.AddDate(0, 0, i)
			if i >= 0 {
				if _, err := f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: a.ID, StartsAt: d.Add(6 * time.Hour), EndsAt: d.Add(18 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			if i == 2 {
				continue
			}
			if _, err := f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: b.ID, StartsAt: d.Add(18 * time.Hour), EndsAt: d.Add(30 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		cov, err := f.s.Coverage(ctx, admin, tm.ID, t0)
		if err != nil {
			t.Fatal(err)
		}
		if cov.UncoveredNight != 1 || !cov.Days[2].NightUncovered || cov.Full() {
			t.Fatalf("coverage: nights %d, wed %v, full %v", cov.UncoveredNight, cov.Days[2].NightUncovered, cov.Full())
		}
		// Wednesday 18:00 to midnight and Thursday 00:00–06:00 are gaps, at night.
		if len(cov.Days[2].Gaps) != 1 || !cov.Days[2].Gaps[0].Night || len(cov.Days[3].Gaps) != 1 || !cov.Days[3].Gaps[0].Night {
			t.Fatalf("gaps: %+v %+v", cov.Days[2].Gaps, cov.Days[3].Gaps)
		}
		if cov.TotalMinutes-cov.CoveredMinutes != 12*60 {
			t.Fatalf("uncovered minutes %d", cov.TotalMinutes-cov.CoveredMinutes)
		}
		// Fill the night: the week is covered 24/7.
		d := week.AddDate(0, 0, 2)
		if _, err := f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: b.ID, StartsAt: d.Add(18 * time.Hour), EndsAt: d.Add(30 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		cov, _ = f.s.Coverage(ctx, admin, tm.ID, t0)
		if !cov.Full() || cov.UncoveredNight != 0 {
			t.Fatalf("full coverage expected: %+v", cov)
		}
		// Bad input.
		_, err = f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: outsider.ID, StartsAt: t0, EndsAt: t0.Add(-time.Hour)})
		fieldErr(t, err, "person_id")
		fieldErr(t, err, "ends_at")
		_, err = f.s.AddShift(ctx, admin, tm.ID, ShiftInput{PersonID: a.ID, StartsAt: t0, EndsAt: t0.Add(25 * time.Hour)})
		fieldErr(t, err, "ends_at")
		f.verifyAudit()
	})
}

func sim3All(level int) map[string]Sim3Score {
	m := map[string]Sim3Score{}
	for _, p := range Sim3Params {
		m[p.ID] = Sim3Score{Level: level, Evidence: "Quy chế số 12/QĐ"}
	}
	return m
}

func TestSim3(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if len(Sim3Params) != 44 {
			t.Fatalf("SIM3 v1 has 44 parameters, list has %d", len(Sim3Params))
		}
		admin := f.actor(f.hn, policy.RoleAdmin)
		tm := f.team(admin, f.hn.ID, "Đội ƯCSC Hà Nội")
		dnAdmin := f.actor(f.dn, policy.RoleAdmin)
		tm2 := f.team(dnAdmin, f.dn.ID, "Đội ƯCSC Đà Nẵng")

		bad := sim3All(2)
		bad["O-1"] = Sim3Score{Level: 5}
		bad["H-2"] = Sim3Score{Level: -1}
		delete(bad, "P-17")
		bad["X-9"] = Sim3Score{Level: 1}
		_, err := f.s.Assess(ctx, admin, tm.ID, Sim3Input{AssessedOn: t0, Scores: bad})
		fieldErr(t, err, "level_O-1")
		fieldErr(t, err, "level_H-2")
		fieldErr(t, err, "level_P-17")
		fieldErr(t, err, "scores")
		if n := count(t, db, "SELECT COUNT(*) FROM readiness_sim3"); n != 0 {
			t.Fatalf("assessments after bad input: %d", n)
		}
		if _, err := f.s.Assess(ctx, f.actor(f.hn, policy.RoleAnalyst), tm.ID, Sim3Input{AssessedOn: t0, Scores: sim3All(1)}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("analyst assesses: %v", err)
		}
		if _, err := f.s.Assess(ctx, admin, tm.ID, Sim3Input{AssessedOn: t0.AddDate(-1, 0, 0), Scores: sim3All(1)}); err != nil {
			t.Fatal(err)
		}
		x, err := f.s.Assess(ctx, admin, tm.ID, Sim3Input{AssessedOn: t0, Assessor: "Nguyễn Văn An", Scores: sim3All(3)})
		if err != nil || x.Total != 3*44 {
			t.Fatalf("assess: %+v %v", x, err)
		}
		if _, err := f.s.Assess(ctx, dnAdmin, tm2.ID, Sim3Input{AssessedOn: t0, Scores: sim3All(1)}); err != nil {
			t.Fatal(err)
		}
		hist, err := f.s.Assessments(ctx, admin, tm.ID)
		if err != nil || len(hist) != 2 || hist[0].ID != x.ID || len(hist[0].Scores) != 44 || hist[0].Scores[0].Param != "O-1" {
			t.Fatalf("history: %d %v", len(hist), err)
		}
		national := f.actor(f.national, policy.RoleAuditor)
		m, err := f.s.Maturity(ctx, national)
		if err != nil || len(m.ByProvince) != 2 {
			t.Fatalf("maturity: %+v %v", m, err)
		}
		if m.ByProvince[1].Key != "HN" || m.ByProvince[1].Average != 3 || m.ByProvince[1].Categories["P"] != 3 ||
			m.ByProvince[0].Average != 1 {
			t.Fatalf("maturity by province: %+v", m.ByProvince)
		}
		mhn, _ := f.s.Maturity(ctx, admin)
		if len(mhn.ByProvince) != 1 || mhn.ByProvince[0].Key != "HN" {
			t.Fatalf("maturity in HN scope: %+v", mhn.ByProvince)
		}
		f.verifyAudit()
	})
}

func TestTargets1014(t *testing.T) {
	people := []Person{
		{IOCRole: IOCOperator, Trainings: []Training{{Level: LevelBasic}}},
		{IOCRole: IOCOperator},
		{IOCRole: IOCSecurity, Trainings: []Training{{Level: LevelAdvanced}}},
		{IOCRole: IOCSecurity, Trainings: []Training{{Level: LevelBasic}}},
		{},
	}
	tg := Targets(people)
	if tg.OperatorsPct() != 50 || tg.SecurityPct() != 50 || tg.Operators != 2 || tg.Security != 2 {
		t.Fatalf("targets: %+v", tg)
	}
	if (Targets1014{}).OperatorsPct() != 100 {
		t.Fatal("no operators: nothing to do")
	}
}
