package coord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestIssueAndRespond(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		obs, err := f.inc.AddObservable(ctx, f.actor(f.national, policy.RoleAnalyst), inc.Ref, "ipv4", "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		natc := f.actor(f.national, policy.RoleCoordinator)
		hnc := f.actor(f.hn, policy.RoleCoordinator)
		good := IssueInput{Title: "Chặn địa chỉ 198.51.100.7", Actions: "Chặn và làm sạch máy chủ.", Priority: PriorityUrgent,
			DeadlineAt: t0.Add(48 * time.Hour), Targets: []int64{f.isp.ID}, ObservableIDs: []int64{obs.ID}}

		// Refused, nothing written: a target outside the issuer's scope,
		// bad fields, an analyst, a member organisation, an outsider.
		orders, events := f.count("coord_orders"), f.count("incident_events")
		bad := good
		bad.Targets = []int64{f.isp.ID, f.dnm.ID}
		_, err = f.s.Issue(ctx, hnc, inc.Ref, bad)
		if e, ok := errs.As(err); !ok || !e.Has("targets") {
			t.Fatalf("target outside scope: %v", err)
		}
		bad.Targets = []int64{f.isp.ID, 999999, f.isp.ID}
		if e, ok := errs.As(mustErr(f.s.Issue(ctx, natc, inc.Ref, bad))); !ok || e.Fields["targets"].Key != "coord.err.target_unknown" {
			t.Fatalf("unknown target: %v", e)
		}
		_, err = f.s.Issue(ctx, natc, inc.Ref, IssueInput{Priority: "x", DeadlineAt: t0.Add(-time.Hour), TLP: "PURPLE", ObservableIDs: []int64{999999}})
		e, ok := errs.As(err)
		if !ok {
			t.Fatalf("invalid: %v", err)
		}
		for _, k := range []string{"title", "actions", "priority", "deadline_at", "tlp", "targets", "observables"} {
			if !e.Has(k) {
				t.Errorf("no error on %s: %v", k, e.Fields)
			}
		}
		wantKind(t, mustErr(f.s.Issue(ctx, f.actor(f.national, policy.RoleAnalyst), inc.Ref, good)), errs.KindForbidden)
		wantKind(t, mustErr(f.s.Issue(ctx, f.actor(f.hnm, policy.RoleCoordinator), inc.Ref, good)), errs.KindForbidden)
		// The pages offer the form to the same people.
		for _, c := range []struct {
			a   policy.Actor
			may bool
		}{{natc, true}, {hnc, true}, {f.actor(f.national, policy.RoleAnalyst), false}, {f.actor(f.hnm, policy.RoleCoordinator), false},
			{f.actor(f.isp, policy.RoleCoordinator), false}} {
			if got := f.s.MayIssue(ctx, c.a); got != c.may {
				t.Errorf("MayIssue %s %v: %v", c.a.Username, c.a.Roles, got)
			}
		}
		wantKind(t, mustErr(f.s.Issue(ctx, f.actor(f.dn, policy.RoleCoordinator), inc.Ref, good)), errs.KindNotFound)
		if f.count("coord_orders") != orders || f.count("coord_order_targets") != 0 || f.count("incident_events") != events {
			t.Fatal("a refused order changed something")
		}

		o, err := f.s.Issue(ctx, natc, inc.Ref, good)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Targets) != 1 || o.Targets[0].Status != StatusSent || !o.Targets[0].AckDueAt.Equal(t0.Add(AckUrgent)) ||
			len(o.Observables) != 1 || o.Observables[0].Value != "198.51.100.7" || o.TLP != inc.TLP {
			t.Fatalf("order %+v", o)
		}
		if got := f.outbox(KindOrderIssued); len(got) != 1 || !strings.Contains(got[0], fmt.Sprint(f.isp.ID)) {
			t.Fatalf("issued message %v", got)
		}

		// Who sees the order: issuer, target, national; not a sibling
		// province or a member elsewhere.
		isp := f.actor(f.isp, policy.RoleAnalyst)
		for _, c := range []struct {
			a    policy.Actor
			sees bool
		}{{natc, true}, {isp, true}, {f.actor(f.isp, policy.RoleViewer), true}, {f.actor(f.dn, policy.RoleCoordinator), false},
			{f.actor(f.hnm, policy.RoleReporter), false}} {
			_, err := f.s.Order(ctx, c.a, o.ID)
			if (err == nil) != c.sees {
				t.Errorf("%s sees=%v: %v", c.a.Username, c.sees, err)
			}
		}
		if in, err := f.s.Orders(ctx, isp, Filter{Direction: DirIn}); err != nil || len(in) != 1 {
			t.Fatalf("orders to ISP: %v %v", in, err)
		}
		if out, err := f.s.Orders(ctx, isp, Filter{Direction: DirOut}); err != nil || len(out) != 0 {
			t.Fatalf("orders from ISP: %v %v", out, err)
		}

		// Transitions.
		wantKind(t, mustErr(f.s.Respond(ctx, f.actor(f.isp, policy.RoleViewer), o.ID, RespondInput{Status: StatusAcknowledged})), errs.KindForbidden)
		wantKind(t, mustErr(f.s.Respond(ctx, natc, o.ID, RespondInput{Status: StatusAcknowledged})), errs.KindForbidden)
		wantKind(t, mustErr(f.s.Respond(ctx, f.actor(f.dn, policy.RoleAnalyst), o.ID, RespondInput{Status: StatusAcknowledged})), errs.KindNotFound)
		wantKind(t, mustErr(f.s.Respond(ctx, isp, o.ID, RespondInput{Status: StatusDone, Result: "x"})), errs.KindConflict)
		wantKind(t, mustErr(f.s.Respond(ctx, isp, o.ID, RespondInput{Status: "bogus"})), errs.KindInvalid)
		steps := []RespondInput{{Status: StatusAcknowledged}, {Status: StatusInProgress, Result: "Đã chặn ở biên"},
			{Status: StatusInProgress, Result: "Đang làm sạch"}}
		for _, st := range steps {
			if o, err = f.s.Respond(ctx, isp, o.ID, st); err != nil {
				t.Fatalf("%s: %v", st.Status, err)
			}
		}
		if e, ok := errs.As(mustErr(f.s.Respond(ctx, isp, o.ID, RespondInput{Status: StatusDone}))); !ok || !e.Has("result") {
			t.Fatal("done without result accepted")
		}
		o, err = f.s.Respond(ctx, isp, o.ID, RespondInput{Status: StatusDone, Result: "Đã chặn và làm sạch"})
		if err != nil {
			t.Fatal(err)
		}
		tg := o.Targets[0]
		if tg.Status != StatusDone || tg.Result != "Đã chặn và làm sạch" || tg.AcknowledgedAt.IsZero() || tg.FinishedAt.IsZero() {
			t.Fatalf("target %+v", tg)
		}
		wantKind(t, mustErr(f.s.Respond(ctx, isp, o.ID, RespondInput{Status: StatusUnable, Result: "x"})), errs.KindConflict)
		if got := f.outbox(KindOrderResponded); len(got) != 4 {
			t.Fatalf("responses to issuer %v", got)
		}
		tl, err := f.inc.Timeline(ctx, natc, inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, ev := range tl {
			kinds[ev.Kind]++
		}
		if kinds["order.issued"] != 1 || kinds["order.acknowledged"] != 1 || kinds["order.in_progress"] != 2 || kinds["order.done"] != 1 {
			t.Fatalf("timeline %v", kinds)
		}

		// The list loads every order's own targets.
		o2, err := f.s.Issue(ctx, natc, inc.Ref, IssueInput{Title: "Rà soát", Actions: "Rà soát hệ thống", DeadlineAt: t0.Add(24 * time.Hour),
			Targets: []int64{f.hn.ID, f.isp.ID}})
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.s.Orders(ctx, natc, Filter{Direction: DirOut})
		if err != nil || len(list) != 2 || list[0].ID != o2.ID || list[1].ID != o.ID {
			t.Fatalf("orders from national %+v %v", list, err)
		}
		if tg := list[0].Targets; len(tg) != 2 || tg[0].OrgID != f.isp.ID || tg[1].OrgID != f.hn.ID || tg[0].Status != StatusSent {
			t.Fatalf("targets of the second order %+v", tg)
		}
		if tg := list[1].Targets; len(tg) != 1 || tg[0].OrgID != f.isp.ID || tg[0].Status != StatusDone {
			t.Fatalf("targets of the first order %+v", tg)
		}
		// The state filter is decided before the limit: the newest order
		// does not match, the older one still comes.
		for _, c := range []struct {
			f    Filter
			want int64
		}{{Filter{Status: StatusSent}, o2.ID}, {Filter{Status: StatusDone}, o.ID}, {Filter{Status: StatusDone, Limit: 1}, o.ID},
			{Filter{Incident: inc.ID, Status: StatusDone, Limit: 1}, o.ID}} {
			if got, err := f.s.Orders(ctx, isp, c.f); err != nil || len(got) != 1 || got[0].ID != c.want {
				t.Fatalf("%+v: %+v %v", c.f, got, err)
			}
		}
		f.verifyAudit()
	})
}

