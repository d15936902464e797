package intel

import (
	"context"
	"encoding/json"
	"fmt"

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
// leaves certnet; a draft has no publication and is not exported either.
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
	objects = append(objects, report)
	b, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objects})
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	return b, nil
}
