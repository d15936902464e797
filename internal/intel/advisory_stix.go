package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// stixNamespace makes the ids of objects certnet derives (a CVE's
// vulnerability, an organisation's identity) the same on every export.
var stixNamespace = uuid.MustParse("6a0c5e0e-7f0b-4f7e-9a52-2f1d8b7c0c11")

func derivedID(typ, name string) string {
	return typ + "--" + uuid.NewSHA1(stixNamespace, []byte(typ+":"+name)).String()
}

// AdvisorySTIX returns an advisory as a STIX 2.1 bundle: a report (the
// advisory's title, summary, publication time, labels) whose object_refs
// are its vulnerabilities (one per CVE, with the CVE external reference and
// NVD's description) and the linked indicators the reader may export, the
// publisher's identity and the TLP 2.0 marking. A RED advisory never
// leaves certnet; a draft has no publication and is not exported either,
// nor a drill's (exercise) advisory.
func (s *Service) AdvisorySTIX(ctx context.Context, a policy.Actor, id int64) ([]byte, error) {
	const op = "advisory: stix"
	v, err := s.readable(ctx, s.DB, a, id)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	if v.TLP == policy.TLPRed {
		return nil, errs.Conflict(op, "intel.adv.err.red_export")
	}
	if v.Status == AdvisoryDraft {
		return nil, errs.Conflict(op, "intel.adv.err.draft_export")
	}
	if v.ExerciseID != 0 { // a drill's advisory stays inside certnet
		return nil, errs.Conflict(op, "intel.adv.err.exercise_export")
	}
	marking := stix.TLPMarkingID(string(v.TLP))
	var owner string
	if err := s.DB.QueryRow(ctx, "SELECT name FROM organisations WHERE id = ?", v.OwnerOrgID).Scan(&owner); err != nil {
		return nil, store.Wrap(op, err)
	}
	created := stix.FormatTime(v.CreatedAt)
	modified := stix.FormatTime(maxTime(v.UpdatedAt, v.CreatedAt))
	identity := map[string]any{"type": "identity", "spec_version": "2.1", "id": derivedID("identity", fmt.Sprint("org:", v.OwnerOrgID)),
		"created": created, "modified": created, "name": owner, "identity_class": "organization"}
	objects := []any{stix.TLPMarking(string(v.TLP)), identity}
	var refs []string
	info, err := s.CVEInfo(ctx, a, v.CVEs)
	if err != nil {
		return nil, err
	}
	for _, c := range v.CVEs {
		vid := derivedID("vulnerability", c)
		o := map[string]any{"type": "vulnerability", "spec_version": "2.1", "id": vid, "created": created, "modified": modified,
			"name": c, "external_references": []map[string]string{{"source_name": "cve", "external_id": c}},
			"object_marking_refs": []string{marking}}
		if ci, ok := info[c]; ok && ci.Description != "" {
			o["description"] = ci.Description
		}
		objects = append(objects, o)
		refs = append(refs, vid)
	}
	seen := map[string]bool{}
	for _, iid := range v.IndicatorIDs {
		ind, err := load(ctx, s.DB, iid)
		if err != nil || seen[ind.STIXID] || !exportable(ind.TLP, v.TLP) || policy.Check(a, policy.IntelRead, ind.Resource()) != nil {
			continue
		}
		seen[ind.STIXID] = true
		objects = append(objects, indicatorObject(ind))
		refs = append(refs, ind.STIXID)
	}
	if len(refs) == 0 {
		refs = append(refs, identity["id"].(string)) // a report refers to at least one object
	}
	desc := v.Summary
	if v.Actions != "" {
		desc += "\n\n" + v.Actions
	}
	report := map[string]any{"type": "report", "spec_version": "2.1", "id": v.STIXID, "created": created, "modified": modified,
		"name": v.Title, "description": desc, "published": stix.FormatTime(v.PublishedAt), "report_types": []string{"threat-report"},
		"labels": []string{"severity:" + v.Severity}, "created_by_ref": identity["id"], "object_refs": refs,
		"object_marking_refs": []string{marking}}
	if v.Status == AdvisoryClosed {
		report["labels"] = append(report["labels"].([]string), "status:closed")
	}
	// The CVEs on the report itself too (a reader that does not follow
	// object_refs to the vulnerabilities, or gets the report alone over
	// TAXII, still has them), and the response deadline the members are
	// held to, which a certnet pulling the report keeps.
	var ext []map[string]string
	for _, c := range v.CVEs {
		ext = append(ext, map[string]string{"source_name": "cve", "external_id": c, "url": "https://nvd.nist.gov/vuln/detail/" + c})
	}
	if len(ext) > 0 {
		report["external_references"] = ext
	}
	if !v.DeadlineAt.IsZero() {
		report["x_certnet_deadline"] = stix.FormatTime(v.DeadlineAt)
	}
	objects = append(objects, report)
	b, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objects})
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	return b, nil
}

