package infosys

import (
	"context"
	"slices"
	"strconv"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Target returns the yearly target share (percent) of level 3–5 systems
// classified and protected (QĐ 566): 80% in 2023, 90% in 2024, 100% from
// 2025; 0 before.
func Target(year int) int {
	switch {
	case year >= 2025:
		return 100
	case year == 2024:
		return 90
	case year == 2023:
		return 80
	}
	return 0
}

// Grouping of the KPIs.
const (
	ByOrg      = "org"
	ByProvince = "province"
	BySector   = "sector"
	ByNation   = "nation"
)

// Groupings lists the groupings.
var Groupings = []string{ByOrg, ByProvince, BySector, ByNation}

// KPI are the figures of one group.
type KPI struct {
	Key        string `json:"key"` // organisation id, province code, sector or "VN"
	Systems    int    `json:"systems"`
	Classified int    `json:"classified"` // with an approved level
	High       int    `json:"high"`       // approved at level 3–5
	HighPlan   int    `json:"high_plan"`  // of those, with the plan deployed
	OnTime     int    `json:"on_time"`    // every obligation on schedule
	Layers     int    `json:"layers"`     // all four layers evidenced
	// Open (or in progress) findings of critical and high severity.
	OpenCritical int  `json:"open_critical"`
	OpenHigh     int  `json:"open_high"`
	ClassPct     int  `json:"classified_pct"`
	HighPlanPct  int  `json:"high_plan_pct"`
	OnTimePct    int  `json:"on_time_pct"`
	LayersPct    int  `json:"layers_pct"`
	Target       int  `json:"target"`
	MeetsTarget  bool `json:"meets_target"`
}

func pct(a, b int) int {
	if b == 0 {
		return 0
	}
	return a * 100 / b
}

// KPIs computes the figures per group over the systems in the actor's scope
// at the service's clock. A system counts as protected when its level is
// approved, its plan deployed and its obligations are not overdue.
//
// The systems are counted in SQL by owner, operator and sector (a few
// thousand groups for 100 000 systems), each group is decided with
// policy as its systems would be one by one, and the groups are summed in
// Go. Overdue is read from the stored earliest due date (refreshDue), the
// 4-layer completeness from the stored window in which all four layers
// are evidenced (refreshLayers), open findings from the counts the
// findings' triggers keep on the row.
func (s *Service) KPIs(ctx context.Context, a policy.Actor, by string) ([]KPI, error) {
	const op = "infosys: kpis"
	if !slices.Contains(Groupings, by) {
		return nil, errs.Invalid(op).Field("by", "field.invalid_choice")
	}
	now := s.now()
	if err := refreshDue(ctx, s.DB); err != nil {
		return nil, errs.Internal(op, err)
	}
	if err := refreshLayers(ctx, s.DB); err != nil {
		return nil, errs.Internal(op, err)
	}
	where, args := scopeWhere(a)
	// A stored time compared with the clock: on SQLite, +col strips the
	// column's NUMERIC affinity, which would otherwise make SQLite try to
	// read the clock's text as a number on every row (about a third of the
	// query's time over 100 000 systems); both are text in the same format.
	ts := func(col string) string {
		if s.DB.Engine == store.SQLite {
			return "+" + col
		}
		return col
	}
	// Grouped first by owner, operator and sector from an index that holds
	// every column read, then named by the owner's province and sector.
	rows, err := s.DB.Query(ctx, `SELECT g.owner, g.operator, COALESCE(o.province_code, ''),
		CASE WHEN g.sector <> '' THEN g.sector ELSE o.sector END, g.n, g.classified, g.high, g.high_plan, g.on_time,
		g.layers, g.open_critical, g.open_high
		FROM (SELECT s.owner_org_id AS owner, COALESCE(s.operator_org_id, 0) AS operator, s.sector AS sector, COUNT(*) AS n,
			SUM(CASE WHEN s.level > 0 THEN 1 ELSE 0 END) AS classified, SUM(CASE WHEN s.level >= 3 THEN 1 ELSE 0 END) AS high,
			SUM(CASE WHEN s.level >= 3 AND s.plan_deployed THEN 1 ELSE 0 END) AS high_plan,
			SUM(CASE WHEN s.next_due_at IS NULL OR `+ts("s.next_due_at")+` > ? THEN 1 ELSE 0 END) AS on_time,
			SUM(CASE WHEN `+ts("s.layers_from")+` <= ? AND (s.layers_until IS NULL OR `+ts("s.layers_until")+` > ?) THEN 1 ELSE 0 END) AS layers,
			SUM(s.open_critical) AS open_critical, SUM(s.open_high) AS open_high
			FROM infosys_systems s WHERE `+where+` GROUP BY s.owner_org_id, s.operator_org_id, s.sector) g
		JOIN organisations o ON o.id = g.owner`, append([]any{now, now, now}, args...)...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	groups := map[string]*KPI{}
	var keys []string
	for rows.Next() {
		var owner, operator int64
		var prov, sector string
		var c KPI
		if err := rows.Scan(&owner, &operator, &prov, &sector, &c.Systems, &c.Classified, &c.High, &c.HighPlan, &c.OnTime,
			&c.Layers, &c.OpenCritical, &c.OpenHigh); err != nil {
			return nil, errs.Internal(op, err)
		}
		if check(a, policy.InfosysRead, owner, operator) != nil {
			continue
		}
		key := "VN"
		switch by {
		case ByOrg:
			key = itoa(owner)
		case ByProvince:
			key = prov
		case BySector:
			key = sector
		}
		g := groups[key]
		if g == nil {
			g = &KPI{Key: key}
			groups[key] = g
			keys = append(keys, key)
		}
		g.Systems += c.Systems
		g.Classified += c.Classified
		g.High += c.High
		g.HighPlan += c.HighPlan
		g.OnTime += c.OnTime
		g.Layers += c.Layers
		g.OpenCritical += c.OpenCritical
		g.OpenHigh += c.OpenHigh
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	slices.Sort(keys)
	target := Target(now.In(Local).Year())
	out := make([]KPI, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		g.ClassPct, g.HighPlanPct, g.OnTimePct = pct(g.Classified, g.Systems), pct(g.HighPlan, g.High), pct(g.OnTime, g.Systems)
		g.LayersPct = pct(g.Layers, g.Systems)
		g.Target = target
		g.MeetsTarget = g.ClassPct >= target && (g.High == 0 || g.HighPlanPct >= target)
		out = append(out, *g)
	}
	return out, nil
}

// extra scans a system or dossier row followed by more columns.
type extra struct {
	r    scanner
	more []any
}

func (e extra) Scan(dest ...any) error { return e.r.Scan(append(dest, e.more...)...) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
