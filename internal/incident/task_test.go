package incident

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// user inserts a user of o and returns its id.
func (f *fixture) user(o org.Org, name string) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.QueryRow(context.Background(), `INSERT INTO users (org_id, username, display_name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, o.ID, name, name, t0, t0).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func TestTasks(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		member := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(member)
		analyst := f.actor(f.hn, policy.RoleAnalyst)
		owner := f.user(f.hnm, "Trần Thị B")
		outsider := f.user(f.dnm, "Lê Văn C")
		before := f.timelineLen(inc.ID)

		// Validation: nothing saved.
		_, err := f.s.AddTask(ctx, analyst, inc.Ref, TaskInput{Title: "", OwnerID: outsider})
		if e, ok := errs.As(err); !ok || !e.Has("title") || !e.Has("owner_id") {
			t.Fatalf("invalid task: %v", err)
		}
		// A reporter may not write tasks.
		if _, err := f.s.AddTask(ctx, member, inc.Ref, TaskInput{Title: "x"}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("reporter: %v", err)
		}
		// Someone outside: not found.
		if _, err := f.s.AddTask(ctx, f.actor(f.dn, policy.RoleAnalyst), inc.Ref, TaskInput{Title: "x"}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("outsider: %v", err)
		}
		if f.timelineLen(inc.ID) != before {
			t.Fatal("refused task changed the timeline")
		}

		due := t0.Add(24 * time.Hour)
		task, err := f.s.AddTask(ctx, analyst, inc.Ref, TaskInput{Title: "Thu thập nhật ký máy chủ", OwnerID: owner, DueAt: due})
		if err != nil {
			t.Fatal(err)
		}
		if task.OwnerName != "Trần Thị B" || !task.DueAt.Equal(due) || task.Status != TaskOpen {
			t.Fatalf("task %+v", task)
		}
		mine, err := f.s.MyTasks(ctx, policy.Actor{UserID: owner, OrgID: f.hnm.ID, Roles: []policy.Role{policy.RoleReporter},
			Scope: policy.Scope{Orgs: map[int64]bool{f.hnm.ID: true}}})
		if err != nil || len(mine) != 1 || mine[0].ID != task.ID {
			t.Fatalf("my tasks %v %v", mine, err)
		}
		if mine[0].Overdue(t0) || !mine[0].Overdue(due.Add(time.Minute)) {
			t.Fatal("overdue")
		}
		if _, err := f.s.AssignTask(ctx, analyst, task.ID, outsider); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("assign outsider: %v", err)
		}
		hnUser := f.user(f.hn, "hn-analyst")
		// Who may own a task: the member's people and those of the unit
		// above it, not another province's.
		owners, err := f.s.TaskOwners(ctx, analyst, inc.Ref)
		may := map[int64]bool{}
		for _, o := range owners {
			may[o.ID] = true
		}
		if err != nil || !may[owner] || !may[hnUser] || may[outsider] {
			t.Fatalf("task owners %v %v", owners, err)
		}
		if task, err = f.s.AssignTask(ctx, analyst, task.ID, hnUser); err != nil || task.OwnerID != hnUser {
			t.Fatalf("assign: %v", err)
		}
		f.clock.Advance(time.Hour)
		if task, err = f.s.SetTaskDone(ctx, analyst, task.ID, true); err != nil || task.Status != TaskDone || task.DoneBy != analyst.UserID || !task.DoneAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("done: %+v %v", task, err)
		}
		list, err := f.s.Tasks(ctx, member, inc.Ref)
		if err != nil || len(list) != 1 || list[0].Status != TaskDone {
			t.Fatalf("list %v %v", list, err)
		}
		evs, _ := loadEvents(ctx, db, inc.ID)
		var kinds []string
		for _, e := range evs[before:] {
			kinds = append(kinds, e.Kind)
		}
		want := []string{EventTaskAdded, EventTaskAssigned, EventTaskDone}
		if len(kinds) != len(want) || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
			t.Fatalf("events %v", kinds)
		}
		if _, err := f.s.SetTaskDone(ctx, analyst, 99999, true); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("missing task: %v", err)
		}
		f.verifyAudit()
	})
}

// A page's reads take the incident WithIncident carries (no second read)
// and still check the actor; a transaction reads the row.
func TestWithIncident(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		member := f.actor(f.hnm, policy.RoleReporter)
		inc := f.mustCreate(member)
		got, err := f.s.Get(ctx, member, inc.Ref)
		if err != nil {
			t.Fatal(err)
		}
		page := WithIncident(ctx, got)
		// The row changes behind the page: the page keeps what it read.
		if _, err := db.Exec(ctx, "UPDATE incidents SET title = ? WHERE id = ?", "changed", inc.ID); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{inc.Ref, strings.ToLower(inc.Ref), fmt.Sprint(inc.ID)} {
			if seen, err := getVisible(page, db, member, key); err != nil || seen.Title != got.Title {
				t.Fatalf("%s: %q %v", key, seen.Title, err)
			}
		}
		if _, err := f.s.Timeline(page, f.actor(f.dn, policy.RoleAnalyst), inc.Ref); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("outsider with the page's incident: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			seen, err := getVisible(page, tx, member, inc.Ref)
			if err == nil && seen.Title != "changed" {
				t.Errorf("in a transaction: %q", seen.Title)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}
