package org

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Range is an IP range of an organisation's constituency.
type Range struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	CIDR      string    `json:"cidr"`
	Family    int       `json:"family"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ASN is an autonomous system of an organisation's constituency.
type ASN struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	ASN       int64     `json:"asn"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Domain is a domain of an organisation's constituency; its subdomains
// belong to it too unless another organisation registered a longer one.
type Domain struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	Domain    string    `json:"domain"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// orgFor reads the organisation a constituency or contact action is about
// and checks the action on it.
func orgFor(ctx context.Context, q store.Q, a policy.Actor, act policy.Action, orgID int64) (orgRow, error) {
	r, err := getOrgByID(ctx, q, orgID)
	if err != nil {
		return r, err
	}
	return r, policy.Check(a, act, r.Resource())
}

// otherOrg names another organisation in a conflict message, or says
// nothing about it when the actor may not see it.
type otherOrg struct {
	id   int64
	name string
	tlp  policy.TLP
}

func (o otherOrg) visible(a policy.Actor) bool {
	return policy.CanSee(a, policy.Resource{OwnerOrg: o.id, TLP: o.tlp})
}

// Ranges lists an organisation's IP ranges, IPv4 first, in address order.
func (s *Service) Ranges(ctx context.Context, a policy.Actor, orgID int64) ([]Range, error) {
	if _, err := orgFor(ctx, s.DB, a, policy.RangeRead, orgID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT id, org_id, cidr, family, note, created_at FROM org_ranges
		WHERE org_id = ? ORDER BY family, start_key, end_key DESC`, orgID)
	if err != nil {
		return nil, errs.Internal("org: ranges", err)
	}
	defer rows.Close()
	out := []Range{}
	for rows.Next() {
		var r Range
		if err := rows.Scan(&r.ID, &r.OrgID, &r.CIDR, &r.Family, &r.Note, &r.CreatedAt); err != nil {
			return nil, errs.Internal("org: ranges", err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, errs.Ensure("org: ranges", rows.Err())
}

// AddRange adds an IP range (CIDR; a bare address becomes a /32 or /128)
// to an organisation. It is stored masked. A range that overlaps a range of
// the same organisation is refused; so is one that overlaps another
// organisation's, except a delegation down the hierarchy: a range inside a
// range of an ancestor (an ISP's block assigned to a customer that is its
// child), added by an actor whose scope holds that ancestor. Whois then
// answers with the longest prefix.
func (s *Service) AddRange(ctx context.Context, a policy.Actor, orgID int64, cidr, note string) (Range, error) {
	var out Range
	var w *write
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		r, err := s.addRangeTx(ctx, w, orgID, cidr, note, true)
		out = r
		return err
	})
	if err != nil {
		return Range{}, errs.Ensure("org: add range", err)
	}
	s.committed(w)
	return out, nil
}

