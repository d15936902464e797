package exercise

import (
	"context"
	"testing"
	"time"

	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// An exercise injects a coordination order and an advisory to each of two
// hospitals: both arrive marked exercise, none shows in the real lists,
// needs-me lists, form 05 or the real messages, and the after-action
// report measures each hospital's answers to them and ranks the fast one
// first.
func TestExerciseOrderAndAdvisoryInjects(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		co := coord.NewService(db, f.inc, f.clock.Now, nil)
		in := intel.NewService(db, f.clock.Now, nil)
		f.s.Coord, f.s.Intel = co, in
		d := f.drill()
		hn := f.actor(f.hn, policy.RoleCoordinator)
		nat := f.actor(f.national, policy.RoleCoordinator)
		fast, slow := f.actor(f.fast, policy.RoleCoordinator), f.actor(f.slow, policy.RoleCoordinator)
		sum0, err := f.inc.Summary(ctx, nat, incident.SummaryFilter{Year: 2026})
		if err != nil {
			t.Fatal(err)
		}

		// A hospital's own drill may inject incidents, not orders or
		// advisories: it neither coordinates nor publishes.
		hd, err := f.rd.SaveDrill(ctx, f.actor(f.fast, policy.RoleAdmin), 0, readiness.DrillInput{OrgID: f.fast.ID,
			Title: "Diễn tập nội bộ", Kind: readiness.DrillOrganisation, StartsOn: t0, EndsOn: t0, Scenario: "Mất điện",
			Participants: []int64{f.slow.ID}})
		if err != nil {
			t.Fatal(err)
		}
		hx, err := f.s.Create(ctx, f.actor(f.fast, policy.RoleCoordinator), hd.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{KindOrder, KindAdvisory} {
			_, err := f.s.AddInject(ctx, f.actor(f.fast, policy.RoleCoordinator), hx.ID, InjectInput{Kind: k, Offset: 5, TargetOrgID: f.slow.ID,
				Title: "Yêu cầu", Description: "Làm ngay", Type: string(incident.TypeOther)})
			fieldErr(t, err, "kind")
		}

		ex, err := f.s.Create(ctx, hn, d.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		// Bad input: an order outside the window, an advisory to an
		// organisation outside the drill, an order without an incident type.
		_, err = f.s.AddInject(ctx, hn, ex.ID, InjectInput{Kind: KindOrder, Offset: 2 * 24 * 60, TargetOrgID: f.dn.ID,
			Title: "Cô lập", Description: "Cô lập máy chủ", Type: "worm"})
		for _, fld := range []string{"offset_minutes", "target_org_id", "type"} {
			fieldErr(t, err, fld)
		}
		_, err = f.s.AddInject(ctx, hn, ex.ID, InjectInput{Kind: KindAdvisory, Offset: -1, TargetOrgID: f.dn.ID, Title: "Cảnh báo",
			Description: "Vá ngay", Severity: "huge"})
		for _, fld := range []string{"offset_minutes", "target_org_id", "severity"} {
			fieldErr(t, err, fld)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM exercise_injects WHERE exercise_id = ?", ex.ID); n != 0 {
			t.Fatalf("injects after refusals: %d", n)
		}
		for _, o := range []org.Org{f.fast, f.slow} {
			if _, err := f.s.AddInject(ctx, hn, ex.ID, InjectInput{Kind: KindOrder, Offset: 10, TargetOrgID: o.ID,
				Title: "Cô lập máy chủ bệnh án", Description: "Ngắt máy chủ khỏi mạng và báo lại", Type: string(incident.TypeRansomware),
				Severity: string(incident.SeverityCritical)}); err != nil {
				t.Fatal(err)
			}
			adv, err := f.s.AddInject(ctx, hn, ex.ID, InjectInput{Kind: KindAdvisory, Offset: 10, TargetOrgID: o.ID,
				Title: "Cảnh báo lỗ hổng VPN", Description: "Cập nhật bản vá VPN trong 24 giờ", Type: "ignored",
				Severity: string(incident.SeverityHigh)})
			if err != nil || adv.Type != "" {
				t.Fatalf("advisory inject: %+v %v", adv, err)
			}
		}
		if _, err := f.s.Start(ctx, hn, ex.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Minute)
		if n, err := f.s.Deliver(ctx); err != nil || n != 4 {
			t.Fatalf("delivered: %d %v", n, err)
		}
		if n, _ := f.s.Deliver(ctx); n != 0 {
			t.Fatalf("delivered twice: %d", n)
		}
		_, injs, err := f.s.Get(ctx, hn, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		orderOf, advOf := map[int64]int64{}, map[int64]int64{}
		for _, x := range injs {
			switch x.Kind {
			case KindOrder:
				if x.OrderID == 0 || x.IncidentID == 0 || x.DeliveredAt.IsZero() {
					t.Fatalf("order inject: %+v", x)
				}
				orderOf[x.TargetOrgID] = x.OrderID
			case KindAdvisory:
				if x.AdvisoryID == 0 || x.DeliveredAt.IsZero() {
					t.Fatalf("advisory inject: %+v", x)
				}
				advOf[x.TargetOrgID] = x.AdvisoryID
			}
		}
		o, err := co.Order(ctx, fast, orderOf[f.fast.ID])
		if err != nil || o.ExerciseID != ex.ID || o.IssuerOrgID != f.hn.ID || o.Priority != coord.PriorityUrgent || len(o.Targets) != 1 {
			t.Fatalf("the hospital's order: %+v %v", o, err)
		}
		v, err := in.Advisory(ctx, fast, advOf[f.fast.ID])
		if err != nil || v.ExerciseID != ex.ID || v.OwnerOrgID != f.hn.ID || v.Status != intel.AdvisoryPublished {
			t.Fatalf("the hospital's advisory: %+v %v", v, err)
		}
		if _, err := in.Advisory(ctx, slow, advOf[f.fast.ID]); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("the other hospital reads it: %v", err)
		}

		// Kept apart: no real list, needs-me list or count shows them.
		for _, a := range []policy.Actor{nat, hn, fast, slow} {
			if l, err := co.Orders(ctx, a, coord.Filter{}); err != nil || len(l) != 0 {
				t.Fatalf("real orders of %s: %d %v", a.Username, len(l), err)
			}
			if l, err := in.Advisories(ctx, a, intel.AdvisoryFilter{}); err != nil || len(l) != 0 {
				t.Fatalf("real advisories of %s: %d %v", a.Username, len(l), err)
			}
			if l, err := in.Waiting(ctx, a); err != nil || len(l) != 0 {
				t.Fatalf("advisories waiting for %s: %d %v", a.Username, len(l), err)
			}
			if _, total, err := f.inc.List(ctx, a, incident.Filter{}); err != nil || total != 0 {
				t.Fatalf("real incidents of %s: %d %v", a.Username, total, err)
			}
		}
		if l, err := co.Orders(ctx, fast, coord.Filter{Exercise: true}); err != nil || len(l) != 1 {
			t.Fatalf("exercise orders of the hospital: %d %v", len(l), err)
		}
		if l, err := in.Advisories(ctx, fast, intel.AdvisoryFilter{Exercise: true}); err != nil || len(l) != 1 {
			t.Fatalf("exercise advisories of the hospital: %d %v", len(l), err)
		}
		if _, total, err := f.inc.List(ctx, nat, incident.Filter{Exercises: true}); err != nil || total != 2 {
			t.Fatalf("exercise incidents (the orders'): %d %v", total, err)
		}
		sum1, _ := f.inc.Summary(ctx, nat, incident.SummaryFilter{Year: 2026})
		if sum1.Total.Count != sum0.Total.Count {
			t.Fatalf("form 05 total: %d, want %d", sum1.Total.Count, sum0.Total.Count)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE exercise = ?", false); n != 0 {
			t.Fatalf("real (unmarked) messages: %d", n)
		}

		// The fast hospital answers both within minutes; the slow one only
		// acknowledges, late.
		step := func(d time.Duration, fn func() error) {
			t.Helper()
			f.clock.Advance(d)
			if err := fn(); err != nil {
				t.Fatal(err)
			}
		}
		respond := func(a policy.Actor, id int64, st, result string) func() error {
			return func() error {
				_, err := co.Respond(ctx, a, id, coord.RespondInput{Status: st, Result: result})
				return err
			}
		}
		answer := func(a policy.Actor, id int64, r intel.RespondInput) func() error {
			return func() error { _, err := in.Respond(ctx, a, id, r); return err }
		}
		step(2*time.Minute, respond(fast, orderOf[f.fast.ID], coord.StatusAcknowledged, ""))
		step(time.Minute, answer(fast, advOf[f.fast.ID], intel.RespondInput{Acknowledge: true}))
		step(2*time.Minute, respond(fast, orderOf[f.fast.ID], coord.StatusInProgress, "Đã ngắt 2 máy chủ"))
		step(3*time.Minute, answer(fast, advOf[f.fast.ID], intel.RespondInput{Outcome: intel.OutcomeRemediated, Note: "Đã vá"}))
		step(2*time.Minute, respond(fast, orderOf[f.fast.ID], coord.StatusDone, "Đã cô lập xong"))
		step(20*time.Minute, respond(slow, orderOf[f.slow.ID], coord.StatusAcknowledged, ""))
		step(10*time.Minute, answer(slow, advOf[f.slow.ID], intel.RespondInput{Acknowledge: true}))

		r, err := f.s.Report(ctx, hn, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Teams) != 2 || r.Teams[0].OrgID != f.fast.ID || r.Teams[1].OrgID != f.slow.ID {
			t.Fatalf("ranking: %+v", r.Teams)
		}
		ft, st := r.Teams[0], r.Teams[1]
		want := map[string]map[string]time.Duration{
			KindOrder:    {MeasureAck: 2 * time.Minute, MeasureAct: 5 * time.Minute, MeasureReport: 5 * time.Minute, MeasureClose: 10 * time.Minute},
			KindAdvisory: {MeasureAck: 3 * time.Minute, MeasureReport: 8 * time.Minute, MeasureClose: 8 * time.Minute},
		}
		if len(ft.Times) != 2 {
			t.Fatalf("fast times: %+v", ft.Times)
		}
		for _, tm := range ft.Times {
			w := want[tm.Kind]
			if len(tm.After) != len(w) {
				t.Fatalf("%s measures: %v, want %v", tm.Kind, tm.After, w)
			}
			for m, d := range w {
				if tm.After[m] != d {
					t.Fatalf("%s %s: %v, want %v", tm.Kind, m, tm.After[m], d)
				}
			}
		}
		if ft.Score != 100 || ft.Total[MeasureAck] != 5*time.Minute {
			t.Fatalf("fast: score %v, ack total %v", ft.Score, ft.Total[MeasureAck])
		}
		// slow: order ack 100×2/30, advisory ack 100×3/40, five misses:
		// (6.67 + 7.5) / 7 = 2.02 → 2.
		if st.Score != 2 || st.Total[MeasureAck] != 70*time.Minute || st.Missed[MeasureAct] != 1 || st.Missed[MeasureReport] != 2 ||
			st.Missed[MeasureClose] != 2 {
			t.Fatalf("slow: %+v", st)
		}
		kinds := map[string]int{}
		for _, s := range r.Timeline {
			kinds[s.Kind]++
		}
		if kinds["inject"] != 4 || kinds["order.done"] != 1 || kinds["advisory.acknowledged"] != 2 || kinds["advisory.reported"] != 1 {
			t.Fatalf("timeline: %v", kinds)
		}
	})
}
