package incident

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var ctx = context.Background()

func TestCreateAndRefs(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(rep)
		if inc.Ref != "SC-2026-000001" || inc.Status != StatusReceived || inc.Class != ClassOrdinary || inc.TLP != policy.TLPAmber {
			t.Fatalf("created %+v", inc)
		}
		if inc.RSIT != (RSIT{"information-content-security", "unauthorised-information-modification"}) {
			t.Errorf("rsit %+v", inc.RSIT)
		}
		got, err := f.s.Get(ctx, rep, inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != inc.ID || got.Details.Contact.Name != "Nguyễn Văn A" || len(got.Reports) != 1 || got.Reports[0].Kind != ReportNotice {
			t.Fatalf("get %+v", got)
		}
		if byID, err := f.s.Get(ctx, rep, fmt.Sprint(inc.ID)); err != nil || byID.Ref != inc.Ref {
			t.Fatalf("get by id: %v", err)
		}
		obs, err := f.s.Observables(ctx, rep, inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, o := range obs {
			vals = append(vals, string(o.Kind)+":"+o.Value)
		}
		for _, want := range []string{"domain:www.hn-member.vn", "ipv4:203.0.113.10", "email:a@hn-member.vn"} {
			if want == "email:a@hn-member.vn" {
				continue // contact details are not searched for observables
			}
			if !slices.Contains(vals, want) {
				t.Errorf("observables %v lack %s", vals, want)
			}
		}
		if n := f.timelineLen(inc.ID); n != 1 {
			t.Errorf("timeline has %d events", n)
		}
		// Initial report when it exceeds the operator.
		inc2 := f.mustCreate(rep, func(in *Input) { in.ExceedsCapacity = true })
		if inc2.Ref != "SC-2026-000002" {
			t.Errorf("second ref %s", inc2.Ref)
		}
		rs, _ := f.s.Reports(ctx, rep, inc2.Ref)
		if len(rs) != 1 || rs[0].Kind != ReportInitial {
			t.Errorf("reports %+v", rs)
		}

		// Concurrent creations get distinct refs.
		var wg sync.WaitGroup
		refs := make([]string, 20)
		errsC := make([]error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inc, err := f.s.Create(ctx, rep, input())
				refs[i], errsC[i] = inc.Ref, err
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i, r := range refs {
			if errsC[i] != nil {
				t.Fatalf("concurrent create %d: %v", i, errsC[i])
			}
			if seen[r] || !regexp.MustCompile(`^SC-2026-\d{6}$`).MatchString(r) {
				t.Errorf("ref %q duplicate or malformed", r)
			}
			seen[r] = true
		}
		if !seen["SC-2026-000022"] {
			t.Errorf("refs are not consecutive: %v", refs)
		}
		// A new year starts again at 1 (Vietnam time: 17:00 UTC on 31 Dec is 1 Jan).
		f.clock.Set(time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC))
		inc3 := f.mustCreate(rep, func(in *Input) { in.DetectedAt = f.clock.Now().Add(-time.Hour) })
		if inc3.Ref != "SC-2027-000001" {
			t.Errorf("new year ref %s", inc3.Ref)
		}
		f.verifyAudit()
	})
}

