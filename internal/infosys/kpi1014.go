package infosys

import (
	"context"
	"slices"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/store"
)

// IOC1014 are the smart-city targets of QĐ 1014 for the intelligent
// operations centres (IOC systems) of one group, computed from the
// records: how many IOCs are classified (level approved), have their
// security staff (layer 1), are professionally monitored (layer 2), are
// assessed on schedule (an assessment done and not overdue), are connected
// and sharing with the national monitoring centre (layer 4), have an
// approved response plan (theirs or their owner's, internal/readiness);
// and the IOC operators and security staff of their owners trained
// (basic for operators, in depth for security staff).
type IOC1014 struct {
	Key              string `json:"key"`
	IOCs             int    `json:"iocs"`
	Classified       int    `json:"classified"`
	Staffed          int    `json:"staffed"`
	Monitored        int    `json:"monitored"`
	Assessed         int    `json:"assessed"`
	Connected        int    `json:"connected"`
	Plan             int    `json:"plan"`
	Operators        int    `json:"operators"`
	OperatorsTrained int    `json:"operators_trained"`
	Security         int    `json:"security"`
	SecurityTrained  int    `json:"security_trained"`
	ClassifiedPct    int    `json:"classified_pct"`
	StaffedPct       int    `json:"staffed_pct"`
	MonitoredPct     int    `json:"monitored_pct"`
	AssessedPct      int    `json:"assessed_pct"`
	ConnectedPct     int    `json:"connected_pct"`
	PlanPct          int    `json:"plan_pct"`
	OperatorsPct     int    `json:"operators_trained_pct"`
	SecurityPct      int    `json:"security_trained_pct"`
}

func (x *IOC1014) percent() {
	x.ClassifiedPct, x.StaffedPct, x.MonitoredPct = pct(x.Classified, x.IOCs), pct(x.Staffed, x.IOCs), pct(x.Monitored, x.IOCs)
	x.AssessedPct, x.ConnectedPct, x.PlanPct = pct(x.Assessed, x.IOCs), pct(x.Connected, x.IOCs), pct(x.Plan, x.IOCs)
	x.OperatorsPct, x.SecurityPct = pct(x.OperatorsTrained, x.Operators), pct(x.SecurityTrained, x.Security)
}

