package campaign

import (
	"context"
	"sort"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Line is one row of the progress view and the report: a member, an ISP
// or a province with its counts.
type Line struct {
	OrgID        int64     `json:"org_id,omitempty"`
	Code         string    `json:"code,omitempty"`
	Name         string    `json:"name,omitempty"`
	Province     string    `json:"province,omitempty"`
	Status       string    `json:"status,omitempty"` // the member's part
	AtStart      int       `json:"at_start"`         // addresses of the campaign's first import
	Addresses    int       `json:"addresses"`
	Cleaned      int       `json:"cleaned"`
	Remaining    int       `json:"remaining"`  // open or reinfected
	Reinfected   int       `json:"reinfected"` // addresses seen again after cleaning
	LastActivity time.Time `json:"last_activity,omitzero"`
	Overdue      bool      `json:"overdue,omitempty"`
	// Hidden: the organisation's label hides its name from the reader.
	Hidden bool `json:"hidden,omitempty"`
}

// CleanedPercent is the share of the addresses cleaned, 0–100.
func (l Line) CleanedPercent() int {
	if l.Addresses == 0 {
		return 0
	}
	return l.Cleaned * 100 / l.Addresses
}

// Report is the campaign's progress: per member, per ISP and per province,
// with the totals and the unrouted addresses.
type Report struct {
	Campaign  Campaign  `json:"campaign"`
	At        time.Time `json:"at"`
	Members   []Line    `json:"members"`
	ISPs      []Line    `json:"isps"`
	Provinces []Line    `json:"provinces"`
	Total     Line      `json:"total"`
	Unrouted  int       `json:"unrouted"`
}

// Report returns the campaign's progress for the organisation running it.
func (s *Service) Report(ctx context.Context, a policy.Actor, id int64) (Report, error) {
	const op = "campaign: report"
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return Report{}, err
	}
	if !manages(a, c) {
		return Report{}, errs.Forbidden(op)
	}
	now := s.stamp()
	rep := Report{Campaign: c, At: now}
	var first int64
	_ = s.DB.QueryRow(ctx, `SELECT COALESCE(MIN(id), 0) FROM campaign_imports WHERE campaign_id = ?`, c.ID).Scan(&first)
	rows, err := s.DB.Query(ctx, `SELECT COALESCE(member_org_id, 0), COALESCE(isp_org_id, 0), status, reinfections, first_import_id
		FROM campaign_addresses WHERE campaign_id = ?`, c.ID)
	if err != nil {
		return rep, errs.Internal(op, err)
	}
	members, isps, provs := map[int64]*Line{}, map[int64]*Line{}, map[string]*Line{}
	add := func(l *Line, status string, reinf int, start bool) {
		l.Addresses++
		if start {
			l.AtStart++
		}
		if status == AddrCleaned {
			l.Cleaned++
		} else {
			l.Remaining++
		}
		if reinf > 0 {
			l.Reinfected++
		}
	}
	get := func(m map[int64]*Line, id int64) *Line {
		if m[id] == nil {
			m[id] = &Line{OrgID: id}
		}
		return m[id]
	}
	for rows.Next() {
		var m, i, imp int64
		var status string
		var reinf int
		if err := rows.Scan(&m, &i, &status, &reinf, &imp); err != nil {
			rows.Close()
			return rep, errs.Internal(op, err)
		}
		start := imp == first
		add(&rep.Total, status, reinf, start)
		if m == 0 {
			rep.Unrouted++
		} else {
			add(get(members, m), status, reinf, start)
		}
		if i != 0 {
			add(get(isps, i), status, reinf, start)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, errs.Internal(op, err)
	}
	parts, err := s.Parts(ctx, a, id)
	if err != nil {
		return rep, err
	}
	for _, p := range parts {
		l := get(members, p.OrgID)
		l.Status, l.LastActivity, l.Overdue = p.Status, p.LastActivityAt, c.Overdue(p, now)
	}
	names := func(m map[int64]*Line) []Line {
		out := make([]Line, 0, len(m))
		for _, l := range m {
			var prov *string
			var tlp string
			_ = s.DB.QueryRow(ctx, `SELECT code, name, province_code, tlp FROM organisations WHERE id = ?`, l.OrgID).Scan(&l.Code, &l.Name, &prov, &tlp)
			if prov != nil {
				l.Province = *prov
			}
			// An organisation whose label hides it from the reader is
			// counted but not named.
			if policy.Check(a, policy.OrgRead, policy.Resource{OwnerOrg: l.OrgID, TLP: policy.TLP(tlp)}) != nil {
				l.Code, l.Name, l.Hidden = "", "", true
			}
			out = append(out, *l)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Remaining != out[j].Remaining {
				return out[i].Remaining > out[j].Remaining
			}
			return out[i].Code < out[j].Code
		})
		return out
	}
	rep.Members, rep.ISPs = names(members), names(isps)
	for _, l := range rep.Members {
		key := l.Province
		p := provs[key]
		if p == nil {
			p = &Line{Province: key}
			provs[key] = p
		}
		p.AtStart += l.AtStart
		p.Addresses += l.Addresses
		p.Cleaned += l.Cleaned
		p.Remaining += l.Remaining
		p.Reinfected += l.Reinfected
		if l.LastActivity.After(p.LastActivity) {
			p.LastActivity = l.LastActivity
		}
		p.Overdue = p.Overdue || l.Overdue
	}
	for _, p := range provs {
		rep.Provinces = append(rep.Provinces, *p)
	}
	sort.Slice(rep.Provinces, func(i, j int) bool { return rep.Provinces[i].Province < rep.Provinces[j].Province })
	return rep, nil
}
