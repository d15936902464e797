package incident

import (
	"encoding/json"
	"slices"
	"testing"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

type queued struct {
	Kind, Key, Link string
	Orgs, Users     []int64
	Roles           []string
}

func queuedOf(t *testing.T, db *store.DB, kind string) []queued {
	t.Helper()
	rows, err := db.Query(ctx, "SELECT kind, dedupe_key, link, org_ids, user_ids, roles FROM notifications WHERE kind = ? ORDER BY id", kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		var orgs, users, roles string
		if err := rows.Scan(&q.Kind, &q.Key, &q.Link, &orgs, &users, &roles); err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			s string
			d any
		}{{orgs, &q.Orgs}, {users, &q.Users}, {roles, &q.Roles}} {
			if err := json.Unmarshal([]byte(x.s), x.d); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(q.Orgs)
		out = append(out, q)
	}
	return out
}

// TestNotifications: every incident event queues its message in the same
// transaction, to the right organisations and people, once.
func TestNotifications(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rep := f.actor(f.hnm, policy.RoleReporter)
		hn := f.actor(f.hn, policy.RoleAnalyst)
		nc := f.actor(f.national, policy.RoleCoordinator, policy.RoleAnalyst)
		inc := f.mustCreate(rep)

		created := queuedOf(t, db, KindCreated)
		want := []int64{f.national.ID, f.hn.ID, f.hnm.ID}
		slices.Sort(want)
		if len(created) != 1 || !slices.Equal(created[0].Orgs, want) || created[0].Link != "/incidents/"+inc.Ref ||
			!slices.Equal(created[0].Roles, []string{"coordinator", "analyst"}) {
			t.Fatalf("created: %+v, want orgs %v", created, want)
		}

		// The acknowledgement goes back to the reporting organisation.
		reports, err := f.s.Reports(ctx, hn, inc.Ref)
		if err != nil || len(reports) != 1 {
			t.Fatal(reports, err)
		}
		if _, err := f.s.Acknowledge(ctx, hn, inc.Ref, reports[0].ID); err != nil {
			t.Fatal(err)
		}
		if acks := queuedOf(t, db, KindAcknowledged); len(acks) != 1 || !slices.Equal(acks[0].Orgs, []int64{f.hnm.ID}) {
			t.Errorf("ack: %+v", acks)
		}

		// Watchers hear of status changes and comments, not of their own.
		if err := f.s.Watch(ctx, hn, inc.Ref); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Transition(ctx, nc, inc.Ref, StatusVerified, TransitionInput{}); err != nil {
			t.Fatal(err)
		}
		if st := queuedOf(t, db, KindStatus); len(st) != 1 || !slices.Equal(st[0].Users, []int64{hn.UserID}) {
			t.Errorf("status: %+v", st)
		}
		if _, err := f.s.AddComment(ctx, hn, inc.Ref, "Đã cô lập máy chủ"); err != nil {
			t.Fatal(err)
		}
		if c := queuedOf(t, db, KindComment); len(c) != 0 {
			t.Errorf("own comment told: %+v", c)
		}
		if _, err := f.s.AddComment(ctx, nc, inc.Ref, "Đề nghị gửi nhật ký"); err != nil {
			t.Fatal(err)
		}
		if c := queuedOf(t, db, KindComment); len(c) != 1 || !slices.Equal(c[0].Users, []int64{hn.UserID}) {
			t.Errorf("comment: %+v", c)
		}

		// A report filed by the member is to be acknowledged by the chain.
		if _, err := f.s.Transition(ctx, nc, inc.Ref, StatusContainment, TransitionInput{}); err != nil {
			t.Fatal(err)
		}
		r, err := f.s.AddReport(ctx, rep, inc.Ref, ReportProgress, ReportInput{Summary: "Đã khôi phục một phần"})
		if err != nil {
			t.Fatal(err)
		}
		rf := queuedOf(t, db, KindReportFiled)
		if len(rf) != 1 || slices.Contains(rf[0].Orgs, f.hnm.ID) || !slices.Contains(rf[0].Orgs, f.hn.ID) ||
			!slices.Contains(rf[0].Orgs, f.national.ID) {
			t.Errorf("report %d: %+v", r.ID, rf)
		}

		// A serious proposal goes to the standing body.
		if _, err := f.s.ProposeSerious(ctx, nc, inc.Ref, "Ảnh hưởng diện rộng"); err != nil {
			t.Fatal(err)
		}
		if sp := queuedOf(t, db, KindSeriousProposed); len(sp) != 1 || !slices.Equal(sp[0].Orgs, []int64{f.standing.ID}) {
			t.Errorf("serious: %+v", sp)
		}

		// An AMBER+STRICT incident is told to its own organisations only.
		f.mustCreate(rep, func(in *Input) { in.TLP = policy.TLPAmberStrict })
		if created := queuedOf(t, db, KindCreated); len(created) != 2 || !slices.Equal(created[1].Orgs, []int64{f.hnm.ID}) {
			t.Errorf("AMBER+STRICT incident told the chain: %+v", created)
		}
		f.verifyAudit()
	})
}