func mustErr[T any](_ T, err error) error { return err }

func TestEscalation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		hnc := f.actor(f.hn, policy.RoleCoordinator)
		o, err := f.s.Issue(ctx, hnc, inc.Ref, IssueInput{Title: "Cô lập máy chủ", Actions: "Cô lập", Priority: PriorityNormal,
			DeadlineAt: t0.Add(72 * time.Hour), Targets: []int64{f.hnm.ID}})
		if err != nil {
			t.Fatal(err)
		}
		run := func() int {
			n, err := f.s.Escalate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if run() != 0 {
			t.Fatal("escalated before the acknowledgement period ended")
		}
		f.clock.Advance(AckNormal + time.Minute)
		if n := run(); n != 1 {
			t.Fatalf("level 1: %d steps", n)
		}
		if n := run(); n != 0 {
			t.Fatalf("second run repeated the step: %d", n)
		}
		got := f.outbox(KindOrderEscalated)
		if len(got) != 1 || !strings.HasSuffix(got[0], fmt.Sprintf("escalate:1 [%d]", f.hnm.ID)) {
			t.Fatalf("reminder %v", got)
		}
		f.clock.Advance(AckNormal)
		if n := run() + run(); n != 1 {
			t.Fatalf("level 2: %d steps", n)
		}
		got = f.outbox(KindOrderEscalated)
		// The issuer (HN) is also the parent: one organisation, told once.
		if len(got) != 2 || !strings.Contains(got[1], "escalate:2") || !strings.Contains(got[1], fmt.Sprint(f.hn.ID)) {
			t.Fatalf("level 2 %v", got)
		}
		// Acknowledged now: no more acknowledgement escalation; past the
		// deadline the overdue message goes once.
		if _, err := f.s.Respond(ctx, f.actor(f.hnm, policy.RoleReporter), o.ID, RespondInput{Status: StatusAcknowledged}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(72 * time.Hour)
		if n := run() + run(); n != 1 {
			t.Fatalf("overdue: %d steps", n)
		}
		if got := f.outbox(KindOrderOverdue); len(got) != 1 {
			t.Fatalf("overdue %v", got)
		}
		if orders, err := f.s.Orders(ctx, hnc, Filter{Overdue: true}); err != nil || len(orders) != 1 {
			t.Fatalf("overdue filter %v %v", orders, err)
		}
		f.verifyAudit()
	})
}

