package org

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// ListFilter selects organisations. Zero values match everything.
type ListFilter struct {
	// Q searches names (Vietnamese and English), short name, code and
	// province, ignoring case and diacritics: "ha noi" finds "Hà Nội".
	Q            string
	Role         Role
	ProvinceCode string
	Sector       Sector
	ClusterID    int64
	ParentID     int64
	Region       string
	// Sort is "name" (default), "code", "province" or "updated" (newest
	// first).
	Sort string
	// Limit defaults to 50 and is at most MaxListLimit.
	Limit, Offset int
}

// MaxListLimit bounds ListFilter.Limit.
const MaxListLimit = 100_000

// sortProvince marks the province order, which List pages by province.
const sortProvince = "province"

var sorts = map[string]string{
	"":         "o.sort_name, o.id",
	"name":     "o.sort_name, o.id",
	"code":     "o.code, o.id",
	"province": sortProvince,
	"updated":  "o.updated_at DESC, o.id DESC",
}

// List returns one page of the organisations the actor may read, filtered
// and sorted in SQL, and how many match in all.
func (s *Service) List(ctx context.Context, a policy.Actor, f ListFilter) ([]Org, int, error) {
	const op = "org: list"
	if err := policy.Check(a, policy.OrgRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return nil, 0, err
	}
	v := errs.Invalid(op)
	order, ok := sorts[strings.ToLower(strings.TrimSpace(f.Sort))]
	if !ok {
		v.Field("sort", "field.invalid_choice")
	}
	if f.Role != "" && !ValidRole(f.Role) {
		v.Field("role", "field.invalid_choice")
	}
	if f.Sector != "" && !ValidSector(f.Sector) {
		v.Field("sector", "field.invalid_choice")
	}
	if f.Region != "" && !slices.Contains(Regions, f.Region) {
		v.Field("region", "field.invalid_choice")
	}
	if utf8.RuneCountInString(f.Q) > 500 {
		v.Field("q", "field.too_long", 500)
	}
	if f.Offset < 0 {
		v.Field("offset", "field.invalid")
	}
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	switch {
	case f.Limit <= 0:
		f.Limit = 50
	case f.Limit > MaxListLimit:
		f.Limit = MaxListLimit
	}
	where, args := s.listWhere(ctx, a)
	conds := []string{where}
	// Each word must appear, in any order; the longest first, as it rules
	// out most rows before the others are tried.
	qwords := strings.Fields(i18n.Fold(f.Q))
	slices.SortFunc(qwords, func(x, y string) int {
		if len(x) != len(y) {
			return len(y) - len(x)
		}
		return strings.Compare(x, y)
	})
	qwords = slices.Compact(qwords)
	for i, w := range qwords {
		if i == 8 {
			break
		}
		conds = append(conds, `o.search_text LIKE ? ESCAPE '\'`)
		args = append(args, store.Like(w))
	}
	if f.Role != "" {
		conds = append(conds, "o.id IN (SELECT r.org_id FROM org_roles r WHERE r.role = ?)")
		args = append(args, string(f.Role))
	}
	if f.ProvinceCode != "" {
		conds = append(conds, "o.province_code = ?")
		args = append(args, f.ProvinceCode)
	}
	if f.Sector != "" {
		conds = append(conds, "o.sector = ?")
		args = append(args, string(f.Sector))
	}
	if f.ClusterID != 0 {
		conds = append(conds, "o.cluster_id = ?")
		args = append(args, f.ClusterID)
	}
	if f.ParentID != 0 {
		conds = append(conds, "o.parent_id = ?")
		args = append(args, f.ParentID)
	}
	if f.Region != "" {
		conds = append(conds, "o.region = ?")
		args = append(args, f.Region)
	}
	cond := strings.Join(conds, " AND ")
	var ids []int64
	var total int
	var err error
	switch {
	case order == sortProvince:
		ids, total, err = s.pageByProvince(ctx, cond, args, f.Limit, f.Offset)
	case len(qwords) > 0 || f.Role != "":
		ids, total, err = s.pageSearch(ctx, cond, args, order, f.Limit, f.Offset)
	default:
		ids, total, err = s.page(ctx, cond, args, order, f.Limit, f.Offset)
	}
	if err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	orgs, err := s.byIDs(ctx, a, ids)
	if err != nil {
		return nil, 0, err
	}
	return orgs, total, nil
}

