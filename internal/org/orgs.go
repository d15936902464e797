package org

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Create adds an organisation. The actor needs OrgCreate on the intended
// parent (a national-scope administrator may create a root organisation);
// only a national-scope actor may grant the national roles.
func (s *Service) Create(ctx context.Context, a policy.Actor, in Input) (Org, error) {
	var out Org
	var w *write
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		o, err := s.createTx(ctx, w, in)
		out = o
		return err
	})
	if err != nil {
		return Org{}, ensureInternal("org: create", err)
	}
	s.committed(w)
	return out, nil
}

func (s *Service) createTx(ctx context.Context, w *write, in Input) (Org, error) {
	const op = "org: create"
	normalize(&in)
	res := policy.Resource{OwnerOrg: in.ParentID, TLP: policy.TLPGreen}
	parentFound := false
	if in.ParentID > 0 {
		p, err := getOrgByID(ctx, w.tx, in.ParentID)
		switch {
		case err == nil:
			res.TLP, parentFound = p.TLP, true
		case !errs.Is(err, errs.KindNotFound):
			return Org{}, err
		}
	}
	if err := policy.Check(w.a, policy.OrgCreate, res); err != nil {
		return Org{}, err
	}
	if err := checkNationalRoles(op, w.a, nil, in.Roles); err != nil {
		return Org{}, err
	}
	v := errs.Invalid(op)
	validateInput(v, in, w.now)
	if in.ParentID > 0 && !parentFound {
		v.Field("parent_id", "org.err.parent_not_found")
	}
	provinceName, err := checkRefs(ctx, w.tx, v, &in)
	if err != nil {
		return Org{}, err
	}
	if err := v.OrNil(); err != nil {
		return Org{}, err
	}
	taken, err := codeTaken(ctx, w.tx, in.Code, 0)
	if err != nil {
		return Org{}, errs.Internal(op, err)
	}
	if taken {
		return Org{}, conflict(op, "code", "org.err.code_taken", in.Code)
	}
	if err := w.bump(ctx); err != nil {
		return Org{}, err
	}
	id, err := insertOrg(ctx, w.tx, in, provinceName, w.now)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return Org{}, conflict(op, "code", "org.err.code_taken", in.Code)
		}
		return Org{}, errs.Internal(op, err)
	}
	r, err := getOrgByID(ctx, w.tx, id)
	if err != nil {
		return Org{}, err
	}
	o := r.view(w.a)
	if err := audit.Record(ctx, w.tx, w.now, w.a, audit.Change{OrgID: id, Action: "org.create",
		Entity: "organisation", EntityID: strconv.FormatInt(id, 10), After: o}); err != nil {
		return Org{}, errs.Internal(op, err)
	}
	return o, nil
}

// Update replaces every editable field of an organisation. A new parent
// must be in the actor's scope and must not be the organisation itself or
// one of its descendants.
func (s *Service) Update(ctx context.Context, a policy.Actor, id int64, in Input) (Org, error) {
	const op = "org: update"
	var out Org
	var w *write
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		cur, err := getOrgByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.OrgUpdate, cur.Resource()); err != nil {
			return err
		}
		normalize(&in)
		if err := checkNationalRoles(op, a, cur.Roles, in.Roles); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if in.ParentID != cur.ParentID {
			if err := checkNewParent(ctx, tx, op, a, v, id, in.ParentID); err != nil {
				return err
			}
		}
		validateInput(v, in, w.now)
		provinceName, err := checkRefs(ctx, tx, v, &in)
		if err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if in.Code != cur.Code {
			taken, err := codeTaken(ctx, tx, in.Code, id)
			if err != nil {
				return errs.Internal(op, err)
			}
			if taken {
				return conflict(op, "code", "org.err.code_taken", in.Code)
			}
		}
		if err := w.bump(ctx); err != nil {
			return err
		}
		if err := updateOrg(ctx, tx, id, in, provinceName, w.now); err != nil {
			if store.IsUniqueViolation(err) {
				return conflict(op, "code", "org.err.code_taken", in.Code)
			}
			return errs.Internal(op, err)
		}
		r, err := getOrgByID(ctx, tx, id)
		if err != nil {
			return err
		}
		out = r.view(a)
		return audit.Record(ctx, tx, w.now, a, audit.Change{OrgID: id, Action: "org.update",
			Entity: "organisation", EntityID: strconv.FormatInt(id, 10), Before: cur.view(a), After: out})
	})
	if err != nil {
		return Org{}, ensureInternal(op, err)
	}
	s.committed(w)
	return out, nil
}