func TestEscalationParentAndIssuer(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		o, err := f.s.Issue(ctx, f.actor(f.national, policy.RoleCoordinator), inc.Ref, IssueInput{Title: "Hỗ trợ xử lý",
			Actions: "Cử người hỗ trợ", Priority: PriorityUrgent, DeadlineAt: t0.Add(2 * time.Hour), Targets: []int64{f.dnm.ID}})
		if err != nil {
			t.Fatal(err)
		}
		// The job was down for 9 hours: both levels and overdue in one run,
		// each once.
		f.clock.Advance(9 * time.Hour)
		if n, err := f.s.Escalate(ctx); err != nil || n != 3 {
			t.Fatalf("steps %d %v", n, err)
		}
		if n, err := f.s.Escalate(ctx); err != nil || n != 0 {
			t.Fatalf("repeat %d %v", n, err)
		}
		got := f.outbox(KindOrderEscalated)
		want2 := fmt.Sprintf("order:%d:target:%d:escalate:2 [%d,%d]", o.ID, o.Targets[0].ID, f.national.ID, f.dn.ID)
		if len(got) != 2 || got[1] != want2 {
			t.Fatalf("escalations %v, want %s", got, want2)
		}
	})
}

func TestSupport(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		member := f.actor(f.hnm, policy.RoleReporter)
		inc := f.incident(member)
		_, err := f.s.RequestSupport(ctx, member, inc.Ref, SupportInput{Urgency: "x"})
		if e, ok := errs.As(err); !ok || !e.Has("needed") || !e.Has("urgency") {
			t.Fatalf("invalid: %v", err)
		}
		wantKind(t, mustErr(f.s.RequestSupport(ctx, f.actor(f.hnm, policy.RoleViewer), inc.Ref, SupportInput{Needed: "x"})), errs.KindForbidden)
		wantKind(t, mustErr(f.s.RequestSupport(ctx, f.actor(f.dnm, policy.RoleReporter), inc.Ref, SupportInput{Needed: "x"})), errs.KindNotFound)
		if f.count("coord_support_requests") != 0 {
			t.Fatal("refused request saved")
		}
		r, err := f.s.RequestSupport(ctx, member, inc.Ref, SupportInput{Needed: "Cần chuyên gia phân tích mã độc", Urgency: PriorityHigh})
		if err != nil {
			t.Fatal(err)
		}
		if r.ReceiverOrgID != f.hn.ID || r.Status != SupportOpen {
			t.Fatalf("request %+v", r)
		}
		toNat, err := f.s.RequestSupport(ctx, member, inc.Ref, SupportInput{Needed: "Cần hỗ trợ quốc gia", ToNational: true})
		if err != nil || toNat.ReceiverOrgID != f.national.ID {
			t.Fatalf("to national %+v %v", toNat, err)
		}
		// Who sees it: requester, receiver, national; not DN.
		if _, err := f.s.SupportRequest(ctx, f.actor(f.dn, policy.RoleCoordinator), r.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("DN sees: %v", err)
		}
		hnc := f.actor(f.hn, policy.RoleCoordinator)
		if in, err := f.s.SupportRequests(ctx, hnc, SupportFilter{Direction: DirIn}); err != nil || len(in) != 1 {
			t.Fatalf("to HN %v %v", in, err)
		}
		// Decisions: member may not decide; decline needs a reason.
		wantKind(t, mustErr(f.s.DecideSupport(ctx, member, r.ID, DecideAccept, "")), errs.KindForbidden)
		if e, ok := errs.As(mustErr(f.s.DecideSupport(ctx, hnc, r.ID, DecideDecline, ""))); !ok || !e.Has("answer") {
			t.Fatal("decline without reason")
		}
		wantKind(t, mustErr(f.s.DecideSupport(ctx, hnc, r.ID, DecideClose, "")), errs.KindConflict)
		// An order linked to an open request is refused; accepted, it links.
		oin := IssueInput{Title: "Phân tích mã độc", Actions: "Phân tích mẫu", DeadlineAt: t0.Add(24 * time.Hour), Targets: []int64{f.hnm.ID}, SupportID: r.ID}
		if e, ok := errs.As(mustErr(f.s.Issue(ctx, hnc, inc.Ref, oin))); !ok || !e.Has("support_id") {
			t.Fatal("order linked to an open request")
		}
		if r, err = f.s.DecideSupport(ctx, hnc, r.ID, DecideAccept, "Sẽ cử chuyên gia"); err != nil || r.Status != SupportAccepted {
			t.Fatalf("accept %+v %v", r, err)
		}
		o, err := f.s.Issue(ctx, hnc, inc.Ref, oin)
		if err != nil || o.SupportID != r.ID {
			t.Fatalf("linked order %+v %v", o, err)
		}
		if r, err = f.s.DecideSupport(ctx, hnc, r.ID, DecideClose, ""); err != nil || r.Status != SupportClosed {
			t.Fatalf("close %+v %v", r, err)
		}
		natc := f.actor(f.national, policy.RoleCoordinator)
		if d, err := f.s.DecideSupport(ctx, natc, toNat.ID, DecideDecline, "Đơn vị chuyên trách xử lý"); err != nil || d.Status != SupportDeclined {
			t.Fatalf("decline %+v %v", d, err)
		}
		if got := f.outbox(KindSupportDecided); len(got) != 3 {
			t.Fatalf("decided messages %v", got)
		}
		if got := f.outbox(KindSupport); len(got) != 2 {
			t.Fatalf("request messages %v", got)
		}
		f.verifyAudit()
	})
}