// IOCTargets computes the QĐ 1014 percentages per group over the IOC
// systems in the actor's scope at the service's clock. IOCs are few (one
// or a few per province), so each is decided in Go from its records.
func (s *Service) IOCTargets(ctx context.Context, a policy.Actor, by string) ([]IOC1014, error) {
	const op = "infosys: qd1014"
	if !slices.Contains(Groupings, by) {
		return nil, errs.Invalid(op).Field("by", "field.invalid_choice")
	}
	now := s.now()
	where, args := scopeWhere(a)
	where = "s.ioc <> '' AND " + where
	type ioc struct {
		sys          System
		prov, sector string
	}
	rows, err := s.DB.Query(ctx, "SELECT "+systemCols+`, COALESCE(o.province_code, ''), CASE WHEN s.sector <> '' THEN s.sector ELSE o.sector END
		FROM infosys_systems s JOIN organisations o ON o.id = s.owner_org_id WHERE `+where+" ORDER BY s.id", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var xs []ioc
	for rows.Next() {
		var x ioc
		if x.sys, err = scanSystem(extra{rows, []any{&x.prov, &x.sector}}); err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		if check(a, policy.InfosysRead, x.sys.OwnerOrgID, x.sys.OperatorOrgID) == nil {
			xs = append(xs, x)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	if len(xs) == 0 {
		return []IOC1014{}, nil
	}
	var ids, owners []int64
	for _, x := range xs {
		ids, owners = append(ids, x.sys.ID), append(owners, x.sys.OwnerOrgID)
	}
	slices.Sort(owners)
	owners = slices.Compact(owners)
	inS, argS := store.InList(ids)
	inO, argO := store.InList(owners)
	last, err := lastActivities(ctx, s.DB, "s.id IN "+inS, argS...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	sysRecs, orgRecs := map[int64]Layers{}, map[int64]Layers{}
	lrows, err := s.DB.Query(ctx, "SELECT "+layerCols+" FROM infosys_layers WHERE system_id IN "+inS+" OR (system_id = 0 AND org_id IN "+inO+")",
		append(argS, argO...)...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	for lrows.Next() {
		l, err := scanLayers(lrows)
		if err != nil {
			lrows.Close()
			return nil, errs.Internal(op, err)
		}
		if l.SystemID != 0 {
			sysRecs[l.SystemID] = l
		} else {
			orgRecs[l.OrgID] = l
		}
	}
	lrows.Close()
	if err := lrows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	// Approved response plans: of a system, or of its owner (no system).
	plans := map[[2]int64]bool{}
	prows, err := s.DB.Query(ctx, `SELECT DISTINCT p.org_id, COALESCE(p.system_id, 0) FROM readiness_plans p
		JOIN readiness_plan_versions v ON v.plan_id = p.id WHERE v.status = 'approved' AND p.org_id IN `+inO, argO...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	for prows.Next() {
		var o, sid int64
		if err := prows.Scan(&o, &sid); err != nil {
			prows.Close()
			return nil, errs.Internal(op, err)
		}
		plans[[2]int64{o, sid}] = true
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	// The people of the owners with an IOC role, and their best training.
	type staff struct{ ops, opsTrained, sec, secTrained int }
	people := map[int64]*staff{}
	trows, err := s.DB.Query(ctx, `SELECT p.org_id, p.ioc_role,
		COALESCE(MAX(CASE WHEN t.level = ? THEN 2 WHEN t.level = ? THEN 1 ELSE 0 END), 0)
		FROM readiness_people p LEFT JOIN readiness_trainings t ON t.person_id = p.id
		WHERE p.ioc_role <> '' AND p.org_id IN `+inO+` GROUP BY p.id, p.org_id, p.ioc_role`,
		append([]any{readiness.LevelAdvanced, readiness.LevelBasic}, argO...)...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	for trows.Next() {
		var o int64
		var role string
		var best int
		if err := trows.Scan(&o, &role, &best); err != nil {
			trows.Close()
			return nil, errs.Internal(op, err)
		}
		p := people[o]
		if p == nil {
			p = &staff{}
			people[o] = p
		}
		switch role {
		case readiness.IOCOperator:
			p.ops++
			if best >= 1 {
				p.opsTrained++
			}
		case readiness.IOCSecurity:
			p.sec++
			if best >= 2 {
				p.secTrained++
			}
		}
	}
	trows.Close()
	if err := trows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}

	groups := map[string]*IOC1014{}
	seen := map[string]map[int64]bool{} // owners counted for people per group
	var keys []string
	for _, x := range xs {
		key := "VN"
		switch by {
		case ByOrg:
			key = itoa(x.sys.OwnerOrgID)
		case ByProvince:
			key = x.prov
		case BySector:
			key = x.sector
		}
		g := groups[key]
		if g == nil {
			g = &IOC1014{Key: key}
			groups[key], seen[key] = g, map[int64]bool{}
			keys = append(keys, key)
		}
		g.IOCs++
		if x.sys.Level > 0 {
			g.Classified++
		}
		st := Status(sysRecs[x.sys.ID], orgRecs[x.sys.OwnerOrgID], now)
		inc := func(layer string, n *int) {
			for _, l := range st {
				if l.Layer == layer && l.Evidenced {
					*n++
				}
			}
		}
		inc(LayerStaff, &g.Staffed)
		inc(LayerMonitoring, &g.Monitored)
		inc(LayerConnection, &g.Connected)
		for _, d := range Schedule(x.sys, last[x.sys.ID], now) {
			if d.Kind == KindAssessment && !d.Last.IsZero() && d.State != DueOverdue {
				g.Assessed++
			}
		}
		if plans[[2]int64{x.sys.OwnerOrgID, x.sys.ID}] || plans[[2]int64{x.sys.OwnerOrgID, 0}] {
			g.Plan++
		}
		if p := people[x.sys.OwnerOrgID]; p != nil && !seen[key][x.sys.OwnerOrgID] {
			seen[key][x.sys.OwnerOrgID] = true
			g.Operators += p.ops
			g.OperatorsTrained += p.opsTrained
			g.Security += p.sec
			g.SecurityTrained += p.secTrained
		}
	}
	slices.Sort(keys)
	out := make([]IOC1014, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		g.percent()
		out = append(out, *g)
	}
	return out, nil
}
