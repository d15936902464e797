package org

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// Overlap is a pair of overlapping ranges found in the data: A contains B.
type Overlap struct {
	A, B         Range
	AName, BName string
}

// Overlaps reports the overlapping ranges already in the store (from older
// imports or edits made by hand), leaving out delegations down the
// hierarchy, which are allowed. Only pairs whose both organisations the
// actor may read are listed.
func (s *Service) Overlaps(ctx context.Context, a policy.Actor) ([]Overlap, error) {
	const op = "org: overlaps"
	if err := policy.Check(a, policy.RangeRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return nil, err
	}
	h, err := s.hierarchyFor(ctx, true)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT r.id, r.org_id, r.cidr, r.family, r.note, r.created_at, r.start_key, r.end_key,
		o.name, o.tlp FROM org_ranges r JOIN organisations o ON o.id = r.org_id
		ORDER BY r.family, r.start_key, r.end_key DESC`)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	type item struct {
		r          Range
		start, end string
		name       string
		tlp        policy.TLP
	}
	var items []item
	for rows.Next() {
		var it item
		var tlp string
		if err := rows.Scan(&it.r.ID, &it.r.OrgID, &it.r.CIDR, &it.r.Family, &it.r.Note, &it.r.CreatedAt,
			&it.start, &it.end, &it.name, &tlp); err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		it.r.CreatedAt = it.r.CreatedAt.UTC()
		it.tlp = policy.TLP(tlp)
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	// Sort again in Go: the engines may collate text differently.
	slices.SortStableFunc(items, func(x, y item) int {
		return cmp.Or(cmp.Compare(x.r.Family, y.r.Family), strings.Compare(x.start, y.start), strings.Compare(y.end, x.end))
	})
	visible := func(it item) bool {
		return policy.Check(a, policy.RangeRead, policy.Resource{OwnerOrg: it.r.OrgID, TLP: it.tlp}) == nil
	}
	out := []Overlap{}
	var stack []item
	for _, cur := range items {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.r.Family == cur.r.Family && top.end >= cur.start {
				break
			}
			stack = stack[:len(stack)-1]
		}
		// Ranges are CIDR blocks, so every range still open contains cur.
		for _, outer := range stack {
			if outer.r.OrgID != cur.r.OrgID && h.ancestor(outer.r.OrgID, cur.r.OrgID) {
				continue
			}
			if visible(outer) && visible(cur) {
				out = append(out, Overlap{A: outer.r, B: cur.r, AName: outer.name, BName: cur.name})
			}
		}
		stack = append(stack, cur)
	}
	return out, nil
}

// ancestor reports whether anc is a strict ancestor of id in the tree.
func (h *hierarchy) ancestor(anc, id int64) bool {
	n := h.nodes[id]
	for i := 0; n != nil && i < 64; i++ {
		if n.parent == anc && anc != 0 {
			return true
		}
		n = h.nodes[n.parent]
	}
	return false
}
