package infosys

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// BenchmarkKPIs: the national KPIs by province over 100 000 systems of
// 5 000 organisations on SQLite, with 200 000 activities, the 4 layers of
// every other organisation (and of one system in ten) and 20 000 scan
// findings, 200 IOCs and a year of national snapshots. Reports p95 of the
// KPIs, p95 of the whole KPI page (KPIs, QĐ 1014 table, trend), and the
// first count, which computes every system's due date and 4-layer window.
//
//	go test -run XXX -bench KPIs -benchtime 10x ./internal/infosys/
func BenchmarkKPIs(b *testing.B) {
	db := testkit.NewSQLite(b)
	f := newFixture(b, db)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	now := t0
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var orgs []int64
		for i := range 5000 {
			var id int64
			prov := []string{"HN", "DN"}[i%2]
			if err := tx.QueryRow(ctx, `INSERT INTO organisations (code, name, province_code, sector, created_at, updated_at) VALUES (?, ?, ?, 'health', ?, ?) RETURNING id`,
				fmt.Sprintf("B%05d", i), fmt.Sprintf("Tổ chức %d", i), prov, now, now).Scan(&id); err != nil {
				return err
			}
			orgs = append(orgs, id)
			if i%2 == 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO infosys_layers (org_id, system_id, staff, monitoring, monitoring_provider, contract_start, contract_end,
					assessor, last_report_on, connected_since, ranges_shared, created_at, updated_at)
					VALUES (?, 0, '[{"name":"An"}]', 'provider', 'SOC', ?, ?, 'VNCERT', ?, ?, '', ?, ?)`,
					id, now.AddDate(-1, 0, 0), now.AddDate(0, rng.IntN(24)-12, 0), now.AddDate(0, -rng.IntN(30), 0), now.AddDate(-2, 0, 0), now, now); err != nil {
					return err
				}
			}
		}
		for i := range 100_000 {
			var id int64
			ioc := ""
			if i%500 == 0 {
				ioc = IOCProvincial
			}
			if err := tx.QueryRow(ctx, `INSERT INTO infosys_systems (owner_org_id, name, level, plan_deployed, ioc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				orgs[i%len(orgs)], fmt.Sprintf("HT %d", i), rng.IntN(6), rng.IntN(2) == 1, ioc, now, now).Scan(&id); err != nil {
				return err
			}
			if i%10 == 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO infosys_layers (org_id, system_id, staff, monitoring, created_at, updated_at)
					VALUES (?, ?, '[{"name":"Bình"}]', 'inhouse', ?, ?)`, orgs[i%len(orgs)], id, now, now); err != nil {
					return err
				}
			}
			if i%5 == 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO infosys_findings (system_id, fkey, host, name, severity, first_seen, last_seen, status, status_at, created_at)
					VALUES (?, 'k', '192.0.2.1', 'x', ?, ?, ?, ?, ?, ?)`, id, Severities[rng.IntN(len(Severities))], now, now,
					FindingStates[rng.IntN(len(FindingStates))], now, now); err != nil {
					return err
				}
			}
			for _, k := range []string{KindScan, KindAssessment} {
				if _, err := tx.Exec(ctx, `INSERT INTO infosys_activities (system_id, kind, done_on, created_at) VALUES (?, ?, ?, ?)`,
					id, k, now.AddDate(0, -rng.IntN(14), 0), now); err != nil {
					return err
				}
			}
		}
		// A year of national snapshots for the trend chart.
		for d := range 365 {
			if _, err := tx.Exec(ctx, `INSERT INTO infosys_kpi_snapshots (day, org_id, systems, classified, high, high_plan, on_time, layers,
				open_critical, open_high, created_at) VALUES (?, 0, 100000, ?, 50000, ?, ?, ?, 900, 1800, ?)`,
				now.AddDate(0, 0, -d).In(Local).Format(time.DateOnly), 60000+d*50, 30000+d*20, 40000+d*30, 10000+d*100, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	a := f.actor(f.national, policy.RoleViewer)
	// The first count computes every system's due date once (as after the
	// migration that added it); later ones only the systems changed since.
	start := time.Now()
	if _, err := f.s.KPIs(ctx, a, ByProvince); err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	var times, pages []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		ks, err := f.s.KPIs(ctx, a, ByProvince)
		if err != nil || len(ks) != 2 {
			b.Fatal(err, len(ks))
		}
		times = append(times, time.Since(start))
		// The rest of the KPI page: the QĐ 1014 table and the trend.
		xs, err := f.s.IOCTargets(ctx, a, ByProvince)
		if err != nil || len(xs) != 1 || xs[0].IOCs != 200 {
			b.Fatal(err, xs)
		}
		ps, err := f.s.Trend(ctx, a, TrendDays)
		if err != nil || len(ps) != TrendDays {
			b.Fatal(err, len(ps))
		}
		pages = append(pages, time.Since(start))
	}
	slices.Sort(times)
	slices.Sort(pages)
	b.ReportMetric(float64(times[len(times)*95/100].Milliseconds()), "p95-ms")
	b.ReportMetric(float64(pages[len(pages)*95/100].Milliseconds()), "page-p95-ms")
	b.ReportMetric(float64(first.Milliseconds()), "first-ms")
}