// checkNewParent checks a change of parent: the new parent must exist, be
// in the actor's scope (root only for national scope) and must not be the
// organisation or one of its descendants.
func checkNewParent(ctx context.Context, q store.Q, op string, a policy.Actor, v *errs.Error, id, parent int64) error {
	if parent <= 0 {
		if parent < 0 {
			v.Field("parent_id", "org.err.parent_not_found")
			return nil
		}
		if err := policy.Check(a, policy.OrgUpdate, policy.Resource{OwnerOrg: 0, TLP: policy.TLPGreen}); err != nil {
			return errs.Forbidden(op).Field("parent_id", "org.err.parent_forbidden")
		}
		return nil
	}
	p, err := getOrgByID(ctx, q, parent)
	if errs.Is(err, errs.KindNotFound) {
		v.Field("parent_id", "org.err.parent_not_found")
		return nil
	}
	if err != nil {
		return err
	}
	switch err := policy.Check(a, policy.OrgUpdate, p.Resource()); {
	case errs.Is(err, errs.KindNotFound):
		v.Field("parent_id", "org.err.parent_not_found")
		return nil
	case err != nil:
		return errs.Forbidden(op).Field("parent_id", "org.err.parent_forbidden")
	}
	if parent == id {
		v.Field("parent_id", "org.err.parent_cycle")
		return nil
	}
	anc, err := isAncestor(ctx, q, id, parent)
	if err != nil {
		return err
	}
	if anc {
		v.Field("parent_id", "org.err.parent_cycle")
	}
	return nil
}

// checkNationalRoles refuses to grant or remove the roles that give an
// organisation's people the whole network as scope, unless the actor
// already has that scope.
func checkNationalRoles(op string, a policy.Actor, before, after []Role) error {
	if a.System || a.Scope.All {
		return nil
	}
	for _, r := range Roles {
		if r.National() && slices.Contains(before, r) != slices.Contains(after, r) {
			return errs.Forbidden(op).Field("roles", "org.err.role_national_forbidden")
		}
	}
	return nil
}

// checkRefs checks the province and cluster exist and fills the region from
// the province when it is empty. It returns the province's name.
func checkRefs(ctx context.Context, q store.Q, v *errs.Error, in *Input) (string, error) {
	var provinceName string
	if in.ProvinceCode != "" && !v.Has("province_code") {
		var region string
		err := q.QueryRow(ctx, "SELECT name, region FROM provinces WHERE code = ?", in.ProvinceCode).Scan(&provinceName, &region)
		switch {
		case store.IsNoRows(err):
			v.Field("province_code", "org.err.province_not_found", in.ProvinceCode)
		case err != nil:
			return "", errs.Internal("org: province", err)
		case in.Region == "":
			in.Region = region
		}
	}
	if in.ClusterID > 0 {
		var one int
		err := q.QueryRow(ctx, "SELECT 1 FROM clusters WHERE id = ?", in.ClusterID).Scan(&one)
		switch {
		case store.IsNoRows(err):
			v.Field("cluster_id", "org.err.cluster_not_found")
		case err != nil:
			return "", errs.Internal("org: cluster", err)
		}
	}
	return provinceName, nil
}

// Get returns an organisation the actor may read.
func (s *Service) Get(ctx context.Context, a policy.Actor, id int64) (Org, error) {
	r, err := getOrgByID(ctx, s.DB, id)
	if err != nil {
		return Org{}, err
	}
	if err := policy.Check(a, policy.OrgRead, r.Resource()); err != nil {
		return Org{}, err
	}
	return r.view(a), nil
}

// GetByCode returns the organisation with the member code (any case).
func (s *Service) GetByCode(ctx context.Context, a policy.Actor, code string) (Org, error) {
	code = normCode(code)
	if code == "" {
		return Org{}, errs.NotFound("org: get")
	}
	r, err := getOrg(ctx, s.DB, "o.code = ?", code)
	if err != nil {
		return Org{}, err
	}
	if err := policy.Check(a, policy.OrgRead, r.Resource()); err != nil {
		return Org{}, err
	}
	return r.view(a), nil
}

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
	if len(f.Q) > 500 {
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
	where, args := visibleWhere(a)
	conds := []string{where}
	qwords := strings.Fields(i18n.Fold(f.Q))
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
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
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

// Children returns the organisations directly under id that the actor may
// read, by name.
func (s *Service) Children(ctx context.Context, a policy.Actor, id int64) ([]Org, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return nil, err
	}
	where, args := visibleWhere(a)
	return s.query(ctx, a, "SELECT "+orgCols+orgFrom+" WHERE o.parent_id = ? AND "+where+" ORDER BY o.sort_name, o.id",
		append([]any{id}, args...)...)
}

// Chain returns the organisation and its parents up to the root, nearest
// first; parents the actor may not read are left out.
func (s *Service) Chain(ctx context.Context, a policy.Actor, id int64) ([]Org, error) {
	first, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	ids, err := chainIDs(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	out := []Org{first}
	if len(ids) <= 1 {
		return out, nil
	}
	where, args := visibleWhere(a)
	rest, err := s.query(ctx, a, "SELECT "+orgCols+orgFrom+" WHERE o.id IN ("+idList(ids[1:])+") AND "+where, args...)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]Org, len(rest))
	for _, o := range rest {
		byID[o.ID] = o
	}
	for _, pid := range ids[1:] {
		if o, ok := byID[pid]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}