func TestCreateValidation(t *testing.T) {
	f := newFixture(t, testkit.NewSQLite(t))
	rep := f.actor(f.hnm, policy.RoleReporter)
	long := string(make([]rune, 201))
	cases := []struct {
		name, field, key string
		mod              func(*Input)
	}{
		{"title missing", "title", "field.required", func(in *Input) { in.Title = " " }},
		{"title too long", "title", "field.too_long", func(in *Input) { in.Title = fmt.Sprintf("%0201d", 0) + long[:0] }},
		{"title control", "title", "incident.err.control_chars", func(in *Input) { in.Title = "a\x07b" }},
		{"description missing", "description", "field.required", func(in *Input) { in.Description = "" }},
		{"type missing", "type", "field.required", func(in *Input) { in.Type = "" }},
		{"type unknown", "type", "field.invalid_choice", func(in *Input) { in.Type = "worm" }},
		{"severity unknown", "severity", "field.invalid_choice", func(in *Input) { in.Severity = "huge" }},
		{"tlp unknown", "tlp", "field.invalid_choice", func(in *Input) { in.TLP = "PURPLE" }},
		{"tlp red", "tlp", "incident.err.tlp_red", func(in *Input) { in.TLP = policy.TLPRed }},
		{"detected missing", "detected_at", "field.required", func(in *Input) { in.DetectedAt = time.Time{} }},
		{"detected future", "detected_at", "incident.err.detected_future", func(in *Input) { in.DetectedAt = t0.Add(time.Hour) }},
		{"detected too old", "detected_at", "incident.err.detected_too_old", func(in *Input) { in.DetectedAt = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"contact missing", "contact.name", "field.required", func(in *Input) { in.Contact.Name = "" }},
		{"contact email", "contact.email", "field.invalid_email", func(in *Input) { in.Contact.Email = "not-an-email" }},
		{"contact phone", "contact.phone", "incident.err.phone", func(in *Input) { in.Contact.Phone = "call me" }},
		{"contact unreachable", "contact.email", "incident.err.contact_reach", func(in *Input) { in.Contact.Email, in.Contact.Phone = "", "" }},
		{"system missing", "system.name", "field.required", func(in *Input) { in.System.Name = "" }},
		{"system level", "system.level", "incident.err.level", func(in *Input) { in.System.Level = 6 }},
		{"public ip", "system.public_ips", "incident.err.ip", func(in *Input) { in.System.PublicIPs = []string{"300.1.1.1"} }},
		{"domain", "system.domains", "incident.err.domain", func(in *Input) { in.System.Domains = []string{"not a domain"} }},
		{"detected by missing", "detected_by", "field.required", func(in *Input) { in.DetectedBy = "" }},
		{"detected by unknown", "detected_by", "field.invalid_choice", func(in *Input) { in.DetectedBy = "magic" }},
		{"detected by other needs text", "detected_by_text", "incident.err.detected_by_text", func(in *Input) { in.DetectedBy = DetectOther }},
		{"notified by needs text", "detected_by_text", "incident.err.detected_by_text", func(in *Input) { in.DetectedBy = DetectNotifiedBy }},
		{"already notified unknown", "already_notified", "field.invalid_choice", func(in *Input) { in.AlreadyNotified = []string{"press"} }},
		{"proposals too long", "proposals", "field.too_long", func(in *Input) { in.Proposals = string(make([]byte, maxText+1)) }},
		{"affected unknown", "affected_org_id", "incident.err.org_unknown", func(in *Input) { in.AffectedOrgID = 99999 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Create(ctx, rep, input(tc.mod))
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.KindInvalid {
				t.Fatalf("got %v, want invalid", err)
			}
			if got := e.Fields[tc.field].Key; got != tc.key {
				t.Errorf("field %s: got %q, want %q (all: %v)", tc.field, got, tc.key, e)
			}
		})
	}
	var n int
	f.db.QueryRow(ctx, "SELECT COUNT(*) FROM incidents").Scan(&n)
	if n != 0 {
		t.Errorf("%d incidents stored by refused creations", n)
	}
	// A viewer may not report; a reporter may not report on behalf of another org.
	if _, err := f.s.Create(ctx, f.actor(f.hnm, policy.RoleViewer), input()); !errs.Is(err, errs.KindForbidden) {
		t.Errorf("viewer: %v", err)
	}
	if _, err := f.s.Create(ctx, f.actor(f.hn, policy.RoleReporter), input(func(in *Input) { in.ReporterOrgID = f.hnm.ID })); !errs.Is(err, errs.KindForbidden) {
		t.Errorf("reporter on behalf: %v", err)
	}
	if _, err := f.s.Create(ctx, f.actor(f.hn, policy.RoleCoordinator), input(func(in *Input) { in.ReporterOrgID = f.dnm.ID })); !errs.Is(err, errs.KindForbidden) {
		t.Errorf("coordinator on behalf of an org outside scope: %v", err)
	}
	inc, err := f.s.Create(ctx, f.actor(f.hn, policy.RoleCoordinator), input(func(in *Input) { in.ReporterOrgID = f.hnm.ID }))
	if err != nil || inc.ReporterOrgID != f.hnm.ID {
		t.Errorf("coordinator on behalf of a member in scope: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleCoordinator)
		prov := f.actor(f.hn, policy.RoleAnalyst)
		inc := f.mustCreate(rep)
		dup := f.mustCreate(rep)
		step := func(a policy.Actor, key string, to Status, in TransitionInput) Incident {
			t.Helper()
			got, err := f.s.Transition(ctx, a, key, to, in)
			if err != nil {
				t.Fatalf("%s → %s: %v", key, to, err)
			}
			if got.Status != to {
				t.Fatalf("status %s, want %s", got.Status, to)
			}
			return got
		}
		// Duplicate needs the other incident, and links them.
		if _, err := f.s.Transition(ctx, prov, dup.Ref, StatusDuplicate, TransitionInput{}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("duplicate without other: %v", err)
		}
		d := step(prov, dup.Ref, StatusDuplicate, TransitionInput{DuplicateOf: inc.Ref})
		if d.DuplicateOf != inc.ID {
			t.Errorf("duplicate_of %d", d.DuplicateOf)
		}
		if links, _ := f.s.Links(ctx, prov, inc.Ref); len(links) != 1 || links[0].Kind != LinkDuplicate || links[0].OtherRef != dup.Ref {
			t.Errorf("links %+v", links)
		}
		rej := f.mustCreate(rep)
		if _, err := f.s.Transition(ctx, prov, rej.Ref, StatusRejected, TransitionInput{}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("reject without reason: %v", err)
		}
		step(prov, rej.Ref, StatusRejected, TransitionInput{Reason: "Không phải sự cố"})
		// The reporter may not verify.
		if _, err := f.s.Transition(ctx, rep, inc.Ref, StatusVerified, TransitionInput{}); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("reporter verifies: %v", err)
		}
		step(prov, inc.Ref, StatusVerified, TransitionInput{})
		step(prov, inc.Ref, StatusContainment, TransitionInput{})
		step(prov, inc.Ref, StatusRecovery, TransitionInput{})
		if _, err := f.s.Transition(ctx, prov, inc.Ref, StatusContainment, TransitionInput{}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("back to containment without reason: %v", err)
		}
		step(prov, inc.Ref, StatusContainment, TransitionInput{Reason: "Hệ thống chưa ổn định"})
		step(prov, inc.Ref, StatusRecovery, TransitionInput{})
		f.clock.Advance(time.Hour)
		got := step(prov, inc.Ref, StatusReview, TransitionInput{})
		if !got.ResponseEndedAt.Equal(f.clock.Now()) {
			t.Errorf("response ended %v", got.ResponseEndedAt)
		}
		// Closing: only the national coordinator, only with an acknowledged closure report.
		if _, err := f.s.Transition(ctx, prov, inc.Ref, StatusClosed, TransitionInput{}); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("province closes: %v", err)
		}
		_, err := f.s.Transition(ctx, nc, inc.Ref, StatusClosed, TransitionInput{})
		if e, _ := errs.As(err); e == nil || e.Kind != errs.KindConflict || e.Message.Key != "incident.err.closure_report_missing" {
			t.Errorf("close without closure report: %v", err)
		}
		cr, err := f.s.AddReport(ctx, rep, inc.Ref, ReportClosure, ReportInput{Result: "Đã khôi phục", Lessons: "Cập nhật bản vá"})
		if err != nil {
			t.Fatal(err)
		}
		if cr.Body.InitialRef != inc.Ref || cr.Body.SystemName != "Cổng thông tin điện tử" || cr.Body.SystemLevel != 3 {
			t.Errorf("closure defaults %+v", cr.Body)
		}
		_, err = f.s.Transition(ctx, nc, inc.Ref, StatusClosed, TransitionInput{})
		if e, _ := errs.As(err); e == nil || e.Message.Key != "incident.err.closure_report_unacknowledged" {
			t.Errorf("close with unacknowledged closure report: %v", err)
		}
		if _, err := f.s.Acknowledge(ctx, f.actor(f.hnm, policy.RoleAnalyst), inc.Ref, cr.ID); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("own org acknowledges: %v", err)
		}
		f.clock.Advance(30 * time.Minute)
		ack, err := f.s.Acknowledge(ctx, nc, inc.Ref, cr.ID)
		if err != nil || ack.TimeToAck() != 30*time.Minute || ack.AckOrgID != f.national.ID {
			t.Fatalf("acknowledge: %+v %v", ack, err)
		}
		if _, err := f.s.Acknowledge(ctx, nc, inc.Ref, cr.ID); !errs.Is(err, errs.KindConflict) {
			t.Errorf("acknowledge twice: %v", err)
		}
		closed := step(nc, inc.Ref, StatusClosed, TransitionInput{})
		if closed.ClosedAt.IsZero() || !closed.NextDueAt.IsZero() {
			t.Errorf("closed %+v", closed)
		}
		if _, err := f.s.AddReport(ctx, rep, inc.Ref, ReportProgress, ReportInput{Summary: "x"}); !errs.Is(err, errs.KindConflict) {
			t.Errorf("report on a closed incident: %v", err)
		}
		evs, _ := f.s.Timeline(ctx, nc, inc.Ref)
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		if len(evs) < 10 || kinds[0] != EventCreated || kinds[len(kinds)-1] != EventStatus {
			t.Errorf("timeline %v", kinds)
		}
		f.verifyAudit()
	})
}