func (s *Service) addRangeTx(ctx context.Context, w *write, orgID int64, cidr, note string, bare bool) (Range, error) {
	const op = "org: add range"
	if _, err := orgFor(ctx, w.tx, w.a, policy.RangeWrite, orgID); err != nil {
		return Range{}, err
	}
	note = strings.TrimSpace(note)
	v := errs.Invalid(op)
	p, key := parsePrefix(cidr, bare)
	if key != "" {
		v.Field("cidr", key)
	}
	checkText(v, "note", note, maxNote, false)
	if err := v.OrNil(); err != nil {
		return Range{}, err
	}
	if err := w.bump(ctx); err != nil {
		return Range{}, err
	}
	if err := s.checkRangeOverlap(ctx, w, op, orgID, p); err != nil {
		return Range{}, err
	}
	start, end := rangeKeys(p)
	r := Range{OrgID: orgID, CIDR: p.String(), Family: family(p), Note: note, CreatedAt: w.now}
	err := w.tx.QueryRow(ctx, `INSERT INTO org_ranges (org_id, cidr, family, start_key, end_key, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, orgID, r.CIDR, r.Family, start, end, note, w.now).Scan(&r.ID)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return Range{}, conflict(op, "cidr", "org.err.range_duplicate_own", r.CIDR)
		}
		return Range{}, errs.Internal(op, err)
	}
	if err := audit.Record(ctx, w.tx, w.now, w.a, audit.Change{OrgID: orgID, Action: "range.add",
		Entity: "org_range", EntityID: strconv.FormatInt(r.ID, 10), After: r}); err != nil {
		return Range{}, errs.Internal(op, err)
	}
	return r, nil
}

// checkRangeOverlap finds the ranges that overlap p — those inside it (an
// indexed range scan on start_key) and those containing it (they start at
// one of p's supernet addresses) — and refuses the ones that are not a
// delegation down the hierarchy.
func (s *Service) checkRangeOverlap(ctx context.Context, w *write, op string, orgID int64, p netip.Prefix) error {
	start, end := rangeKeys(p)
	sup := supernetKeys(p)
	args := []any{family(p), start, end}
	q := `SELECT r.org_id, r.cidr, o.name, o.tlp FROM org_ranges r JOIN organisations o ON o.id = r.org_id
		WHERE r.family = ? AND ((r.start_key >= ? AND r.start_key <= ?)`
	if len(sup) > 0 {
		q += " OR r.start_key IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(sup)), ", ") + ")"
		for _, k := range sup {
			args = append(args, k)
		}
	}
	q += ") ORDER BY r.start_key, r.end_key DESC"
	type hit struct {
		org  otherOrg
		pfx  netip.Prefix
		cidr string
	}
	var hits []hit
	rows, err := w.tx.Query(ctx, q, args...)
	if err != nil {
		return errs.Internal(op, err)
	}
	for rows.Next() {
		var h hit
		var tlp string
		if err := rows.Scan(&h.org.id, &h.cidr, &h.org.name, &tlp); err != nil {
			rows.Close()
			return errs.Internal(op, err)
		}
		h.org.tlp = policy.TLP(tlp)
		if h.pfx, err = netip.ParsePrefix(h.cidr); err != nil || !h.pfx.Overlaps(p) {
			continue
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return errs.Internal(op, err)
	}
	// Own ranges first: the clearest message.
	for _, h := range hits {
		if h.org.id != orgID {
			continue
		}
		if h.pfx == p {
			return conflict(op, "cidr", "org.err.range_duplicate_own", p.String())
		}
		return conflict(op, "cidr", "org.err.range_overlaps_own", p.String(), h.cidr)
	}
	for _, h := range hits {
		ok, err := delegation(ctx, w.tx, w.a, orgID, p, h.org.id, h.pfx)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if !h.org.visible(w.a) {
			return conflict(op, "cidr", "org.err.range_overlaps_hidden", p.String())
		}
		return conflict(op, "cidr", "org.err.range_overlaps_other", p.String(), h.cidr, h.org.name)
	}
	return nil
}

// delegation reports whether the overlap of the new range p of org and the
// existing range q of other is a delegation down the hierarchy: the wider
// range belongs to a strict ancestor of the narrower one's organisation, and
// the actor's scope holds the ancestor.
func delegation(ctx context.Context, tx store.Q, a policy.Actor, org int64, p netip.Prefix, other int64, q netip.Prefix) (bool, error) {
	switch {
	case q.Bits() < p.Bits(): // the existing range contains the new one
		if !a.System && !a.Scope.Contains(other) {
			return false, nil
		}
		return isAncestor(ctx, tx, other, org)
	case p.Bits() < q.Bits(): // the new range contains an existing one
		return isAncestor(ctx, tx, org, other)
	}
	return false, nil
}

// DeleteRange removes one of an organisation's ranges.
func (s *Service) DeleteRange(ctx context.Context, a policy.Actor, orgID, id int64) error {
	return s.deleteEntry(ctx, a, orgID, id, "org_ranges", "org_range", "range.delete",
		"SELECT id, org_id, cidr, family, note, created_at FROM org_ranges WHERE id = ? AND org_id = ?",
		func(sc scanner) (any, error) {
			var r Range
			err := sc.Scan(&r.ID, &r.OrgID, &r.CIDR, &r.Family, &r.Note, &r.CreatedAt)
			r.CreatedAt = r.CreatedAt.UTC()
			return r, err
		})
}

// deleteEntry deletes one constituency row of an organisation, bumps the
// generation and records the row in the audit log.
func (s *Service) deleteEntry(ctx context.Context, a policy.Actor, orgID, id int64, table, entity, action, sel string,
	scan func(scanner) (any, error)) error {
	op := "org: " + action
	var w *write
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		if _, err := orgFor(ctx, tx, a, policy.RangeWrite, orgID); err != nil {
			return err
		}
		before, err := scan(tx.QueryRow(ctx, sel, id, orgID))
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return errs.Internal(op, err)
		}
		if err := w.bump(ctx); err != nil {
			return err
		}
		// table is one of three constants of this package.
		if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE id = ? AND org_id = ?", id, orgID); err != nil {
			return errs.Internal(op, err)
		}
		return audit.Record(ctx, tx, w.now, a, audit.Change{OrgID: orgID, Action: action, Entity: entity,
			EntityID: strconv.FormatInt(id, 10), Before: before})
	})
	if err != nil {
		return errs.Ensure(op, err)
	}
	s.committed(w)
	return nil
}

// ASNs lists an organisation's AS numbers.
func (s *Service) ASNs(ctx context.Context, a policy.Actor, orgID int64) ([]ASN, error) {
	if _, err := orgFor(ctx, s.DB, a, policy.RangeRead, orgID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT id, org_id, asn, note, created_at FROM org_asns WHERE org_id = ? ORDER BY asn", orgID)
	if err != nil {
		return nil, errs.Internal("org: asns", err)
	}
	defer rows.Close()
	out := []ASN{}
	for rows.Next() {
		var r ASN
		if err := rows.Scan(&r.ID, &r.OrgID, &r.ASN, &r.Note, &r.CreatedAt); err != nil {
			return nil, errs.Internal("org: asns", err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, errs.Ensure("org: asns", rows.Err())
}

// AddASN adds an AS number ("AS64500" or "64500") to an organisation. An AS
// number belongs to one organisation only.
func (s *Service) AddASN(ctx context.Context, a policy.Actor, orgID int64, asn, note string) (ASN, error) {
	var out ASN
	var w *write
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		r, err := s.addASNTx(ctx, w, orgID, asn, note)
		out = r
		return err
	})
	if err != nil {
		return ASN{}, errs.Ensure("org: add asn", err)
	}
	s.committed(w)
	return out, nil
}

func (s *Service) addASNTx(ctx context.Context, w *write, orgID int64, asn, note string) (ASN, error) {
	const op = "org: add asn"
	if _, err := orgFor(ctx, w.tx, w.a, policy.RangeWrite, orgID); err != nil {
		return ASN{}, err
	}
	note = strings.TrimSpace(note)
	v := errs.Invalid(op)
	n, key := parseASN(asn)
	if key != "" {
		v.Field("asn", key)
	}
	checkText(v, "note", note, maxNote, false)
	if err := v.OrNil(); err != nil {
		return ASN{}, err
	}
	if err := w.bump(ctx); err != nil {
		return ASN{}, err
	}
	label := "AS" + strconv.FormatInt(n, 10)
	var other otherOrg
	var tlp string
	err := w.tx.QueryRow(ctx, `SELECT o.id, o.name, o.tlp FROM org_asns x JOIN organisations o ON o.id = x.org_id
		WHERE x.asn = ?`, n).Scan(&other.id, &other.name, &tlp)
	other.tlp = policy.TLP(tlp)
	switch {
	case err == nil && other.id == orgID:
		return ASN{}, conflict(op, "asn", "org.err.asn_taken_own", label)
	case err == nil && !other.visible(w.a):
		return ASN{}, conflict(op, "asn", "org.err.asn_taken_hidden", label)
	case err == nil:
		return ASN{}, conflict(op, "asn", "org.err.asn_taken_other", label, other.name)
	case !store.IsNoRows(err):
		return ASN{}, errs.Internal(op, err)
	}
	r := ASN{OrgID: orgID, ASN: n, Note: note, CreatedAt: w.now}
	err = w.tx.QueryRow(ctx, "INSERT INTO org_asns (org_id, asn, note, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		orgID, n, note, w.now).Scan(&r.ID)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return ASN{}, conflict(op, "asn", "org.err.asn_taken_hidden", label)
		}
		return ASN{}, errs.Internal(op, err)
	}
	if err := audit.Record(ctx, w.tx, w.now, w.a, audit.Change{OrgID: orgID, Action: "asn.add",
		Entity: "org_asn", EntityID: strconv.FormatInt(r.ID, 10), After: r}); err != nil {
		return ASN{}, errs.Internal(op, err)
	}
	return r, nil
}

// DeleteASN removes one of an organisation's AS numbers.
func (s *Service) DeleteASN(ctx context.Context, a policy.Actor, orgID, id int64) error {
	return s.deleteEntry(ctx, a, orgID, id, "org_asns", "org_asn", "asn.delete",
		"SELECT id, org_id, asn, note, created_at FROM org_asns WHERE id = ? AND org_id = ?",
		func(sc scanner) (any, error) {
			var r ASN
			err := sc.Scan(&r.ID, &r.OrgID, &r.ASN, &r.Note, &r.CreatedAt)
			r.CreatedAt = r.CreatedAt.UTC()
			return r, err
		})
}

// Domains lists an organisation's domains.
func (s *Service) Domains(ctx context.Context, a policy.Actor, orgID int64) ([]Domain, error) {
	if _, err := orgFor(ctx, s.DB, a, policy.RangeRead, orgID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT id, org_id, domain, note, created_at FROM org_domains WHERE org_id = ? ORDER BY domain", orgID)
	if err != nil {
		return nil, errs.Internal("org: domains", err)
	}
	defer rows.Close()
	out := []Domain{}
	for rows.Next() {
		var r Domain
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Domain, &r.Note, &r.CreatedAt); err != nil {
			return nil, errs.Internal("org: domains", err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, errs.Ensure("org: domains", rows.Err())
}

// AddDomain adds a domain to an organisation. Unicode names are stored in
// their xn-- form. The same domain cannot belong to two organisations; a
// subdomain of another organisation's domain can (whois answers with the
// longest suffix).
func (s *Service) AddDomain(ctx context.Context, a policy.Actor, orgID int64, domain, note string) (Domain, error) {
	var out Domain
	var w *write
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w = s.newWrite(tx, a)
		r, err := s.addDomainTx(ctx, w, orgID, domain, note)
		out = r
		return err
	})
	if err != nil {
		return Domain{}, errs.Ensure("org: add domain", err)
	}
	s.committed(w)
	return out, nil
}

func (s *Service) addDomainTx(ctx context.Context, w *write, orgID int64, domain, note string) (Domain, error) {
	const op = "org: add domain"
	if _, err := orgFor(ctx, w.tx, w.a, policy.RangeWrite, orgID); err != nil {
		return Domain{}, err
	}
	note = strings.TrimSpace(note)
	v := errs.Invalid(op)
	d, key := parseDomain(domain)
	if key != "" {
		v.Field("domain", key)
	}
	checkText(v, "note", note, maxNote, false)
	if err := v.OrNil(); err != nil {
		return Domain{}, err
	}
	if err := w.bump(ctx); err != nil {
		return Domain{}, err
	}
	var other otherOrg
	var tlp string
	err := w.tx.QueryRow(ctx, `SELECT o.id, o.name, o.tlp FROM org_domains x JOIN organisations o ON o.id = x.org_id
		WHERE x.domain = ?`, d).Scan(&other.id, &other.name, &tlp)
	other.tlp = policy.TLP(tlp)
	switch {
	case err == nil && other.id == orgID:
		return Domain{}, conflict(op, "domain", "org.err.domain_taken_own", d)
	case err == nil && !other.visible(w.a):
		return Domain{}, conflict(op, "domain", "org.err.domain_taken_hidden", d)
	case err == nil:
		return Domain{}, conflict(op, "domain", "org.err.domain_taken_other", d, other.name)
	case !store.IsNoRows(err):
		return Domain{}, errs.Internal(op, err)
	}
	r := Domain{OrgID: orgID, Domain: d, Note: note, CreatedAt: w.now}
	err = w.tx.QueryRow(ctx, "INSERT INTO org_domains (org_id, domain, note, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		orgID, d, note, w.now).Scan(&r.ID)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return Domain{}, conflict(op, "domain", "org.err.domain_taken_hidden", d)
		}
		return Domain{}, errs.Internal(op, err)
	}
	if err := audit.Record(ctx, w.tx, w.now, w.a, audit.Change{OrgID: orgID, Action: "domain.add",
		Entity: "org_domain", EntityID: strconv.FormatInt(r.ID, 10), After: r}); err != nil {
		return Domain{}, errs.Internal(op, err)
	}
	return r, nil
}

// DeleteDomain removes one of an organisation's domains.
func (s *Service) DeleteDomain(ctx context.Context, a policy.Actor, orgID, id int64) error {
	return s.deleteEntry(ctx, a, orgID, id, "org_domains", "org_domain", "domain.delete",
		"SELECT id, org_id, domain, note, created_at FROM org_domains WHERE id = ? AND org_id = ?",
		func(sc scanner) (any, error) {
			var r Domain
			err := sc.Scan(&r.ID, &r.OrgID, &r.Domain, &r.Note, &r.CreatedAt)
			r.CreatedAt = r.CreatedAt.UTC()
			return r, err
		})
}
