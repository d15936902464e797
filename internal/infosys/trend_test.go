package infosys

import (
	"context"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestIOCTargets: the QĐ 1014 percentages of IOC systems computed from the
// records — classified, the four layers, assessed on schedule, an approved
// response plan, the owners' IOC people trained.
func TestIOCTargets(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		mk := func(name, ioc string) System {
			sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: name, Sector: "health", IOC: ioc})
			if err != nil {
				t.Fatal(err)
			}
			return sys
		}
		a, b := mk("IOC tỉnh", IOCProvincial), mk("IOC thành phố", IOCCity)
		mk("Không phải IOC", IOCNone)
		if _, err := db.Exec(ctx, "UPDATE infosys_systems SET level = 3 WHERE id = ?", a.ID); err != nil {
			t.Fatal(err)
		}
		// a: all four layers of its own, assessed 2 months ago (every 6
		// months for a provincial IOC); b: the staff layer only, assessed 13
		// months ago (every 12 months for a city IOC: overdue).
		if _, err := f.s.SaveSystemLayers(ctx, owner, a.ID, fullLayers("2027-12-31")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SaveSystemLayers(ctx, owner, b.ID, LayersInput{Staff: []Staff{{Name: "Lê Văn C"}}}); err != nil {
			t.Fatal(err)
		}
		for sys, ago := range map[int64]int{a.ID: 2, b.ID: 13} {
			if _, err := f.s.RecordActivity(ctx, owner, Activity{SystemID: sys, Kind: KindAssessment, DoneOn: t0.AddDate(0, -ago, 0), Performer: "Công ty kiểm định A"}); err != nil {
				t.Fatal(err)
			}
		}
		// An approved response plan of a only; two operators (one trained
		// basic) and one security officer trained basic only (not in depth).
		var planID int64
		if err := db.QueryRow(ctx, `INSERT INTO readiness_plans (org_id, system_id, title, created_at, updated_at) VALUES (?, ?, 'PA', ?, ?) RETURNING id`,
			f.hosp.ID, a.ID, t0, t0).Scan(&planID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO readiness_plan_versions (plan_id, version, status, created_at, updated_at) VALUES (?, 1, 'approved', ?, ?)`,
			planID, t0, t0); err != nil {
			t.Fatal(err)
		}
		for i, p := range []struct{ role, level string }{{"operator", "basic"}, {"operator", ""}, {"security", "basic"}, {"", "advanced"}} {
			var pid int64
			if err := db.QueryRow(ctx, `INSERT INTO readiness_people (org_id, full_name, ioc_role, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				f.hosp.ID, "Người "+itoa(int64(i)), p.role, t0, t0).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			if p.level != "" {
				if _, err := db.Exec(ctx, `INSERT INTO readiness_trainings (person_id, course, level, finished_on, created_at) VALUES (?, 'Khoá', ?, ?, ?)`,
					pid, p.level, t0, t0); err != nil {
					t.Fatal(err)
				}
			}
		}
		xs, err := f.s.IOCTargets(ctx, f.actor(f.hn, policy.RoleViewer), ByProvince)
		if err != nil || len(xs) != 1 {
			t.Fatalf("%+v %v", xs, err)
		}
		x := xs[0]
		want := IOC1014{Key: "HN", IOCs: 2, Classified: 1, Staffed: 2, Monitored: 1, Assessed: 1, Connected: 1, Plan: 1,
			Operators: 2, OperatorsTrained: 1, Security: 1, SecurityTrained: 0,
			ClassifiedPct: 50, StaffedPct: 100, MonitoredPct: 50, AssessedPct: 50, ConnectedPct: 50, PlanPct: 50, OperatorsPct: 50, SecurityPct: 0}
		if x != want {
			t.Fatalf("got  %+v\nwant %+v", x, want)
		}
		// Three months later a's assessment (due 4 months from now) is still
		// on time; five months later, overdue.
		f.clock.Set(t0.AddDate(0, 3, 0))
		if xs, _ := f.s.IOCTargets(ctx, f.actor(f.national, policy.RoleViewer), ByNation); xs[0].Assessed != 1 || xs[0].Key != "VN" {
			t.Fatalf("%+v", xs)
		}
		f.clock.Set(t0.AddDate(0, 5, 0))
		if xs, _ := f.s.IOCTargets(ctx, f.actor(f.national, policy.RoleViewer), ByNation); xs[0].Assessed != 0 {
			t.Fatalf("%+v", xs)
		}
		// Another province sees none; a bad grouping is refused.
		if xs, err := f.s.IOCTargets(ctx, f.actor(f.dn, policy.RoleViewer), ByProvince); err != nil || len(xs) != 0 {
			t.Fatalf("%+v %v", xs, err)
		}
		_, err = f.s.IOCTargets(ctx, owner, "planet")
		wantField(t, err, "by")
	})
}

// TestTrend: the daily snapshots (one row a day, the last run of the day
// winning) and the trend of a scope.
func TestTrend(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		var ids []int64
		for i := range 4 {
			sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HT " + itoa(int64(i)), Sector: "health"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sys.ID)
		}
		classify := func(n int) {
			t.Helper()
			for i, id := range ids {
				lv := 0
				if i < n {
					lv = 3
				}
				if _, err := db.Exec(ctx, "UPDATE infosys_systems SET level = ? WHERE id = ?", lv, id); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Day 1: one classified; day 2: two in the morning, three by the
		// evening (the evening's run replaces the morning's); day 4: four.
		run := func(at time.Time, classified int) {
			t.Helper()
			f.clock.Set(at)
			classify(classified)
			if n, err := f.s.Snapshot(ctx); err != nil || n != 2 {
				t.Fatalf("snapshot: %d %v", n, err)
			}
		}
		run(t0, 1)
		run(t0.Add(24*time.Hour), 2)
		run(t0.Add(24*time.Hour+10*time.Hour), 3)
		run(t0.Add(72*time.Hour), 4)
		var rows int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_kpi_snapshots").Scan(&rows); err != nil || rows != 6 {
			t.Fatalf("%d rows (%v)", rows, err)
		}
		for _, a := range []policy.Actor{f.actor(f.national, policy.RoleViewer), f.actor(f.hn, policy.RoleViewer)} {
			ps, err := f.s.Trend(ctx, a, 30)
			if err != nil || len(ps) != 3 {
				t.Fatalf("%s: %+v %v", a.Username, ps, err)
			}
			if ps[0].Day != "2026-11-26" || ps[0].ClassPct != 25 || ps[1].Day != "2026-11-27" || ps[1].ClassPct != 75 ||
				ps[2].Day != "2026-11-29" || ps[2].ClassPct != 100 || ps[2].Systems != 4 || ps[2].Target != 100 {
				t.Fatalf("%s: %+v", a.Username, ps)
			}
		}
		// The window: only the last day within 1 day of the clock.
		if ps, _ := f.s.Trend(ctx, f.actor(f.national, policy.RoleViewer), 1); len(ps) != 1 || ps[0].Day != "2026-11-29" {
			t.Fatalf("%+v", ps)
		}
		if ps, err := f.s.Trend(ctx, f.actor(f.dn, policy.RoleViewer), 30); err != nil || len(ps) != 0 {
			t.Fatalf("DN sees %+v %v", ps, err)
		}
		_, err := f.s.Trend(ctx, owner, 0)
		wantField(t, err, "days")
	})
}