// AdvisoryFromReport writes a draft advisory for the actor's organisation
// from a STIX report it imported (and may read): the report's name is the
// title, its description the summary, its label the advisory's; the
// indicators and vulnerabilities it refers to become the linked indicators
// (those the actor may read) and the CVEs. The publisher then completes the
// draft (actions, deadline, targeting) and publishes it.
func (s *Service) AdvisoryFromReport(ctx context.Context, a policy.Actor, reportID string) (Advisory, error) {
	const op = "advisory: from report"
	rows, err := s.DB.Query(ctx, `SELECT owner_org_id, tlp, body FROM intel_objects WHERE stix_type = 'report' AND stix_id = ?
		ORDER BY CASE WHEN owner_org_id = ? THEN 0 ELSE 1 END, id`, reportID, a.OrgID)
	if err != nil {
		return Advisory{}, errs.Internal(op, err)
	}
	var body string
	var tlp policy.TLP
	for rows.Next() {
		var owner int64
		var t, b string
		if err := rows.Scan(&owner, &t, &b); err != nil {
			rows.Close()
			return Advisory{}, errs.Internal(op, err)
		}
		if body == "" && policy.Allowed(a, policy.IntelRead, policy.Resource{OwnerOrg: owner, TLP: policy.TLP(t)}) {
			body, tlp = b, policy.TLP(t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Advisory{}, errs.Internal(op, err)
	}
	if body == "" {
		return Advisory{}, errs.NotFound(op)
	}
	o, err := stix.Decode([]byte(body))
	if err != nil {
		return Advisory{}, errs.Internal(op, err)
	}
	in := AdvisoryInput{Title: clip(str(o, "name"), maxAdvTitle), Summary: clip(str(o, "description"), maxAdvSummary), TLP: tlp,
		Severity: SeverityMedium}
	if in.Summary == "" {
		in.Summary = in.Title
	}
	refs, _ := o["object_refs"].([]any)
	for _, x := range refs {
		ref, _ := x.(string)
		switch {
		case strings.HasPrefix(ref, "indicator--"):
			ids, err := store.IDs(ctx, s.DB, "SELECT id FROM intel_indicators WHERE stix_hash = ? AND stix_id = ? ORDER BY id", store.StixHash(ref), ref)
			if err != nil {
				return Advisory{}, errs.Internal(op, err)
			}
			for _, id := range ids {
				if ind, err := load(ctx, s.DB, id); err == nil && policy.Allowed(a, policy.IntelRead, ind.Resource()) &&
					ind.TLP.Rank() <= tlp.Rank() {
					in.IndicatorIDs = append(in.IndicatorIDs, id)
					break
				}
			}
		case strings.HasPrefix(ref, "vulnerability--"):
			var vb string
			err := s.DB.QueryRow(ctx, "SELECT body FROM intel_objects WHERE stix_id = ? ORDER BY id LIMIT 1", ref).Scan(&vb)
			if err != nil {
				continue
			}
			if c, ok := cveOf(vb); ok {
				in.CVEs = appendUnique(in.CVEs, c)
			}
		}
	}
	return s.CreateAdvisory(ctx, a, in)
}

// cveOf reads the CVE id of a STIX vulnerability: its cve external
// reference, or its name.
func cveOf(body string) (string, bool) {
	o, err := stix.Decode([]byte(body))
	if err != nil {
		return "", false
	}
	if ext, ok := o["external_references"].([]any); ok {
		for _, e := range ext {
			m, _ := e.(map[string]any)
			if str(m, "source_name") == "cve" {
				if c, ok := NormaliseCVE(str(m, "external_id")); ok {
					return c, true
				}
			}
		}
	}
	return NormaliseCVE(str(o, "name"))
}