// Every transition the process does not allow is refused, changes nothing
// and writes nothing to the timeline.
func TestForbiddenTransitions(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleCoordinator, policy.RoleAdmin)
		path := []Status{StatusReceived, StatusVerified, StatusContainment, StatusRecovery, StatusReview}
		for i, from := range path {
			inc := f.mustCreate(rep)
			for _, s := range path[1 : i+1] {
				if _, err := f.s.Transition(ctx, nc, inc.Ref, s, TransitionInput{}); err != nil {
					t.Fatal(err)
				}
			}
			for _, to := range append(slices.Clone(Statuses), "bogus") {
				if CanTransition(from, to) {
					continue
				}
				before, _ := f.s.Get(ctx, nc, inc.Ref)
				events := f.timelineLen(inc.ID)
				_, err := f.s.Transition(ctx, nc, inc.Ref, to, TransitionInput{Reason: "r", DuplicateOf: "1"})
				e, _ := errs.As(err)
				switch {
				case to == "bogus":
					if e == nil || e.Kind != errs.KindInvalid {
						t.Errorf("%s → %s: %v", from, to, err)
					}
				case e == nil || e.Kind != errs.KindConflict || e.Message.Key != "incident.err.transition" ||
					!slices.Equal(e.Message.Args, []any{string(from), string(to)}):
					t.Errorf("%s → %s: %v", from, to, err)
				}
				after, _ := f.s.Get(ctx, nc, inc.Ref)
				if after.Status != before.Status || after.Version != before.Version || f.timelineLen(inc.ID) != events {
					t.Errorf("%s → %s changed the incident", from, to)
				}
			}
		}
		// Terminal states allow nothing.
		for _, s := range []Status{StatusRejected, StatusDuplicate, StatusClosed} {
			if len(Next(s)) != 0 {
				t.Errorf("%s has next %v", s, Next(s))
			}
		}
		f.verifyAudit()
	})
}

