package exercise

import (
	"context"
	"strconv"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	db    *store.DB
	clock *testkit.Clock
	orgs  *org.Service
	inc   *incident.Service
	rd    *readiness.Service
	s     *Service
	sys   policy.Actor
	uid   int64

	national, hn, fast, slow, dn org.Org
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, db: db, clock: testkit.NewClock(t0), sys: policy.SystemActor("test"), uid: 100}
	f.orgs = org.NewService(db, f.clock.Now, nil)
	f.inc = incident.NewService(db, f.orgs, f.clock.Now, nil)
	f.rd = readiness.NewService(db, f.clock.Now, nil)
	f.s = NewService(db, f.inc, f.rd, f.clock.Now, nil)
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 2}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(in org.Input) org.Org {
		o, err := f.orgs.Create(ctx, f.sys, in)
		if err != nil {
			t.Fatalf("org %s: %v", in.Code, err)
		}
		return o
	}
	f.national = mk(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.hn = mk(org.Input{Code: "HN", Name: "Sở KH&CN Hà Nội", ParentID: f.national.ID, ProvinceCode: "HN", IntakeEmail: "ucsc@hanoi.gov.vn",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.fast = mk(org.Input{Code: "BVA", Name: "Bệnh viện A", ParentID: f.hn.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.slow = mk(org.Input{Code: "BVB", Name: "Bệnh viện B", ParentID: f.hn.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.dn = mk(org.Input{Code: "DN", Name: "Sở KH&CN Đà Nẵng", ParentID: f.national.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
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

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fieldErr(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalid || !e.Has(field) {
		t.Fatalf("want a field error on %s, got %v", field, err)
	}
}

// drill: Hà Nội plans a ransomware drill today and tomorrow with two
// hospitals.
func (f *fixture) drill() readiness.Drill {
	f.t.Helper()
	d, err := f.rd.SaveDrill(context.Background(), f.actor(f.hn, policy.RoleAdmin), 0, readiness.DrillInput{OrgID: f.hn.ID,
		Title: "Diễn tập ứng phó mã độc tống tiền", Kind: readiness.DrillOrganisation, StartsOn: t0, EndsOn: t0.AddDate(0, 0, 1),
		Scenario: "Mã độc tống tiền mã hoá máy chủ bệnh án điện tử", Participants: []int64{f.fast.ID, f.slow.ID}})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func TestExerciseRunMeasuredAndKeptApart(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		d := f.drill()
		hn := f.actor(f.hn, policy.RoleCoordinator)
		nat := f.actor(f.national, policy.RoleCoordinator)

		// A real incident before the exercise: the real counts to keep.
		realInc, err := f.inc.Create(ctx, f.actor(f.fast, policy.RoleReporter), incident.Input{Title: "Lừa đảo qua thư điện tử",
			Description: "Thư giả mạo gửi tới nhân viên", System: incident.System{Name: "Thư điện tử"}, Type: incident.TypePhishing, DetectedAt: t0.Add(-time.Hour), DetectedBy: incident.DetectLogReview,
			Contact: incident.Contact{Name: "Trần B", Email: "b@bva.vn"}})
		if err != nil {
			t.Fatal(err)
		}
		_, realTotal, err := f.inc.List(ctx, nat, incident.Filter{})
		if err != nil || realTotal != 1 {
			t.Fatalf("real list: %d %v", realTotal, err)
		}
		sum0, err := f.inc.Summary(ctx, nat, incident.SummaryFilter{Year: 2026})
		if err != nil {
			t.Fatal(err)
		}

		ex, err := f.s.Create(ctx, hn, d.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		// Refusals write nothing: a participant's coordinator, another
		// province, a target outside the drill, an inject outside its window.
		audits := count(t, db, "SELECT COUNT(*) FROM audit_log")
		if _, err := f.s.AddInject(ctx, f.actor(f.fast, policy.RoleCoordinator), ex.ID, InjectInput{TargetOrgID: f.slow.ID,
			Title: "x", Description: "x", Type: string(incident.TypeRansomware)}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a participant builds injects: %v", err)
		}
		if _, err := f.s.AddInject(ctx, f.actor(f.dn, policy.RoleCoordinator), ex.ID, InjectInput{TargetOrgID: f.slow.ID,
			Title: "x", Type: string(incident.TypeRansomware)}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province builds injects: %v", err)
		}
		_, err = f.s.AddInject(ctx, hn, ex.ID, InjectInput{Offset: 3 * 24 * 60, TargetOrgID: f.dn.ID, Title: "",
			Type: "worm", Severity: "huge", Kind: "tabletop"})
		for _, fld := range []string{"offset_minutes", "target_org_id", "title", "type", "severity", "kind"} {
			fieldErr(t, err, fld)
		}
		_, err = f.s.AddInject(ctx, hn, ex.ID, InjectInput{Offset: -5, TargetOrgID: f.fast.ID, Title: "x", Type: string(incident.TypeRansomware)})
		fieldErr(t, err, "offset_minutes")
		if _, err := f.s.Start(ctx, hn, ex.ID); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("start without injects: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM exercise_injects"); n != 0 {
			t.Fatalf("injects after refusals: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_log"); n != audits {
			t.Fatalf("audit entries after refusals: %d, want %d", n, audits)
		}

		// Two injects at +10 minutes, one per hospital, from the scenario.
		for _, o := range []org.Org{f.fast, f.slow} {
			if _, err := f.s.AddInject(ctx, hn, ex.ID, InjectInput{Offset: 10, TargetOrgID: o.ID, Title: "Máy chủ bệnh án bị mã hoá",
				Description: d.Scenario, Type: string(incident.TypeRansomware), Severity: string(incident.SeverityHigh)}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := f.s.Deliver(ctx); err != nil || n != 0 {
			t.Fatalf("delivered before the start: %d %v", n, err)
		}
		if _, err := f.s.Start(ctx, hn, ex.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Start(ctx, hn, ex.ID); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("started twice: %v", err)
		}
		f.clock.Advance(9 * time.Minute)
		if n, _ := f.s.Deliver(ctx); n != 0 {
			t.Fatalf("delivered a minute early: %d", n)
		}
		f.clock.Advance(time.Minute)
		if n, err := f.s.Deliver(ctx); err != nil || n != 2 {
			t.Fatalf("delivered at its time: %d %v", n, err)
		}
		if n, _ := f.s.Deliver(ctx); n != 0 {
			t.Fatalf("delivered twice: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM incidents WHERE exercise_id = ?", ex.ID); n != 2 {
			t.Fatalf("exercise incidents: %d", n)
		}

		// Kept apart: the real list, the form 05 summary and the due list do
		// not change; the exercise view lists both; every message is marked.
		_, total, _ := f.inc.List(ctx, nat, incident.Filter{})
		if total != realTotal {
			t.Fatalf("real list after the exercise: %d, want %d", total, realTotal)
		}
		exList, exTotal, _ := f.inc.List(ctx, nat, incident.Filter{ExerciseID: ex.ID})
		if exTotal != 2 || exList[0].ExerciseID != ex.ID {
			t.Fatalf("exercise list: %d %+v", exTotal, exList)
		}
		sum1, _ := f.inc.Summary(ctx, nat, incident.SummaryFilter{Year: 2026})
		if sum1.Total.Count != sum0.Total.Count {
			t.Fatalf("form 05 total: %d, want %d", sum1.Total.Count, sum0.Total.Count)
		}
		due, _ := f.inc.Due(ctx, nat, incident.DueFilter{Within: 365 * 24 * time.Hour})
		for _, it := range due {
			if it.Incident.ExerciseID != 0 {
				t.Fatalf("exercise incident on the due list: %s", it.Incident.Ref)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE link <> ? AND exercise = ?",
			"/incidents/"+realInc.Ref, false); n != 0 {
			t.Fatalf("exercise messages not marked: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE exercise = ?", true); n < 2 {
			t.Fatalf("marked messages: %d", n)
		}

		// The fast hospital acknowledges in 2 minutes and starts work; the
		// slow one in 40 minutes only.
		_, injs, _ := f.s.Get(ctx, hn, ex.ID)
		incOf := map[int64]int64{}
		for _, in := range injs {
			incOf[in.TargetOrgID] = in.IncidentID
		}
		ack := func(o org.Org) {
			a := f.actor(o, policy.RoleCoordinator)
			inc, err := f.inc.Get(ctx, a, itoa(incOf[o.ID]))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.inc.Acknowledge(ctx, a, inc.Ref, inc.Reports[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(2 * time.Minute)
		ack(f.fast)
		f.clock.Advance(3 * time.Minute)
		if _, err := f.inc.Transition(ctx, f.actor(f.fast, policy.RoleCoordinator), itoa(incOf[f.fast.ID]),
			incident.StatusVerified, incident.TransitionInput{}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(35 * time.Minute)
		ack(f.slow)

		if _, err := f.s.AddNote(ctx, hn, ex.ID, NoteAction, "Cập nhật danh bạ trực", "", time.Time{}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("action without owner: %v", err)
		}
		if _, err := f.s.AddNote(ctx, hn, ex.ID, NoteLesson, "Bệnh viện B chưa có người trực đêm", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddNote(ctx, hn, ex.ID, NoteAction, "Bổ sung người trực", "Bệnh viện B", t0.AddDate(0, 1, 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Stop(ctx, hn, ex.ID); err != nil {
			t.Fatal(err)
		}

		r, err := f.s.Report(ctx, f.actor(f.slow, policy.RoleReporter), ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Teams) != 2 || r.Teams[0].OrgID != f.fast.ID || r.Teams[0].Rank != 1 || r.Teams[1].OrgID != f.slow.ID {
			t.Fatalf("ranking: %+v", r.Teams)
		}
		fast, slow := r.Teams[0], r.Teams[1]
		if fast.Total[MeasureAck] != 2*time.Minute || slow.Total[MeasureAck] != 40*time.Minute {
			t.Fatalf("times to acknowledge: %v %v", fast.Total[MeasureAck], slow.Total[MeasureAck])
		}
		if fast.Total[MeasureAct] != 5*time.Minute || fast.Missed[MeasureAct] != 0 || slow.Missed[MeasureAct] != 1 {
			t.Fatalf("times to act: %+v %+v", fast, slow)
		}
		if fast.Missed[MeasureClose] != 1 || slow.Missed[MeasureReport] != 1 {
			t.Fatalf("missed: %+v %+v", fast.Missed, slow.Missed)
		}
		// fast: ack 100, act 100, report and close missed → 50; slow: ack
		// 100×2/40 = 5, the rest missed → 1.25 → 1.3.
		if fast.Score != 50 || slow.Score != 1.3 {
			t.Fatalf("scores: %v %v", fast.Score, slow.Score)
		}
		if len(r.Lessons) != 1 || len(r.Actions) != 1 || r.Actions[0].Owner != "Bệnh viện B" {
			t.Fatalf("notes: %+v %+v", r.Lessons, r.Actions)
		}
		if len(r.Timeline) < 5 || r.Timeline[0].Kind != "inject" {
			t.Fatalf("timeline: %+v", r.Timeline)
		}
		if _, err := f.s.Report(ctx, f.actor(f.dn, policy.RoleCoordinator), ex.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province reads the report: %v", err)
		}
		// Stopped: no more injects.
		if _, err := f.s.AddInject(ctx, hn, ex.ID, InjectInput{Offset: 20, TargetOrgID: f.fast.ID, Title: "x",
			Type: string(incident.TypeRansomware)}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("inject after the stop: %v", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
