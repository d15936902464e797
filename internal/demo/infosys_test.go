package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/auth"
	"certnet/internal/infosys"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestSeedInfosys: the demo's systems across levels, a dossier in each
// state (the approval past 7 working days flagged, a returned one with its
// comments), the HIS's assessment overdue with open findings; a second
// run adds nothing.
func TestSeedInfosys(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 3, 0, 0, 123456789, time.UTC) // nanoseconds, as a real clock has
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		if n, err := SeedInfosys(ctx, db, now); err != nil || n != 0 {
			t.Fatalf("before the network: %d, %v", n, err)
		}
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		n, err := SeedInfosys(ctx, db, now)
		if err != nil || n != 10 {
			t.Fatalf("seeded %d, %v", n, err)
		}
		if n, err := SeedInfosys(ctx, db, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		svc := infosys.NewService(db, func() time.Time { return now }, nil)
		sys := policy.SystemActor("test")
		xs, total, err := svc.List(ctx, sys, infosys.Filter{Level: -1, Limit: 100})
		if err != nil || total != 10 {
			t.Fatalf("list %d %v", total, err)
		}
		levels := map[int]int{}
		states := map[string]int{}
		var late, returned bool
		var his infosys.System
		for _, x := range xs {
			levels[x.Level]++
			_, ds, due, err := svc.Detail(ctx, sys, x.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				states[d.Status]++
				late = late || (d.Status == infosys.StatusAppraised && d.ApprovalLate(now))
				returned = returned || (d.Status == infosys.StatusDraft && d.Comments != "")
			}
			if x.Name == "Hệ thống thông tin bệnh viện (HIS)" {
				his = x
				overdue := false
				for _, u := range due {
					overdue = overdue || (u.Kind == infosys.KindAssessment && u.State == infosys.DueOverdue)
				}
				if !overdue {
					t.Errorf("HIS assessment not overdue: %+v", due)
				}
			}
		}
		if levels[0] != 5 || levels[1] != 1 || levels[3] != 3 || levels[5] != 1 {
			t.Errorf("levels %v", levels)
		}
		for _, st := range []string{infosys.StatusDraft, infosys.StatusSubmitted, infosys.StatusAppraised, infosys.StatusApproved} {
			if states[st] == 0 {
				t.Errorf("no dossier %s: %v", st, states)
			}
		}
		if !late || !returned {
			t.Errorf("late approval %v, returned dossier %v", late, returned)
		}
		open, err := svc.OpenFindings(ctx, sys, his.ID)
		if err != nil || open[infosys.SevHigh] != 2 || open[infosys.SevMedium] != 2 {
			t.Errorf("HIS findings %v %v", open, err)
		}
	})
}