func TestSerious(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(rep)
		ncCoord := f.actor(f.national, policy.RoleCoordinator)
		sb := f.actor(f.standing, policy.RoleCoordinator)
		// A provincial coordinator may classify but not propose serious.
		_, err := f.s.ProposeSerious(ctx, f.actor(f.hn, policy.RoleCoordinator), inc.Ref, "Hệ thống cấp độ 4")
		if e, _ := errs.As(err); e == nil || e.Kind != errs.KindForbidden || e.Message.Key != "incident.err.not_national_coordinator" {
			t.Errorf("province proposes: %v", err)
		}
		if _, err := f.s.DecideSerious(ctx, sb, inc.Ref, true, ""); !errs.Is(err, errs.KindConflict) {
			t.Errorf("decide without proposal: %v", err)
		}
		if _, err := f.s.ProposeSerious(ctx, ncCoord, inc.Ref, ""); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("propose without reason: %v", err)
		}
		p, err := f.s.ProposeSerious(ctx, ncCoord, inc.Ref, "Hệ thống cấp độ 4, gián đoạn dịch vụ")
		if err != nil || p.Serious.State != SeriousProposed || p.Class != ClassOrdinary {
			t.Fatalf("propose: %+v %v", p.Serious, err)
		}
		if _, err := f.s.ProposeSerious(ctx, ncCoord, inc.Ref, "again"); !errs.Is(err, errs.KindConflict) {
			t.Errorf("propose twice: %v", err)
		}
		// The national coordinator (not the standing body) may not decide.
		_, err = f.s.DecideSerious(ctx, f.actor(f.national, policy.RoleCoordinator), inc.Ref, true, "")
		if e, _ := errs.As(err); e == nil || e.Message.Key != "incident.err.not_standing_body" {
			t.Errorf("coordinator decides: %v", err)
		}
		if _, err := f.s.DecideSerious(ctx, f.actor(f.hn, policy.RoleCoordinator), inc.Ref, true, ""); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("province decides: %v", err)
		}
		d, err := f.s.DecideSerious(ctx, sb, inc.Ref, true, "Triệu tập nhóm tác nghiệp")
		if err != nil || d.Class != ClassSerious || d.Serious.State != SeriousAccepted || d.Serious.DecidedOrg != f.standing.ID {
			t.Fatalf("decide: %+v %v", d, err)
		}
		// Rejected proposal: stays ordinary, recorded.
		inc2 := f.mustCreate(rep)
		f.s.ProposeSerious(ctx, ncCoord, inc2.Ref, "Có thể lan rộng")
		r, err := f.s.DecideSerious(ctx, sb, inc2.Ref, false, "Chủ quản tự xử lý được")
		if err != nil || r.Class != ClassOrdinary || r.Serious.State != SeriousRejected || r.Serious.Reason == "" {
			t.Fatalf("reject: %+v %v", r, err)
		}
		g, _ := f.s.Get(ctx, ncCoord, inc2.Ref)
		if g.Serious.State != SeriousRejected || g.Serious.Note != "Chủ quản tự xử lý được" {
			t.Errorf("stored %+v", g.Serious)
		}
		c, err := f.s.Classify(ctx, f.actor(f.hn, policy.RoleAnalyst), inc2.Ref, ClassifyInput{Type: TypeRansomware, Severity: SeverityCritical})
		if err != nil || c.Type != TypeRansomware || c.RSIT.Type != "sabotage" || c.Severity != SeverityCritical {
			t.Errorf("classify: %+v %v", c, err)
		}
		f.verifyAudit()
	})
}

