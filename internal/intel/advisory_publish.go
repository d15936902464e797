package intel

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// MayPublish reports whether the actor may publish and close advisories of
// its organisation (what Publish checks before the advisory's own state).
func (s *Service) MayPublish(ctx context.Context, a policy.Actor) bool {
	if !policy.Allowed(a, policy.AdvisoryPublish, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}) {
		return false
	}
	ok, err := publishes(ctx, s.DB, a.OrgID)
	return err == nil && ok
}

// Resolution is who a targeting reaches.
type Resolution struct {
	Orgs []int64 // the recipients, sorted
	// OutOfScope counts the organisations the targeting matched outside
	// the publisher's scope (left out).
	OutOfScope int
}

// Resolve resolves the targeting of an advisory for the actor as
// publisher, without publishing: the organisations that would receive it.
// Named organisations outside the actor's scope are field errors; the
// other parts are cut to the scope.
func (s *Service) Resolve(ctx context.Context, a policy.Actor, v Advisory) (Resolution, error) {
	e := errs.Invalid("advisory: resolve")
	res, err := s.resolve(ctx, s.DB, a, v, e)
	if err != nil {
		return Resolution{}, err
	}
	return res, e.OrNil()
}

// resolve turns the targeting into organisations: active ones, inside the
// actor's scope (each checked with advisory.publish), without the
// publisher unless named. Field errors go to e.
func (s *Service) resolve(ctx context.Context, q store.Q, a policy.Actor, v Advisory, e *errs.Error) (Resolution, error) {
	t := v.Targeting
	var conds []string
	var args []any
	strIn := func(format string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, fmt.Sprintf(format, "(?"+strings.Repeat(", ?", len(vals)-1)+")"))
		for _, x := range vals {
			args = append(args, x)
		}
	}
	idIn := func(col string, ids []int64) {
		if len(ids) == 0 {
			return
		}
		in, a := store.InList(ids)
		conds = append(conds, col+" IN "+in)
		args = append(args, a...)
	}
	if t.All {
		conds = append(conds, "1 = 1")
	}
	strIn("o.sector IN %s", t.Sectors)
	strIn("o.region IN %s", t.Regions)
	strIn("o.province_code IN (SELECT code FROM provinces WHERE region IN %s)", t.Regions)
	strIn("o.province_code IN %s", t.Provinces)
	idIn("o.cluster_id", t.Clusters)
	strIn("o.id IN (SELECT org_id FROM org_roles WHERE role IN %s)", t.Roles)
	idIn("o.id", t.Orgs)
	if t.Ranges {
		owners, err := s.addressOwners(ctx, q, v)
		if err != nil {
			return Resolution{}, err
		}
		if len(owners) == 0 {
			e.Field("targeting", "intel.adv.err.no_addresses")
		}
		idIn("o.id", owners)
	}
	if len(conds) == 0 {
		e.Field("targeting", "intel.adv.err.targeting_required")
		return Resolution{}, nil
	}
	ids, err := store.IDs(ctx, q, "SELECT o.id FROM organisations o WHERE o.active = TRUE AND ("+strings.Join(conds, " OR ")+") ORDER BY o.id", args...)
	if err != nil {
		return Resolution{}, err
	}
	var res Resolution
	var outside []string
	for _, id := range ids {
		if id == v.OwnerOrgID && !slices.Contains(t.Orgs, id) {
			continue
		}
		if policy.Check(a, policy.AdvisoryPublish, policy.Resource{OwnerOrg: id, TLP: policy.TLPGreen}) != nil {
			res.OutOfScope++
			if slices.Contains(t.Orgs, id) {
				outside = append(outside, fmt.Sprint(id))
			}
			continue
		}
		res.Orgs = append(res.Orgs, id)
	}
	if len(outside) > 0 {
		e.Field("targeting", "intel.adv.err.target_scope", strings.Join(outside, ", "))
	}
	if len(res.Orgs) == 0 && len(e.Fields) == 0 {
		e.Field("targeting", "intel.adv.err.no_recipients")
	}
	return res, nil
}

