package org

import (
	"context"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// StaleAfter is how old the last contact-point change may be before an
// organisation counts as stale: the profile is due every year.
const StaleAfter = 365 * 24 * time.Hour

// Counts are the registry's figures for a dashboard, over the
// organisations the actor may read.
type Counts struct {
	Total, Active int
	ByRole        map[Role]int
	// ByProvince is keyed by province code; "" counts organisations without
	// a province.
	ByProvince                      map[string]int
	Ranges, ASNs, Domains, Contacts int
	// StaleContacts counts active organisations without a primary contact
	// point, or whose contact points last changed more than StaleAfter ago.
	StaleContacts int
}

// Counts returns the registry's figures.
func (s *Service) Counts(ctx context.Context, a policy.Actor) (Counts, error) {
	const op = "org: counts"
	if err := policy.Check(a, policy.OrgRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return Counts{}, err
	}
	vis, vargs := s.listWhere(ctx, a)
	sub := "SELECT o.id FROM organisations o WHERE " + vis
	c := Counts{ByRole: map[Role]int{}, ByProvince: map[string]int{}}
	one := func(q string, dst *int, args ...any) error {
		if err := s.DB.QueryRow(ctx, q, args...).Scan(dst); err != nil {
			return errs.Internal(op, err)
		}
		return nil
	}
	if err := one("SELECT COUNT(*) FROM organisations o WHERE "+vis, &c.Total, vargs...); err != nil {
		return Counts{}, err
	}
	if err := one("SELECT COUNT(*) FROM organisations o WHERE o.active = ? AND "+vis, &c.Active,
		append([]any{true}, vargs...)...); err != nil {
		return Counts{}, err
	}
	for _, t := range []struct {
		table string
		dst   *int
	}{{"org_ranges", &c.Ranges}, {"org_asns", &c.ASNs}, {"org_domains", &c.Domains}, {"contacts", &c.Contacts}} {
		if err := one("SELECT COUNT(*) FROM "+t.table+" WHERE org_id IN ("+sub+")", t.dst, vargs...); err != nil {
			return Counts{}, err
		}
	}
	stale := s.now().Add(-StaleAfter)
	if err := one(`SELECT COUNT(*) FROM organisations o WHERE o.active = ? AND `+vis+` AND (
		o.contacts_updated_at IS NULL OR o.contacts_updated_at < ? OR
		NOT EXISTS (SELECT 1 FROM contacts k WHERE k.org_id = o.id AND k.kind = ?))`, &c.StaleContacts,
		append(append([]any{true}, vargs...), stale, ContactPrimary)...); err != nil {
		return Counts{}, err
	}
	rows, err := s.DB.Query(ctx, "SELECT r.role, COUNT(*) FROM org_roles r WHERE r.org_id IN ("+sub+") GROUP BY r.role", vargs...)
	if err != nil {
		return Counts{}, errs.Internal(op, err)
	}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			rows.Close()
			return Counts{}, errs.Internal(op, err)
		}
		c.ByRole[Role(r)] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Counts{}, errs.Internal(op, err)
	}
	rows, err = s.DB.Query(ctx, "SELECT COALESCE(o.province_code, ''), COUNT(*) FROM organisations o WHERE "+vis+
		" GROUP BY COALESCE(o.province_code, '')", vargs...)
	if err != nil {
		return Counts{}, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return Counts{}, errs.Internal(op, err)
		}
		c.ByProvince[p] = n
	}
	return c, errs.Ensure(op, rows.Err())
}
