package infosys

import (
	"context"
	"strconv"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// JobSnapshot is the name of the KPI snapshot job on the jobs runner: it
// runs every hour and keeps, for the current day (Vietnam), the KPIs of
// every owner organisation and of the nation, so that the day's row holds
// the last figures of that day.
const JobSnapshot = "infosys.kpi_snapshot"

// TrendDays is how many days of snapshots a trend chart shows by default.
const TrendDays = 365

// Point is the KPIs of one day of a trend.
type Point struct {
	Day          string `json:"day"` // YYYY-MM-DD
	Systems      int    `json:"systems"`
	Classified   int    `json:"classified"`
	High         int    `json:"high"`
	HighPlan     int    `json:"high_plan"`
	OnTime       int    `json:"on_time"`
	Layers       int    `json:"layers"`
	OpenCritical int    `json:"open_critical"`
	OpenHigh     int    `json:"open_high"`
	ClassPct     int    `json:"classified_pct"`
	HighPlanPct  int    `json:"high_plan_pct"`
	OnTimePct    int    `json:"on_time_pct"`
	LayersPct    int    `json:"layers_pct"`
	Target       int    `json:"target"`
}

// Snapshot stores today's KPIs of every owner organisation and of the
// nation (org 0), replacing the rows of the same day; it returns how many
// rows it wrote. Run by the jobs runner.
func (s *Service) Snapshot(ctx context.Context) (int, error) {
	const op = "infosys: kpi snapshot"
	now := s.now()
	ks, err := s.KPIs(ctx, policy.SystemActor(JobSnapshot), ByOrg)
	if err != nil {
		return 0, err
	}
	day := now.In(Local).Format(time.DateOnly)
	var nat KPI
	n := 0
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		put := func(org int64, k KPI) error {
			_, err := tx.Exec(ctx, `INSERT INTO infosys_kpi_snapshots (day, org_id, systems, classified, high, high_plan, on_time, layers,
				open_critical, open_high, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (org_id, day) DO UPDATE SET systems = excluded.systems, classified = excluded.classified, high = excluded.high,
				high_plan = excluded.high_plan, on_time = excluded.on_time, layers = excluded.layers, open_critical = excluded.open_critical,
				open_high = excluded.open_high, created_at = excluded.created_at`,
				day, org, k.Systems, k.Classified, k.High, k.HighPlan, k.OnTime, k.Layers, k.OpenCritical, k.OpenHigh, now)
			n++
			return err
		}
		// An organisation with no system left today has none counted.
		if _, err := tx.Exec(ctx, "DELETE FROM infosys_kpi_snapshots WHERE day = ?", day); err != nil {
			return err
		}
		for _, k := range ks {
			org, err := strconv.ParseInt(k.Key, 10, 64)
			if err != nil {
				return err
			}
			if err := put(org, k); err != nil {
				return err
			}
			nat.Systems += k.Systems
			nat.Classified += k.Classified
			nat.High += k.High
			nat.HighPlan += k.HighPlan
			nat.OnTime += k.OnTime
			nat.Layers += k.Layers
			nat.OpenCritical += k.OpenCritical
			nat.OpenHigh += k.OpenHigh
		}
		return put(0, nat)
	})
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	return n, nil
}

// Trend returns the daily KPIs of the actor's scope over the days up to
// the service's clock, oldest first: the national rows for someone who
// sees everything, otherwise the sum of the snapshots of the owner
// organisations in scope (systems counted by their owner).
func (s *Service) Trend(ctx context.Context, a policy.Actor, days int) ([]Point, error) {
	const op = "infosys: trend"
	if days < 1 || days > 3660 {
		return nil, errs.Invalid(op).Field("days", "infosys.err.days", 3660)
	}
	now := s.now()
	since := now.In(Local).AddDate(0, 0, -days+1).Format(time.DateOnly)
	cols := "day, SUM(systems), SUM(classified), SUM(high), SUM(high_plan), SUM(on_time), SUM(layers), SUM(open_critical), SUM(open_high)"
	var q string
	var args []any
	if a.Scope.All || a.System {
		q, args = "SELECT "+cols+" FROM infosys_kpi_snapshots WHERE org_id = 0 AND day >= ? GROUP BY day ORDER BY day", []any{since}
	} else {
		var orgs []int64
		for _, id := range a.Scope.IDs() {
			if check(a, policy.InfosysRead, id, 0) == nil {
				orgs = append(orgs, id)
			}
		}
		if len(orgs) == 0 {
			return []Point{}, nil
		}
		in, inArgs := store.InList(orgs)
		q = "SELECT " + cols + " FROM infosys_kpi_snapshots WHERE org_id IN " + in + " AND day >= ? GROUP BY day ORDER BY day"
		args = append(inArgs, since)
	}
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Point{}
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.Day, &p.Systems, &p.Classified, &p.High, &p.HighPlan, &p.OnTime, &p.Layers, &p.OpenCritical, &p.OpenHigh); err != nil {
			return nil, errs.Internal(op, err)
		}
		p.ClassPct, p.HighPlanPct, p.OnTimePct, p.LayersPct = pct(p.Classified, p.Systems), pct(p.HighPlan, p.High), pct(p.OnTime, p.Systems), pct(p.Layers, p.Systems)
		if d, err := time.Parse(time.DateOnly, p.Day); err == nil {
			p.Target = Target(d.Year())
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}
