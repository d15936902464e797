package infosys

import (
	"context"
	"slices"
	"strconv"

	"certnet/internal/errs"
	"certnet/internal/policy"
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
	Key         string `json:"key"` // organisation id, province code, sector or "VN"
	Systems     int    `json:"systems"`
	Classified  int    `json:"classified"` // with an approved level
	High        int    `json:"high"`       // approved at level 3–5
	HighPlan    int    `json:"high_plan"`  // of those, with the plan deployed
	OnTime      int    `json:"on_time"`    // every obligation on schedule
	ClassPct    int    `json:"classified_pct"`
	HighPlanPct int    `json:"high_plan_pct"`
	OnTimePct   int    `json:"on_time_pct"`
	Target      int    `json:"target"`
	MeetsTarget bool   `json:"meets_target"`
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
func (s *Service) KPIs(ctx context.Context, a policy.Actor, by string) ([]KPI, error) {
	const op = "infosys: kpis"
	if !slices.Contains(Groupings, by) {
		return nil, errs.Invalid(op).Field("by", "field.invalid_choice")
	}
	now := s.now()
	where, args := scopeWhere(a)
	last, err := lastActivities(ctx, s.DB, where, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	rows, err := s.DB.Query(ctx, "SELECT "+systemCols+", COALESCE(o.province_code, ''), o.sector FROM infosys_systems s JOIN organisations o ON o.id = s.owner_org_id WHERE "+where, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	groups := map[string]*KPI{}
	var keys []string
	for rows.Next() {
		var sys System
		var prov, orgSector string
		sys, err = scanSystem(extra{rows, []any{&prov, &orgSector}})
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		if check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID) != nil {
			continue
		}
		key := "VN"
		switch by {
		case ByOrg:
			key = itoa(sys.OwnerOrgID)
		case ByProvince:
			key = prov
		case BySector:
			key = sys.Sector
			if key == "" {
				key = orgSector
			}
		}
		g := groups[key]
		if g == nil {
			g = &KPI{Key: key}
			groups[key] = g
			keys = append(keys, key)
		}
		g.Systems++
		if sys.Level > 0 {
			g.Classified++
		}
		if sys.Level >= 3 {
			g.High++
			if sys.PlanDeployed {
				g.HighPlan++
			}
		}
		onTime := true
		for _, d := range Schedule(sys, last[sys.ID], now) {
			if d.State == DueOverdue {
				onTime = false
			}
		}
		if onTime {
			g.OnTime++
		}
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
