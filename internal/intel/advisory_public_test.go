package intel

import (
	"context"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// exerciseRow inserts a drill and a running exercise of the organisation
// (what internal/exercise would hold) and returns the exercise's id.
func exerciseRow(t *testing.T, db *store.DB, orgID int64) int64 {
	t.Helper()
	ctx := context.Background()
	var drill, ex int64
	if err := db.QueryRow(ctx, `INSERT INTO readiness_drills (org_id, title, kind, starts_on, ends_on, scenario, objectives, status,
		created_at, updated_at) VALUES (?, 'Diễn tập', 'organisation', ?, ?, '', '', 'planned', ?, ?) RETURNING id`,
		orgID, t0, t0, t0, t0).Scan(&drill); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO exercises (drill_id, org_id, title, status, started_at, created_at, updated_at)
		VALUES (?, ?, 'Diễn tập', 'running', ?, ?, ?) RETURNING id`, drill, orgID, t0, t0, t0).Scan(&ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

// Only published, real TLP:CLEAR advisories are public: drafts, GREEN,
// AMBER and a drill's advisory (even relabelled CLEAR) never appear, in
// the list or one by one; the list pages newest first without gaps.
func TestPublicAdvisories(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		publish := func(tlp policy.TLP, title string) Advisory {
			v := f.draft(nat, AdvisoryInput{TLP: tlp, Title: title, Targeting: Targeting{All: true}, CVEs: []string{"cve-2026-1234"}})
			v, err := f.s.Publish(ctx, nat, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Minute)
			return v
		}
		var clear []Advisory
		for _, title := range []string{"Cảnh báo 1", "Cảnh báo 2", "Cảnh báo 3"} {
			clear = append(clear, publish(policy.TLPClear, title))
		}
		hidden := []Advisory{publish(policy.TLPGreen, "Xanh"), publish(policy.TLPAmber, "Hổ phách"),
			f.draft(nat, AdvisoryInput{TLP: policy.TLPClear, Title: "Bản nháp"})}
		ex := exerciseRow(t, db, f.national.ID)
		drill, err := f.s.PublishExercise(ctx, ExerciseAdvisoryInput{ExerciseID: ex, OwnerOrgID: f.national.ID, TargetOrgID: f.hnm.ID,
			Title: "Diễn tập: cảnh báo", Body: "Tình huống giả định", Severity: SeverityHigh, DeadlineAt: f.clock.Now().Add(time.Hour)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE advisories SET tlp = 'CLEAR' WHERE id = ?", drill.ID); err != nil {
			t.Fatal(err)
		}
		hidden = append(hidden, drill)
		// A closed one stays public: it was published.
		if _, err := f.s.CloseAdvisory(ctx, nat, clear[0].ID); err != nil {
			t.Fatal(err)
		}

		var got []int64
		cur := PublicCursor{}
		for range 10 {
			p, err := f.s.PublicAdvisories(ctx, cur, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range p.Advisories {
				got = append(got, v.ID)
				if v.TLP != policy.TLPClear || len(v.Targeting.Orgs) != 0 || v.CreatedName != "" {
					t.Fatalf("public advisory carries more than it should: %+v", v)
				}
			}
			if p.Next.IsZero() {
				break
			}
			if cur, err = ParsePublicCursor(p.Next.String()); err != nil {
				t.Fatal(err)
			}
		}
		want := []int64{clear[2].ID, clear[1].ID, clear[0].ID}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("public list %v, want %v (newest first)", got, want)
		}
		for _, v := range hidden {
			if _, err := f.s.PublicAdvisory(ctx, v.ID); !errs.Is(err, errs.KindNotFound) {
				t.Fatalf("%s (%s, %s) is public: %v", v.Title, v.TLP, v.Status, err)
			}
		}
		one, err := f.s.PublicAdvisory(ctx, clear[1].ID)
		if err != nil || one.Title != "Cảnh báo 2" || len(one.CVEs) != 1 || one.CVEs[0] != "CVE-2026-1234" || one.PublishedAt.IsZero() {
			t.Fatalf("public advisory: %+v %v", one, err)
		}
		for _, bad := range []string{"x", "1-", "-1", "1-0", "99999999999999999999-1", "1-2-3", "abc-def"} {
			if _, err := ParsePublicCursor(bad); !errs.Is(err, errs.KindInvalid) {
				t.Fatalf("cursor %q: %v", bad, err)
			}
		}
	})
}

// A drill's advisory reaches its one participant, marked exercise: it is
// left out of the real list and the "needs me" list, its messages and its
// escalation stay inside the exercise (the organiser only), and the
// recipient's first answer is kept for the after-action report.
func TestExerciseAdvisoryKeptApart(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		hn := f.actor(f.hn, policy.RoleCoordinator)
		nat := f.actor(f.national, policy.RoleCoordinator)
		hnm := f.actor(f.hnm, policy.RoleCoordinator)
		ex := exerciseRow(t, db, f.hn.ID)
		in := ExerciseAdvisoryInput{ExerciseID: ex, OwnerOrgID: f.hnm.ID, TargetOrgID: f.hnm.ID, Title: "Diễn tập: lỗ hổng VPN",
			Body: "Tình huống giả định: khai thác VPN", Severity: SeverityCritical, DeadlineAt: f.clock.Now().Add(4 * time.Hour)}
		if _, err := f.s.PublishExercise(ctx, in, nil); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a member publishes: %v", err) // HNM is not a response unit
		}
		in.OwnerOrgID, in.Severity, in.Title = f.hn.ID, "huge", ""
		if _, err := f.s.PublishExercise(ctx, in, nil); !fieldErr(err, "severity") || !fieldErr(err, "title") {
			t.Fatalf("bad input: %v", err)
		}
		if n := f.count("advisories"); n != 0 {
			t.Fatalf("advisories after refusals: %d", n)
		}
		in.Severity, in.Title = SeverityCritical, "Diễn tập: lỗ hổng VPN"
		v, err := f.s.PublishExercise(ctx, in, func(ctx context.Context, tx *store.Tx, v Advisory) error {
			if v.ExerciseID != ex || v.Status != AdvisoryPublished {
				t.Fatalf("exercise advisory: %+v", v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []policy.Actor{hn, nat, hnm} {
			list, err := f.s.Advisories(ctx, a, AdvisoryFilter{})
			if err != nil || len(list) != 0 {
				t.Fatalf("real list of %s: %d %v", a.Username, len(list), err)
			}
		}
		list, err := f.s.Advisories(ctx, hnm, AdvisoryFilter{Exercise: true})
		if err != nil || len(list) != 1 || list[0].ID != v.ID || list[0].Mine == nil {
			t.Fatalf("exercise list: %+v %v", list, err)
		}
		if w, err := f.s.Waiting(ctx, hnm); err != nil || len(w) != 0 {
			t.Fatalf("needs me: %d %v", len(w), err)
		}
		if _, err := f.s.AdvisorySTIX(ctx, hnm, v.ID); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("a drill's advisory exported as STIX: %v", err)
		}
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Acknowledge: true}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Minute)
		first := f.clock.Now().UTC().Truncate(time.Microsecond)
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeInProgress, Note: "Đang kiểm tra"}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Minute)
		if _, err := f.s.Respond(ctx, hnm, v.ID, RespondInput{Outcome: OutcomeRemediated, Note: "Đã vá"}); err != nil {
			t.Fatal(err)
		}
		var fr time.Time
		if err := db.QueryRow(ctx, "SELECT first_reported_at FROM advisory_recipients WHERE advisory_id = ?", v.ID).Scan(&fr); err != nil ||
			!fr.Equal(first) {
			t.Fatalf("first report at %v, want %v (%v)", fr, first, err)
		}
		var unmarked, marked int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE exercise = ?", false).Scan(&unmarked); err != nil || unmarked != 0 {
			t.Fatalf("unmarked messages: %d %v", unmarked, err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE exercise = ?", true).Scan(&marked); err != nil || marked != 3 {
			t.Fatalf("marked messages: %d %v", marked, err)
		}

		// Another drill advisory left unanswered: reminded, then escalated
		// to the organiser only (never the participant's response unit
		// outside the drill), every message marked.
		in.TargetOrgID = f.dnb.ID
		w, err := f.s.PublishExercise(ctx, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2*AdvisoryAckPeriod + time.Minute)
		if _, err := f.s.EscalateAdvisories(ctx); err != nil {
			t.Fatal(err)
		}
		var to string
		if err := db.QueryRow(ctx, `SELECT org_ids FROM notifications WHERE kind = ? AND link = ?`, KindAdvisoryEscalated,
			"/advisories/"+itoa(w.ID)).Scan(&to); err != nil {
			t.Fatalf("escalation: %v", err)
		}
		if to != "["+itoa(f.hn.ID)+"]" {
			t.Fatalf("escalated to %s, want the organiser %d (not DN)", to, f.hn.ID)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE exercise = ?", false).Scan(&unmarked); err != nil || unmarked != 0 {
			t.Fatalf("unmarked messages after escalation: %d %v", unmarked, err)
		}
		f.verifyAudit()
	})
}
