package org

import (
	"context"
	"fmt"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// hierarchy is the in-memory copy of the organisation tree, for ScopeOf,
// RequiresMFA and Name, which run on every request.
type hierarchy struct {
	gen   int64
	nodes map[int64]*hnode
	// restricted counts organisations labelled other than CLEAR or GREEN:
	// while there are none, lists need no visibility condition.
	restricted int
}

type hnode struct {
	parent     int64
	children   []int64
	national   bool
	requireMFA bool
	name       string
	tlp        policy.TLP
	active     bool
}

// loadHierarchy reads the tree from the store.
func (s *Service) loadHierarchy(ctx context.Context, gen int64) (*hierarchy, error) {
	h := &hierarchy{gen: gen, nodes: map[int64]*hnode{}}
	rows, err := s.DB.Query(ctx, "SELECT id, COALESCE(parent_id, 0), name, require_mfa, tlp, active FROM organisations")
	if err != nil {
		return nil, fmt.Errorf("org: load hierarchy: %w", err)
	}
	for rows.Next() {
		var id int64
		var tlp string
		n := &hnode{}
		if err := rows.Scan(&id, &n.parent, &n.name, &n.requireMFA, &tlp, &n.active); err != nil {
			rows.Close()
			return nil, fmt.Errorf("org: load hierarchy: %w", err)
		}
		n.tlp = policy.TLP(tlp)
		if n.tlp != policy.TLPClear && n.tlp != policy.TLPGreen {
			h.restricted++
		}
		h.nodes[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: load hierarchy: %w", err)
	}
	for id, n := range h.nodes {
		if p := h.nodes[n.parent]; p != nil && n.parent != id {
			p.children = append(p.children, id)
		}
	}
	rows, err = s.DB.Query(ctx, "SELECT org_id FROM org_roles WHERE role IN (?, ?)",
		string(RoleNationalCoordinator), string(RoleStandingBody))
	if err != nil {
		return nil, fmt.Errorf("org: load hierarchy roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("org: load hierarchy roles: %w", err)
		}
		if n := h.nodes[id]; n != nil {
			n.national = true
		}
	}
	return h, rows.Err()
}

// hierarchyFor returns the current hierarchy, rebuilding it when the
// registry generation moved. If the database cannot be read, the last good
// copy is used.
func (s *Service) hierarchyFor(ctx context.Context, force bool) (*hierarchy, error) {
	gen, gerr := s.generation(ctx, force)
	h := s.hier.Load()
	if gerr != nil {
		if h != nil {
			s.log().Warn("registry generation check failed; using the cached hierarchy", "err", gerr)
			return h, nil
		}
		return nil, errs.Internal("org: hierarchy", gerr)
	}
	if h != nil && h.gen == gen {
		return h, nil
	}
	s.hierMu.Lock()
	defer s.hierMu.Unlock()
	if h = s.hier.Load(); h != nil && h.gen == gen {
		return h, nil
	}
	nh, err := s.loadHierarchy(ctx, gen)
	if err != nil {
		if h != nil {
			s.log().Warn("hierarchy rebuild failed; using the cached one", "err", err)
			return h, nil
		}
		return nil, errs.Internal("org: hierarchy", err)
	}
	s.hier.Store(nh)
	return nh, nil
}

// node returns the organisation's node, re-reading the generation once when
// it is unknown (it may have been created on another node a moment ago).
func (s *Service) node(ctx context.Context, op string, orgID int64) (*hnode, *hierarchy, error) {
	h, err := s.hierarchyFor(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	if n := h.nodes[orgID]; n != nil {
		return n, h, nil
	}
	if h, err = s.hierarchyFor(ctx, true); err != nil {
		return nil, nil, err
	}
	if n := h.nodes[orgID]; n != nil {
		return n, h, nil
	}
	return nil, nil, errs.NotFound(op)
}

// ScopeOf returns the scope of the people of an organisation: the whole
// network when it holds the role national_coordinator or standing_body,
// otherwise the organisation and all its descendants. It takes no actor:
// the auth package calls it to build actors. It answers from memory.
func (s *Service) ScopeOf(ctx context.Context, orgID int64) (policy.Scope, error) {
	const op = "org: scope"
	n, h, err := s.node(ctx, op, orgID)
	if err != nil {
		return policy.Scope{}, err
	}
	if n.national {
		return policy.Scope{All: true}, nil
	}
	orgs := map[int64]bool{orgID: true}
	stack := append([]int64(nil), n.children...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if orgs[id] {
			continue // a cycle in hand-edited data must not loop forever
		}
		orgs[id] = true
		if c := h.nodes[id]; c != nil {
			stack = append(stack, c.children...)
		}
	}
	return policy.Scope{Orgs: orgs}, nil
}

// RequiresMFA reports whether the organisation makes a second factor
// compulsory for its people.
func (s *Service) RequiresMFA(ctx context.Context, orgID int64) (bool, error) {
	n, _, err := s.node(ctx, "org: requires mfa", orgID)
	if err != nil {
		return false, err
	}
	return n.requireMFA, nil
}

// Name returns the organisation's name, for labels. It checks no policy:
// names of members are not secret inside the network.
func (s *Service) Name(ctx context.Context, orgID int64) (string, error) {
	n, _, err := s.node(ctx, "org: name", orgID)
	if err != nil {
		return "", err
	}
	return n.name, nil
}

// Label returns the organisation's TLP label, from the in-memory tree. It
// checks no policy: other packages use it to decide, through the policy
// package, whether something about the organisation may be shown.
func (s *Service) Label(ctx context.Context, orgID int64) (policy.TLP, error) {
	n, _, err := s.node(ctx, "org: label", orgID)
	if err != nil {
		return "", err
	}
	return n.tlp, nil
}

// Active reports whether the organisation is an active member of the
// network, from the in-memory tree (no policy: the auth package asks it to
// decide whether the organisation's people may still sign in).
func (s *Service) Active(ctx context.Context, orgID int64) (bool, error) {
	n, _, err := s.node(ctx, "org: active", orgID)
	if err != nil {
		return false, err
	}
	return n.active, nil
}
