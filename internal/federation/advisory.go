package federation

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// DefaultDeadline is the response deadline of a parent's advisory that
// carries none (or one already past when it arrives).
const DefaultDeadline = 7 * 24 * time.Hour

func str(o map[string]any, k string) string { s, _ := o[k].(string); return s }

func strs(o map[string]any, k string) []string {
	var out []string
	if l, ok := o[k].([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// IsAdvisory reports whether a STIX report is a certnet advisory: the form
// certnet's advisory export writes (a "severity:" label) or an
// x_certnet_advisory property.
func IsAdvisory(o map[string]any) bool {
	if str(o, "type") != "report" {
		return false
	}
	if _, ok := o["x_certnet_advisory"]; ok {
		return true
	}
	for _, l := range strs(o, "labels") {
		if strings.HasPrefix(l, "severity:") {
			return true
		}
	}
	return false
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// targeting reads the x_certnet_targeting of a report: the parts that
// mean the same on every instance (sectors, regions, provinces, roles);
// organisations and clusters are the parent's ids and are dropped. None
// left means the whole local network.
func targeting(o map[string]any) intel.Targeting {
	var t intel.Targeting
	x, _ := o["x_certnet_targeting"].(map[string]any)
	if x == nil {
		if adv, ok := o["x_certnet_advisory"].(map[string]any); ok {
			x, _ = adv["targeting"].(map[string]any)
		}
	}
	if x != nil {
		for _, v := range strs(x, "sectors") {
			if org.ValidSector(org.Sector(v)) {
				t.Sectors = append(t.Sectors, v)
			}
		}
		for _, v := range strs(x, "regions") {
			if slices.Contains(org.Regions, v) {
				t.Regions = append(t.Regions, v)
			}
		}
		t.Provinces = strs(x, "provinces")
		for _, v := range strs(x, "roles") {
			if org.ValidRole(org.Role(v)) {
				t.Roles = append(t.Roles, v)
			}
		}
	}
	if t.Empty() {
		t = intel.Targeting{All: true}
	}
	return t
}

// advisory makes a parent's advisory (a STIX report the page just
// imported) a local advisory of the parent's organisation, published to
// this instance's members, once per peer and report; a later version
// marked closed closes it. made says whether one was published.
func (s *Service) advisory(ctx context.Context, p Peer, actor policy.Actor, o map[string]any) (bool, error) {
	const op = "federation: advisory"
	if !IsAdvisory(o) {
		return false, nil
	}
	id := str(o, "id")
	version := str(o, "modified")
	if version == "" {
		version = str(o, "created")
	}
	var tlp policy.TLP
	for _, m := range strs(o, "object_marking_refs") {
		if t := policy.TLP(stix.TLPOfMarking(m)); t != "" && (tlp == "" || t.Rank() > tlp.Rank()) {
			tlp = t
		}
	}
	if tlp == "" {
		tlp = policy.TLPAmber
	}
	if tlp == policy.TLPRed {
		return false, nil // never travels; a server that sends it is not followed
	}
	// The report must be stored (the import accepted it).
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM intel_objects WHERE owner_org_id = ? AND stix_id = ?", p.ParentOrgID, id).Scan(&n); err != nil {
		return false, errs.Internal(op, err)
	}
	if n == 0 {
		return false, nil
	}
	closed := slices.Contains(strs(o, "labels"), "status:closed")
	var advID int64
	var seen string
	err := s.DB.QueryRow(ctx, "SELECT advisory_id, version FROM federation_advisories WHERE peer_id = ? AND stix_id = ?", p.ID, id).Scan(&advID, &seen)
	if err != nil && !store.IsNoRows(err) {
		return false, errs.Internal(op, err)
	}
	if err == nil {
		v, err := s.Intel.Advisory(ctx, actor, advID)
		if err != nil {
			return false, err
		}
		if v.Status == intel.AdvisoryDraft {
			// A crash between writing and publishing it.
			if _, err := s.Intel.Publish(ctx, actor, advID); err != nil {
				return false, err
			}
		}
		if closed && v.Status != intel.AdvisoryClosed {
			if _, err := s.Intel.CloseAdvisory(ctx, actor, advID); err != nil {
				return false, err
			}
		}
		if version != seen {
			if _, err := s.DB.Exec(ctx, "UPDATE federation_advisories SET version = ? WHERE peer_id = ? AND stix_id = ?", version, p.ID, id); err != nil {
				return false, errs.Internal(op, err)
			}
		}
		return false, nil
	}
	if closed {
		return false, nil // closed before it reached us: nothing to ask of members
	}
	in := intel.AdvisoryInput{OwnerOrgID: p.ParentOrgID, Title: clipRunes(strings.TrimSpace(str(o, "name")), 300),
		TLP: tlp, Severity: intel.SeverityMedium, STIXID: id, Targeting: targeting(o)}
	desc := strings.TrimSpace(str(o, "description"))
	summary, actions, found := strings.Cut(desc, "\n\n")
	if !found {
		actions = desc
	}
	in.Summary, in.Body, in.Actions = clipRunes(summary, 2000), clipRunes(desc, 50000), clipRunes(strings.TrimSpace(actions), 10000)
	if in.Summary == "" {
		in.Summary = in.Title
	}
	if in.Actions == "" {
		in.Actions = in.Summary
	}
	for _, l := range strs(o, "labels") {
		if sev, ok := strings.CutPrefix(l, "severity:"); ok && slices.Contains(intel.Severities, sev) {
			in.Severity = sev
		}
	}
	if tlp == policy.TLPAmberStrict {
		// Shared with this instance's organisation only.
		in.Targeting = intel.Targeting{Orgs: []int64{p.OrgID}}
	}
	now := s.now()
	in.DeadlineAt = now.Add(DefaultDeadline)
	for _, k := range []string{"x_certnet_deadline", "x_certnet_deadline_at"} {
		if d, err := stix.ParseTime(str(o, k)); err == nil && d.After(now.Add(time.Hour)) && d.Before(now.AddDate(1, 0, 0)) {
			in.DeadlineAt = d
		}
	}
	// The CVEs the report names itself (certnet's reports do), then those
	// of the vulnerabilities it refers to that this instance holds.
	if ext, ok := o["external_references"].([]any); ok {
		for _, e := range ext {
			m, _ := e.(map[string]any)
			if str(m, "source_name") != "cve" {
				continue
			}
			if c, ok := intel.NormaliseCVE(str(m, "external_id")); ok && !slices.Contains(in.CVEs, c) {
				in.CVEs = append(in.CVEs, c)
			}
		}
	}
	for _, ref := range strs(o, "object_refs") {
		switch {
		case strings.HasPrefix(ref, "indicator--"):
			ids, err := store.IDs(ctx, s.DB, "SELECT id FROM intel_indicators WHERE owner_org_id = ? AND stix_hash = ? AND stix_id = ? ORDER BY id",
				p.ParentOrgID, store.StixHash(ref), ref)
			if err != nil {
				return false, errs.Internal(op, err)
			}
			in.IndicatorIDs = append(in.IndicatorIDs, ids...)
		case strings.HasPrefix(ref, "vulnerability--"):
			var body string
			err := s.DB.QueryRow(ctx, "SELECT body FROM intel_objects WHERE owner_org_id = ? AND stix_id = ?", p.ParentOrgID, ref).Scan(&body)
			if err == sql.ErrNoRows || store.IsNoRows(err) {
				continue
			}
			if err != nil {
				return false, errs.Internal(op, err)
			}
			if c, ok := cveOf(body); ok && !slices.Contains(in.CVEs, c) {
				in.CVEs = append(in.CVEs, c)
			}
		}
	}
	v, err := s.Intel.CreateAdvisory(ctx, actor, in)
	if err != nil {
		return false, err
	}
	if _, err := s.DB.Exec(ctx, `INSERT INTO federation_advisories (peer_id, stix_id, version, advisory_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, id, version, v.ID, now); err != nil {
		return false, errs.Internal(op, err)
	}
	if _, err := s.Intel.Publish(ctx, actor, v.ID); err != nil {
		return false, err
	}
	return true, nil
}

// cveOf reads the CVE of a STIX vulnerability: its cve external
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
				if c, ok := intel.NormaliseCVE(str(m, "external_id")); ok {
					return c, true
				}
			}
		}
	}
	return intel.NormaliseCVE(str(o, "name"))
}