func TestClocks(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleCoordinator, policy.RoleAdmin)
		clock := func(inc Incident, k ClockKind) Clock {
			t.Helper()
			g, err := f.s.Get(ctx, nc, inc.Ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range f.s.Clocks(g) {
				if c.Kind == k {
					return c
				}
			}
			t.Fatalf("no %s clock", k)
			return Clock{}
		}
		// Detected 4 days ago: notice on time. Detected 6 days ago: notice late.
		onTime := f.mustCreate(rep, func(in *Input) { in.DetectedAt = t0.Add(-4 * 24 * time.Hour) })
		if c := clock(onTime, ClockNotice); c.Overdue || !c.Due.Equal(t0.Add(24*time.Hour)) || c.DoneAt.IsZero() {
			t.Errorf("notice on time %+v", c)
		}
		late := f.mustCreate(rep, func(in *Input) { in.DetectedAt = t0.Add(-6 * 24 * time.Hour) })
		if c := clock(late, ClockNotice); !c.Overdue {
			t.Errorf("late notice %+v", c)
		}
		// Initial report: due for acknowledgement within 24 h.
		ini := f.mustCreate(rep, func(in *Input) { in.ExceedsCapacity = true })
		if c := clock(ini, ClockInitial); c.Overdue || c.Remaining != 24*time.Hour {
			t.Errorf("initial %+v", c)
		}
		due, err := f.s.Due(ctx, nc, DueFilter{})
		if err != nil || len(due) != 0 {
			t.Errorf("nothing overdue yet: %+v %v", due, err)
		}
		due, _ = f.s.Due(ctx, nc, DueFilter{Within: 48 * time.Hour})
		if len(due) != 3 {
			t.Errorf("due within 48h: %d", len(due))
		}
		f.clock.Advance(25 * time.Hour)
		if c := clock(ini, ClockInitial); !c.Overdue || c.Remaining >= 0 {
			t.Errorf("initial after 25h %+v", c)
		}
		if list, total, _ := f.s.List(ctx, nc, Filter{Overdue: true}); total != 3 || len(list) != 3 {
			t.Errorf("overdue list %d", total)
		}
		// The member sees the overdue ones too (its own), the sibling none.
		if due, _ := f.s.Due(ctx, f.actor(f.dn, policy.RoleAnalyst), DueFilter{}); len(due) != 0 {
			t.Errorf("sibling sees %d due", len(due))
		}
		r := ini
		rs, _ := f.s.Reports(ctx, nc, r.Ref)
		if _, err := f.s.Acknowledge(ctx, nc, r.Ref, rs[0].ID); err != nil {
			t.Fatal(err)
		}
		if c := clock(ini, ClockInitial); !c.Overdue || c.DoneAt.IsZero() {
			t.Errorf("acknowledged late %+v", c)
		}
		// Closure report due 5 days after review.
		for _, s := range []Status{StatusVerified, StatusContainment, StatusRecovery, StatusReview} {
			if _, err := f.s.Transition(ctx, nc, onTime.Ref, s, TransitionInput{}); err != nil {
				t.Fatal(err)
			}
		}
		ended := f.clock.Now()
		c := clock(onTime, ClockClosure)
		if !c.Due.Equal(ended.Add(5*24*time.Hour)) || c.Overdue || c.Remaining != 5*24*time.Hour {
			t.Errorf("closure %+v", c)
		}
		f.clock.Advance(5*24*time.Hour + time.Minute)
		if c := clock(onTime, ClockClosure); !c.Overdue {
			t.Errorf("closure after 5 days %+v", c)
		}
		due, _ = f.s.Due(ctx, nc, DueFilter{})
		if !slices.ContainsFunc(due, func(d DueItem) bool { return d.Incident.Ref == onTime.Ref }) {
			t.Errorf("overdue closure not listed")
		}
		cr, err := f.s.AddReport(ctx, rep, onTime.Ref, ReportClosure, ReportInput{Result: "ok", Lessons: "l"})
		if err != nil {
			t.Fatal(err)
		}
		if c := clock(onTime, ClockClosure); !c.Overdue || c.DoneAt.IsZero() {
			t.Errorf("closure filed late %+v", c)
		}
		g, _ := f.s.Get(ctx, nc, onTime.Ref)
		if !slices.ContainsFunc(f.s.Clocks(g), func(c Clock) bool {
			return c.Kind == ClockAck && c.ReportID == cr.ID && c.Open() && !c.Overdue && c.Remaining == 24*time.Hour
		}) {
			t.Errorf("closure report ack clock missing: %+v", f.s.Clocks(g))
		}
	})
}