func TestEffort(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		natn := f.actor(f.national, policy.RoleAnalyst)
		_, err := f.s.AddEffort(ctx, natn, inc.Ref, EffortInput{Date: "2026-13-01", People: 0, Hours: 0, CostVND: -1})
		e, ok := errs.As(err)
		if !ok {
			t.Fatalf("invalid: %v", err)
		}
		for _, k := range []string{"date", "people", "hours", "cost_vnd", "description"} {
			if !e.Has(k) {
				t.Errorf("no error on %s", k)
			}
		}
		if e, ok := errs.As(mustErr(f.s.AddEffort(ctx, natn, inc.Ref, EffortInput{Date: "2026-12-01", People: 1, Hours: 1, Description: "x"}))); !ok || !e.Has("date") {
			t.Fatal("future date accepted")
		}
		// HN may not record for ISP (outside its scope).
		wantKind(t, mustErr(f.s.AddEffort(ctx, f.actor(f.hn, policy.RoleAnalyst), inc.Ref,
			EffortInput{OrgID: f.isp.ID, Date: "2026-11-25", People: 1, Hours: 1, Description: "x"})), errs.KindForbidden)
		if f.count("coord_efforts") != 0 {
			t.Fatal("refused effort saved")
		}
		add := func(a policy.Actor, in EffortInput) {
			t.Helper()
			if _, err := f.s.AddEffort(ctx, a, inc.Ref, in); err != nil {
				t.Fatal(err)
			}
		}
		add(natn, EffortInput{Date: "2026-11-25", People: 3, Hours: 12.5, CostVND: 4_500_000, Description: "Phân tích mã độc"})
		add(natn, EffortInput{Date: "2026-11-26", People: 2, Hours: 8, CostVND: 3_000_000, Description: "Làm sạch"})
		add(f.actor(f.hn, policy.RoleCoordinator), EffortInput{Date: "2026-11-26", People: 1, Hours: 4.25, CostVND: 1_000_000, Description: "Hỗ trợ tại chỗ"})
		list, totals, err := f.s.Efforts(ctx, f.actor(f.hnm, policy.RoleViewer), inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || len(totals) != 3 {
			t.Fatalf("list %d totals %+v", len(list), totals)
		}
		if n := totals[0]; n.OrgID != f.national.ID || n.Hours != 20.5 || n.CostVND != 7_500_000 || n.People != 5 {
			t.Fatalf("national totals %+v", n)
		}
		if all := totals[2]; all.OrgID != 0 || all.Hours != 24.8 || all.CostVND != 8_500_000 || all.Records != 3 {
			t.Fatalf("incident totals %+v", all)
		}
		if _, _, err := f.s.Efforts(ctx, f.actor(f.dnm, policy.RoleViewer), inc.Ref); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("outsider reads effort: %v", err)
		}
		f.verifyAudit()
	})
}
