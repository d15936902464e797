package warning

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/intel"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// maxAdvisoryOrgs is the most organisations an advisory drawn from a
// warning names one by one; beyond, it targets their provinces.
const maxAdvisoryOrgs = 200

// ToAdvisory turns a warning into an advisory draft of the actor's
// organisation in one step: title and summary in both languages, the
// indicator or CVE, targeting the affected organisations (or, when there
// are many, their provinces). The coordinator then edits and publishes it
// as any advisory. A warning has one advisory: asking again returns it.
func (s *Service) ToAdvisory(ctx context.Context, a policy.Actor, id int64) (intel.Advisory, error) {
	const op = "warning: advisory"
	if err := policy.Check(a, policy.WarningManage, resource(a.OrgID)); err != nil {
		return intel.Advisory{}, err
	}
	if s.Intel == nil {
		return intel.Advisory{}, errs.Internal(op, fmt.Errorf("no intel service"))
	}
	w, err := s.Get(ctx, a, id)
	if err != nil {
		return intel.Advisory{}, err
	}
	if w.AdvisoryID != 0 {
		adv, err := s.Intel.Advisory(ctx, a, w.AdvisoryID)
		if err == nil || !errs.Is(err, errs.KindNotFound) {
			return adv, err
		}
		// The draft was deleted: a new one is made.
	}
	in := intel.AdvisoryInput{
		Title:     trimTo(i18n.T(i18n.VI, "warning.adv.title", SubjectText(i18n.VI, w)), 300),
		TitleEN:   trimTo(i18n.T(i18n.EN, "warning.adv.title", SubjectText(i18n.EN, w)), 300),
		Summary:   summary(i18n.VI, w),
		SummaryEN: summary(i18n.EN, w),
		Actions:   i18n.T(i18n.VI, "warning.adv.actions"),
		Severity:  intel.SeverityHigh,
		TLP:       policy.TLPAmber,
	}
	var provinces []string
	for _, x := range w.Affected {
		if len(in.Targeting.Orgs) < maxAdvisoryOrgs {
			in.Targeting.Orgs = append(in.Targeting.Orgs, x.OrgID)
		}
		if x.Province != "" && !slices.Contains(provinces, x.Province) {
			provinces = append(provinces, x.Province)
		}
	}
	if len(w.Affected) > maxAdvisoryOrgs {
		in.Targeting.Provinces = provinces
	}
	switch w.Subject {
	case SubjectIndicator:
		// Linked only when the advisory's label covers it (intel refuses a
		// stricter indicator).
		var tlp string
		var owner, by sql.NullInt64
		err := s.DB.QueryRow(ctx, "SELECT tlp, owner_org_id, created_by FROM intel_indicators WHERE id = ?", w.IndicatorID).Scan(&tlp, &owner, &by)
		if err == nil {
			l := policy.TLP(tlp)
			if l.Valid() && l.Rank() <= policy.TLPAmber.Rank() &&
				policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner.Int64, TLP: l, CreatedBy: by.Int64}) == nil {
				in.IndicatorIDs = []int64{w.IndicatorID}
			}
		} else if !store.IsNoRows(err) {
			return intel.Advisory{}, store.Wrap(op, err)
		}
	case SubjectCVE:
		if c, ok := intel.NormaliseCVE(w.SubjectKey); ok {
			in.CVEs = []string{c}
		}
	}
	in.Body = body(i18n.VI, w)
	in.BodyEN = body(i18n.EN, w)
	adv, err := s.Intel.CreateAdvisory(ctx, a, in)
	if err != nil {
		return intel.Advisory{}, err
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE warnings SET advisory_id = ?, updated_at = ? WHERE id = ?", adv.ID, s.now(), id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.now(), a, audit.Change{OrgID: a.OrgID, Action: "warning.advisory", Entity: "warning",
			EntityID: strconv.FormatInt(id, 10), After: map[string]any{"advisory_id": adv.ID}})
	})
	if err != nil {
		return adv, store.Wrap(op, err)
	}
	return adv, nil
}

func trimTo(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func summary(l i18n.Lang, w Warning) string {
	if w.Kind == KindRate {
		return i18n.T(l, "warning.adv.summary_rate", w.Label, i18n.FormatInt(l, w.Rate), fmt.Sprintf("%.0f", w.Baseline),
			i18n.FormatTime(w.FirstSeen), i18n.FormatTime(w.LastSeen))
	}
	return i18n.T(l, "warning.adv.summary", SubjectText(l, w), w.Orgs, w.Provinces, i18n.FormatInt(l, w.Total),
		i18n.FormatTime(w.FirstSeen), i18n.FormatTime(w.LastSeen))
}

func body(l i18n.Lang, w Warning) string {
	var b strings.Builder
	b.WriteString(i18n.T(l, "warning.adv.affected"))
	b.WriteString("\n")
	for i, x := range w.Affected {
		if i == 50 {
			b.WriteString(i18n.T(l, "warning.adv.more", len(w.Affected)-50))
			b.WriteString("\n")
			break
		}
		fmt.Fprintf(&b, "- %s: %s\n", x.Name, i18n.FormatInt(l, x.Count))
	}
	return trimTo(b.String(), 50000)
}