func TestVisibility(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// The ISP reports an incident affecting the Hà Nội member.
		ispRep := f.actor(f.isp, policy.RoleReporter)
		inc := f.mustCreate(ispRep, func(in *Input) { in.AffectedOrgID = f.hnm.ID })
		strict := f.mustCreate(ispRep, func(in *Input) { in.AffectedOrgID = f.hnm.ID; in.TLP = policy.TLPAmberStrict })
		v := policy.RoleViewer
		cases := []struct {
			name          string
			a             policy.Actor
			amber, strict bool
		}{
			{"reporter org", f.actor(f.isp, v), true, true},
			{"affected org", f.actor(f.hnm, v), true, true},
			{"affected org's response unit", f.actor(f.hn, v), true, false},
			{"national coordinator", f.actor(f.national, v), true, false},
			{"sibling province", f.actor(f.dn, policy.RoleAdmin), false, false},
			{"member of the sibling province", f.actor(f.dnm, policy.RoleAdmin), false, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for _, x := range []struct {
					inc  Incident
					want bool
				}{{inc, tc.amber}, {strict, tc.strict}} {
					_, err := f.s.Get(ctx, tc.a, x.inc.Ref)
					if x.want && err != nil || !x.want && !errs.Is(err, errs.KindNotFound) {
						t.Errorf("%s: get: %v, want visible=%v", x.inc.TLP, err, x.want)
					}
					list, total, err := f.s.List(ctx, tc.a, Filter{})
					if err != nil {
						t.Fatal(err)
					}
					in := slices.ContainsFunc(list, func(i Incident) bool { return i.ID == x.inc.ID })
					if in != x.want {
						t.Errorf("%s: in list=%v, want %v (total %d)", x.inc.TLP, in, x.want, total)
					}
					if _, err := f.s.Timeline(ctx, tc.a, x.inc.Ref); (err == nil) != x.want {
						t.Errorf("%s: timeline: %v", x.inc.TLP, err)
					}
				}
			})
		}
		// A report for someone else's incident is refused without revealing it.
		other := f.actor(f.dnm, policy.RoleReporter)
		if _, err := f.s.AddReport(ctx, other, inc.Ref, ReportProgress, ReportInput{Summary: "x"}); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("report on someone else's incident: %v", err)
		}
		if _, err := f.s.AddComment(ctx, f.actor(f.dn, policy.RoleAnalyst), inc.Ref, "x"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("comment by sibling: %v", err)
		}
		// The reporter side may file progress reports; a viewer may not.
		if _, err := f.s.AddReport(ctx, ispRep, inc.Ref, ReportProgress, ReportInput{Summary: "Đã chặn IP"}); err != nil {
			t.Errorf("reporter progress: %v", err)
		}
		if _, err := f.s.AddReport(ctx, f.actor(f.hnm, v), inc.Ref, ReportProgress, ReportInput{Summary: "x"}); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("viewer reports: %v", err)
		}
		f.verifyAudit()
	})
}