// addressOwners are the organisations whose constituency holds the
// advisory's address and domain indicators (longest match in the whois
// index).
func (s *Service) addressOwners(ctx context.Context, q store.Q, v Advisory) ([]int64, error) {
	if len(v.IndicatorIDs) == 0 {
		return nil, nil
	}
	if s.Whois == nil {
		return nil, errs.Internal("advisory: whois", fmt.Errorf("no whois index configured"))
	}
	x, err := s.Whois(ctx)
	if err != nil {
		return nil, err
	}
	in, args := store.InList(v.IndicatorIDs)
	rows, err := q.Query(ctx, "SELECT kind, value FROM intel_indicators WHERE id IN "+in, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var kind, value string
		if err := rows.Scan(&kind, &value); err != nil {
			return nil, err
		}
		var id int64
		var ok bool
		switch Kind(kind) {
		case KindIPv4, KindIPv6:
			if ip, err := netip.ParseAddr(value); err == nil {
				id, _, ok = x.Lookup(ip)
			}
		case KindCIDR:
			if p, err := netip.ParsePrefix(value); err == nil {
				id, _, ok = x.LookupPrefix(p)
			}
		case KindDomain:
			id, _, ok = x.LookupDomain(value)
		}
		if ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// Publish publishes a draft: the targeting is resolved into one recipient
// per organisation, each is delivered an in-app and e-mail notification
// (the outbox, same transaction) and must acknowledge within
// AdvisoryAckPeriod. The deadline must lie ahead.
func (s *Service) Publish(ctx context.Context, a policy.Actor, id int64) (Advisory, error) {
	const op = "advisory: publish"
	var out Advisory
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		v, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.AdvisoryPublish, v.own()); err != nil {
			return err
		}
		ok, err := publishes(ctx, tx, v.OwnerOrgID)
		if err != nil {
			return err
		}
		if !ok {
			e := errs.Forbidden(op)
			e.Message = errs.Msg{Key: "intel.adv.err.not_publisher"}
			return e
		}
		if v.Status != AdvisoryDraft {
			return errs.Conflict(op, "intel.adv.err.not_draft")
		}
		e := errs.Invalid(op)
		switch {
		case v.DeadlineAt.IsZero():
			e.Field("deadline_at", "intel.adv.err.deadline_required")
		case !v.DeadlineAt.After(now):
			e.Field("deadline_at", "intel.adv.err.deadline_past")
		}
		if strings.TrimSpace(v.Actions) == "" {
			e.Field("actions", "intel.adv.err.actions_required")
		}
		// The targeting and links are checked again: an organisation may
		// have left, an indicator been relabelled since the draft.
		in := AdvisoryInput{TLP: v.TLP, Targeting: v.Targeting, IndicatorIDs: v.IndicatorIDs}
		le := errs.Invalid(op)
		if err := checkTargeting(ctx, tx, &in.Targeting, v.TLP, le); err != nil {
			return err
		}
		for f, m := range le.Fields {
			e.Fields[f] = m
		}
		res, err := s.resolve(ctx, tx, a, v, e)
		if err != nil {
			return err
		}
		if err := e.OrNil(); err != nil {
			return err
		}
		r, err := tx.Exec(ctx, `UPDATE advisories SET status = ?, published_by = ?, published_name = ?, published_at = ?, updated_at = ?
			WHERE id = ? AND status = ?`, AdvisoryPublished, store.NullID(a.UserID), a.Label(), now, now, id, AdvisoryDraft)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errs.Conflict(op, "intel.adv.err.not_draft")
		}
		ackDue := now.Add(AdvisoryAckPeriod)
		for _, org := range res.Orgs {
			if _, err := tx.Exec(ctx, `INSERT INTO advisory_recipients (advisory_id, org_id, status, delivered_at, ack_due_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, id, org, RecipientDelivered, now, ackDue, now); err != nil {
				return fmt.Errorf("recipient %d: %w", org, err)
			}
		}
		if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindAdvisoryPublished, Key: fmt.Sprintf("advisory:%d:published", id),
			Orgs: res.Orgs, Subject: errs.Msg{Key: "intel.adv.msg.published", Args: []any{v.Title}},
			Body: errs.Msg{Key: "intel.adv.msg.published_body", Args: []any{v.Summary, i18n.FormatTime(v.DeadlineAt)}},
			Link: fmt.Sprintf("/advisories/%d", id), TLP: v.TLP}); err != nil {
			return err
		}
		if out, err = loadAdvisory(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: v.OwnerOrgID, Action: "advisory.publish", Entity: "advisory",
			EntityID: fmt.Sprint(id), Before: map[string]any{"status": v.Status},
			After: map[string]any{"status": out.Status, "recipients": len(res.Orgs), "out_of_scope": res.OutOfScope, "targeting": v.Targeting}})
	})
	if err != nil {
		return Advisory{}, store.Wrap(op, err)
	}
	return out, nil
}

// CloseAdvisory closes a published advisory: recipients no longer answer
// and nobody is reminded.
func (s *Service) CloseAdvisory(ctx context.Context, a policy.Actor, id int64) (Advisory, error) {
	const op = "advisory: close"
	var out Advisory
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		v, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.AdvisoryPublish, v.own()); err != nil {
			return err
		}
		if v.Status != AdvisoryPublished {
			return errs.Conflict(op, "intel.adv.err.not_published")
		}
		r, err := tx.Exec(ctx, "UPDATE advisories SET status = ?, closed_at = ?, updated_at = ? WHERE id = ? AND status = ?",
			AdvisoryClosed, now, now, id, AdvisoryPublished)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errs.Conflict(op, "intel.adv.err.not_published")
		}
		if out, err = loadAdvisory(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: v.OwnerOrgID, Action: "advisory.close", Entity: "advisory",
			EntityID: fmt.Sprint(id), Before: map[string]any{"status": v.Status}, After: map[string]any{"status": out.Status}})
	})
	if err != nil {
		return Advisory{}, store.Wrap(op, err)
	}
	return out, nil
}

// escalationOrg is where an overdue recipient is escalated: its nearest
// ancestor that is a response unit or the national coordinator; the
// publisher when there is none, and always under AMBER+STRICT and RED
// (which the recipient's response unit may not read).
func escalationOrg(ctx context.Context, q store.Q, v Advisory, orgID int64) (int64, error) {
	if v.TLP == policy.TLPAmberStrict || v.TLP == policy.TLPRed || v.ExerciseID != 0 { // a drill's stays inside the exercise
		return v.OwnerOrgID, nil
	}
	cur := orgID
	for range 16 {
		var parent *int64
		if err := q.QueryRow(ctx, "SELECT parent_id FROM organisations WHERE id = ?", cur).Scan(&parent); err != nil {
			return 0, err
		}
		if parent == nil {
			break
		}
		ok, err := publishes(ctx, q, *parent)
		if err != nil {
			return 0, err
		}
		if ok {
			return *parent, nil
		}
		cur = *parent
	}
	return v.OwnerOrgID, nil
}