// page returns the ids of one page in order, and the total. The ids come
// from a narrow query (on SQLite an index covers it); the count is skipped
// when the first page is not full.
func (s *Service) page(ctx context.Context, cond string, args []any, order string, limit, offset int) ([]int64, int, error) {
	ids, err := s.ids(ctx, "SELECT o.id FROM organisations o WHERE "+cond+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(slices.Clone(args), limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	if offset == 0 && len(ids) < limit {
		return ids, len(ids), nil
	}
	var total int
	err = s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM organisations o WHERE "+cond, args...).Scan(&total)
	return ids, total, err
}

// pageSearch pages through search results with one scan: a text search (or
// a role filter) cannot walk an index in order, so instead of scanning once
// to count and once more for the page, it reads every matching id (ids
// only) and cuts the page.
func (s *Service) pageSearch(ctx context.Context, cond string, args []any, order string, limit, offset int) ([]int64, int, error) {
	all, err := s.ids(ctx, "SELECT o.id FROM organisations o WHERE "+cond+" ORDER BY "+order+" LIMIT ?",
		append(slices.Clone(args), MaxListLimit)...)
	if err != nil {
		return nil, 0, err
	}
	if len(all) == MaxListLimit {
		// More matches than one read holds: count them separately.
		return s.page(ctx, cond, args, order, limit, offset)
	}
	lo := min(offset, len(all))
	return all[lo:min(lo+limit, len(all))], len(all), nil
}

// pageByProvince pages through the organisations in province order (the
// provinces' sort order, then code; those without a province last), by name
// within a province. It counts per province once and reads only the
// provinces the page spans, instead of sorting the whole table.
func (s *Service) pageByProvince(ctx context.Context, cond string, args []any, limit, offset int) ([]int64, int, error) {
	type group struct {
		code  string
		order int
		n     int
	}
	order := map[string]int{}
	prows, err := s.DB.Query(ctx, "SELECT code, sort_order FROM provinces")
	if err != nil {
		return nil, 0, err
	}
	for prows.Next() {
		var code string
		var n int
		if err := prows.Scan(&code, &n); err != nil {
			prows.Close()
			return nil, 0, err
		}
		order[code] = n
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return nil, 0, err
	}
	rows, err := s.DB.Query(ctx, "SELECT o.province_code, COUNT(*) FROM organisations o WHERE "+cond+
		" GROUP BY o.province_code", args...)
	if err != nil {
		return nil, 0, err
	}
	var groups []group
	total := 0
	for rows.Next() {
		var code sql.NullString
		var g group
		if err := rows.Scan(&code, &g.n); err != nil {
			rows.Close()
			return nil, 0, err
		}
		g.code = code.String
		g.order = 1<<31 - 1
		if n, ok := order[g.code]; ok && g.code != "" {
			g.order = n
		}
		total += g.n
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(groups, func(x, y group) int {
		if x.order != y.order {
			return x.order - y.order
		}
		switch {
		case x.code == "":
			return 1
		case y.code == "":
			return -1
		}
		return strings.Compare(x.code, y.code)
	})
	var ids []int64
	skip, need := offset, limit
	for _, g := range groups {
		if need == 0 {
			break
		}
		if skip >= g.n {
			skip -= g.n
			continue
		}
		take := min(g.n-skip, need)
		pc, pargs := "o.province_code = ?", append(slices.Clone(args), g.code)
		if g.code == "" {
			pc, pargs = "o.province_code IS NULL", slices.Clone(args)
		}
		part, err := s.ids(ctx, "SELECT o.id FROM organisations o WHERE "+cond+" AND "+pc+
			" ORDER BY o.sort_name, o.id LIMIT ? OFFSET ?", append(pargs, take, skip)...)
		if err != nil {
			return nil, 0, err
		}
		ids = append(ids, part...)
		need -= take
		skip = 0
	}
	return ids, total, nil
}

func (s *Service) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	return store.IDs(ctx, s.DB, q, args...)
}

// byIDs reads the organisations with the given ids, in that order, keeping
// those the actor may read.
func (s *Service) byIDs(ctx context.Context, a policy.Actor, ids []int64) ([]Org, error) {
	out := make([]Org, 0, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		list, err := s.query(ctx, a, "SELECT "+orgCols+orgFrom+" WHERE o.id IN ("+idList(chunk)+")")
		if err != nil {
			return nil, err
		}
		byID := make(map[int64]Org, len(list))
		for _, o := range list {
			byID[o.ID] = o
		}
		for _, id := range chunk {
			if o, ok := byID[id]; ok {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// query runs an organisation query, fills the roles and keeps the rows the
// actor may read.
func (s *Service) query(ctx context.Context, a policy.Actor, q string, args ...any) ([]Org, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, errs.Internal("org: query", err)
	}
	var list []orgRow
	for rows.Next() {
		r, err := scanOrg(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Internal("org: query", err)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("org: query", err)
	}
	ids := make([]int64, len(list))
	for i, r := range list {
		ids[i] = r.ID
	}
	roles, err := loadRoles(ctx, s.DB, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Org, 0, len(list))
	for _, r := range list {
		r.Roles = roles[r.ID]
		if r.Roles == nil {
			r.Roles = []Role{}
		}
		if policy.Check(a, policy.OrgRead, r.Resource()) != nil {
			// visibleWhere and policy disagree: keep policy's answer.
			s.log().Warn("organisation filtered after the query", "org", r.ID, "tlp", r.TLP)
			continue
		}
		out = append(out, r.view(a))
	}
	return out, nil
}

// listWhere is visibleWhere, or no condition at all when no organisation
// carries a label beyond GREEN and the actor sees GREEN everywhere (the
// usual directory). It asks the cached hierarchy, which may be a second
// behind another node's change: the rows are still checked one by one.
func (s *Service) listWhere(ctx context.Context, a policy.Actor) (string, []any) {
	if h, err := s.hierarchyFor(ctx, false); err == nil && h.restricted == 0 &&
		slices.Contains(policy.VisibleTLPs(a, -1), policy.TLPGreen) &&
		slices.Contains(policy.VisibleTLPs(a, -1), policy.TLPClear) {
		return "1 = 1", nil
	}
	return visibleWhere(a)
}

// visibleWhere is the SQL condition on organisations o that keeps the rows
// whose label lets the actor read them. It asks policy which labels the
// actor sees for an organisation outside its scope, inside it, and its own.
func visibleWhere(a policy.Actor) (string, []any) {
	if a.System {
		return "1 = 1", nil
	}
	in := func(ts []policy.TLP) string {
		q := make([]string, len(ts))
		for i, t := range ts {
			q[i] = "'" + string(t) + "'" // labels are constants of policy
		}
		return "o.tlp IN (" + strings.Join(q, ", ") + ")"
	}
	minus := func(a, b []policy.TLP) []policy.TLP {
		var out []policy.TLP
		for _, t := range a {
			if !slices.Contains(b, t) {
				out = append(out, t)
			}
		}
		return out
	}
	var conds []string
	var args []any
	outside := policy.VisibleTLPs(a, -1) // no organisation has id -1
	if len(outside) > 0 {
		conds = append(conds, in(outside))
	}
	seen := outside
	if !a.Scope.All {
		var scope []int64
		rep := int64(0)
		for id, ok := range a.Scope.Orgs {
			if ok {
				scope = append(scope, id)
				if id != a.OrgID {
					rep = id
				}
			}
		}
		if rep != 0 {
			inScope := minus(policy.VisibleTLPs(a, rep), seen)
			if len(inScope) > 0 {
				slices.Sort(scope)
				conds = append(conds, "("+in(inScope)+" AND o.id IN ("+idList(scope)+"))")
				seen = append(seen, inScope...)
			}
		}
	}
	if a.OrgID != 0 {
		if own := minus(policy.VisibleTLPs(a, a.OrgID), seen); len(own) > 0 {
			conds = append(conds, "("+in(own)+" AND o.id = ?)")
			args = append(args, a.OrgID)
		}
	}
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}