func TestListFilters(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hn := f.actor(f.hnm, policy.RoleReporter)
		dn := f.actor(f.dnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleAnalyst)
		a := f.mustCreate(hn, func(in *Input) { in.Title = "Mã độc tống tiền tại Sở Y tế"; in.Type = TypeRansomware })
		f.clock.Advance(time.Hour)
		b := f.mustCreate(dn, func(in *Input) { in.Severity = SeverityLow; in.Type = TypePhishing })
		f.s.Transition(ctx, nc, b.Ref, StatusVerified, TransitionInput{})
		cases := []struct {
			name string
			f    Filter
			want []string
		}{
			{"all, newest first", Filter{}, []string{b.Ref, a.Ref}},
			{"oldest first", Filter{Sort: "reported_asc"}, []string{a.Ref, b.Ref}},
			{"status", Filter{Status: StatusVerified}, []string{b.Ref}},
			{"type", Filter{Type: TypeRansomware}, []string{a.Ref}},
			{"severity", Filter{Severity: SeverityLow}, []string{b.Ref}},
			{"class", Filter{Class: ClassSerious}, nil},
			{"org", Filter{OrgID: f.dnm.ID}, []string{b.Ref}},
			{"province", Filter{ProvinceCode: "hn"}, []string{a.Ref}},
			{"from", Filter{From: t0.Add(30 * time.Minute)}, []string{b.Ref}},
			{"to", Filter{To: t0.Add(30 * time.Minute)}, []string{a.Ref}},
			{"q without diacritics", Filter{Q: "ma doc SO Y TE"}, []string{a.Ref}},
			{"q with diacritics", Filter{Q: "tống tiền"}, []string{a.Ref}},
			{"q ref", Filter{Q: b.Ref}, []string{b.Ref}},
			{"q like metachar", Filter{Q: "%"}, nil},
			{"page", Filter{Limit: 1, Offset: 1}, []string{a.Ref}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				list, total, err := f.s.List(ctx, nc, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, i := range list {
					got = append(got, i.Ref)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				if tc.f.Limit == 0 && total != len(tc.want) {
					t.Errorf("total %d", total)
				}
			})
		}
		if _, _, err := f.s.List(ctx, nc, Filter{Sort: "evil; DROP"}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("bad sort: %v", err)
		}
	})
}

