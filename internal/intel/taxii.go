package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// SharedObject is one STIX object as a TAXII collection serves it: its
// body (the same STIX form as the bundle export), its version and when
// certnet stored it (date_added, the collection's stable order).
type SharedObject struct {
	ID      string
	Type    string
	Version string // the modified timestamp (STIX form)
	Added   time.Time
	TLP     policy.TLP
	Owner   int64
	Body    map[string]any
}

// SharedObjects returns the indicators and other STIX objects the actor may
// read whose label is one of tlps (RED never), ordered by date added then
// id: one object per STIX id (the first stored wins). Markings are set as
// in ExportSTIX.
func (s *Service) SharedObjects(ctx context.Context, a policy.Actor, tlps []policy.TLP) ([]SharedObject, error) {
	const op = "intel: shared objects"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return nil, errs.Unauthenticated(op, "")
	}
	want := map[policy.TLP]bool{}
	for _, t := range tlps {
		if t != policy.TLPRed {
			want[t] = true
		}
	}
	allowed := func(t policy.TLP, owner, by int64) bool {
		return want[t] && policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner, TLP: t, CreatedBy: by}) == nil
	}
	var out []SharedObject
	seen := map[string]bool{}
	f := Filter{ByID: true, Limit: 1000}
	for {
		page, _, err := s.List(ctx, a, f)
		if err != nil {
			return nil, err
		}
		for _, i := range page {
			if seen[i.STIXID] || !allowed(i.TLP, i.OwnerOrgID, i.CreatedBy) {
				continue
			}
			seen[i.STIXID] = true
			o := indicatorObject(i)
			out = append(out, SharedObject{ID: i.STIXID, Type: "indicator", Version: o["modified"].(string),
				Added: i.CreatedAt.UTC(), TLP: i.TLP, Owner: i.OwnerOrgID, Body: o})
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	rows, err := s.DB.Query(ctx, `SELECT owner_org_id, stix_id, stix_type, tlp, body, created_at FROM intel_objects ORDER BY id`)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner int64
		var id, typ, t, body string
		var added time.Time
		if err := rows.Scan(&owner, &id, &typ, &t, &body, &added); err != nil {
			return nil, errs.Internal(op, err)
		}
		if seen[id] || !allowed(policy.TLP(t), owner, 0) {
			continue
		}
		m, err := stix.Decode([]byte(body))
		if err != nil {
			continue
		}
		seen[id] = true
		m["object_marking_refs"] = []string{stix.TLPMarkingID(t)}
		delete(m, "granular_markings")
		v, _ := m["modified"].(string)
		if v == "" {
			v, _ = m["created"].(string)
		}
		out = append(out, SharedObject{ID: id, Type: typ, Version: v, Added: added.UTC(), TLP: policy.TLP(t), Owner: owner, Body: m})
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	reports, err := s.sharedReports(ctx, a, want, seen)
	if err != nil {
		return nil, err
	}
	out = append(out, reports...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Added.Equal(out[j].Added) {
			return out[i].Added.Before(out[j].Added)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// sharedReports returns the published (or closed) advisories the actor
// may read whose label is wanted, each as the STIX report AdvisorySTIX
// exports (object_refs naming its vulnerabilities and the indicators the
// reader may read, which the indicator collections serve). Drafts never.
func (s *Service) sharedReports(ctx context.Context, a policy.Actor, want map[policy.TLP]bool, seen map[string]bool) ([]SharedObject, error) {
	const op = "intel: shared advisories"
	ids, err := store.IDs(ctx, s.DB, `SELECT id FROM advisories WHERE status IN (?, ?) ORDER BY id`, AdvisoryPublished, AdvisoryClosed)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var out []SharedObject
	for _, id := range ids {
		v, err := loadAdvisory(ctx, s.DB, id)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		if !want[v.TLP] || seen[v.STIXID] || !canReadAdvisory(a, v) {
			continue
		}
		r, err := s.advisoryReport(ctx, a, id)
		if errs.KindOf(err) == errs.KindNotFound || errs.KindOf(err) == errs.KindConflict {
			continue
		}
		if err != nil {
			return nil, err
		}
		seen[v.STIXID] = true
		ver, _ := r["modified"].(string)
		out = append(out, SharedObject{ID: v.STIXID, Type: "report", Version: ver, Added: v.UpdatedAt.UTC(), TLP: v.TLP, Owner: v.OwnerOrgID, Body: r})
	}
	return out, nil
}

// advisoryReport is the report object of the advisory's STIX export.
func (s *Service) advisoryReport(ctx context.Context, a policy.Actor, id int64) (map[string]any, error) {
	b, err := s.AdvisorySTIX(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, errs.Internal("intel: advisory report", err)
	}
	for _, o := range bundle.Objects {
		if o["type"] == "report" {
			return o, nil
		}
	}
	return nil, errs.Internal("intel: advisory report", fmt.Errorf("advisory %d: no report in its bundle", id))
}

// DeleteShared removes the actor's organisation's copy of a STIX object:
// an indicator is revoked (its sightings and history stay), another object
// is deleted. NotFound when the organisation holds no such object.
func (s *Service) DeleteShared(ctx context.Context, a policy.Actor, stixID string) error {
	const op = "intel: delete shared"
	var id int64
	err := s.DB.QueryRow(ctx, `SELECT id FROM intel_indicators WHERE owner_org_id = ? AND stix_id = ?`, a.OrgID, stixID).Scan(&id)
	if err == nil {
		return s.Revoke(ctx, a, id)
	}
	var oid int64
	var t string
	if err := s.DB.QueryRow(ctx, `SELECT id, tlp FROM intel_objects WHERE owner_org_id = ? AND stix_id = ?`, a.OrgID, stixID).Scan(&oid, &t); err != nil {
		return store.Wrap(op, err)
	}
	if err := policy.Check(a, policy.IntelWrite, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLP(t)}); err != nil {
		return err
	}
	now := s.stamp()
	return errs.Wrap(op, s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM intel_objects WHERE id = ?`, oid); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "intel.object.delete", Entity: "intel_object",
			EntityID: stixID, Before: map[string]any{"stix_id": stixID, "tlp": t}})
	}))
}
