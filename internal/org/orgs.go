package org

import (
	"context"
	"slices"
	"strconv"

	"certnet/internal/audit"
	"certnet/internal/errs"
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
		return Org{}, errs.Ensure("org: create", err)
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
		return Org{}, errs.Ensure(op, err)
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