func TestCommentsWatchersLinks(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		an := f.actor(f.hn, policy.RoleAnalyst)
		inc := f.mustCreate(rep)
		other := f.mustCreate(rep)
		if _, err := f.s.AddComment(ctx, an, inc.Ref, "  "); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("empty comment: %v", err)
		}
		ev, err := f.s.AddComment(ctx, an, inc.Ref, "Đã liên hệ chủ quản")
		if err != nil || ev.Kind != EventComment || ev.Detail["text"] != "Đã liên hệ chủ quản" {
			t.Fatalf("comment %+v %v", ev, err)
		}
		if err := f.s.Watch(ctx, an, inc.Ref); err != nil {
			t.Fatal(err)
		}
		f.s.Watch(ctx, an, inc.Ref) // twice: no change
		f.s.Watch(ctx, rep, inc.Ref)
		if w, _ := f.s.Watchers(ctx, an, inc.Ref); len(w) != 2 {
			t.Errorf("watchers %v", w)
		}
		f.s.Unwatch(ctx, rep, inc.Ref)
		if w, _ := f.s.Watchers(ctx, an, inc.Ref); !slices.Equal(w, []int64{an.UserID}) {
			t.Errorf("watchers after unwatch %v", w)
		}
		if err := f.s.Link(ctx, an, inc.Ref, inc.Ref, LinkRelated); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("link to self: %v", err)
		}
		if err := f.s.Link(ctx, an, inc.Ref, other.Ref, "cousin"); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("bad link kind: %v", err)
		}
		if err := f.s.Link(ctx, an, inc.Ref, other.Ref, LinkMerged); err != nil {
			t.Fatal(err)
		}
		if l, _ := f.s.Links(ctx, an, other.Ref); len(l) != 1 || l[0].OtherRef != inc.Ref || l[0].Kind != LinkMerged {
			t.Errorf("links from the other side %+v", l)
		}
		// A sibling's incident cannot be linked (not found).
		sib := f.mustCreate(f.actor(f.dnm, policy.RoleReporter))
		if err := f.s.Link(ctx, an, inc.Ref, sib.Ref, LinkRelated); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("link to invisible: %v", err)
		}
		if _, err := f.s.AddObservable(ctx, an, inc.Ref, ObsSHA256, "not-a-hash"); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("bad observable: %v", err)
		}
		h := "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
		o1, err := f.s.AddObservable(ctx, an, inc.Ref, ObsSHA256, h)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := f.s.AddObservable(ctx, an, inc.Ref, ObsSHA256, h)
		if err != nil || o2.ID != o1.ID || o1.Source != SourceManual {
			t.Errorf("dedupe: %+v %+v %v", o1, o2, err)
		}
		f.verifyAudit()
	})
}

func TestRouting(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		nc := f.actor(f.national, policy.RoleAnalyst)
		inc := f.mustCreate(f.actor(f.hnm, policy.RoleReporter), func(in *Input) {
			in.Description = "Nguồn tấn công 198.51.100.7, máy chủ bị lộ 203.0.113.10 và http://portal.hn-member.vn/login; 192.0.2.1 không thuộc ai."
		})
		routes, err := f.s.RouteObservables(ctx, nc, inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(routes) != 2 {
			t.Fatalf("routes %+v", routes)
		}
		if routes[0].Owner.ID != f.hnm.ID || routes[0].ResponseUnit == nil || routes[0].ResponseUnit.ID != f.hn.ID {
			t.Errorf("first route %+v", routes[0])
		}
		if routes[1].Owner.ID != f.isp.ID || routes[1].ResponseUnit != nil {
			t.Errorf("second route %+v", routes[1])
		}
		if _, err := f.s.RouteObservables(ctx, f.actor(f.dn, policy.RoleAnalyst), inc.Ref); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("sibling routes: %v", err)
		}
	})
}
