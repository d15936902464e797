package incident

import (
	"context"
	"regexp"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// The six-monthly and annual summary (báo cáo tổng hợp, form 05 of TT
// 20/2017): per incident type of the national list, how many incidents
// were detected in the period, how they were handled, for how many the
// coordinator was asked to help, and the damage estimated in the closure
// reports.

// validateClosure checks the form 05 fields of a closure report.
func validateClosure(v *errs.Error, in *ReportInput) {
	in.Handling = Handling(strings.TrimSpace(string(in.Handling)))
	in.DamageNote = strings.TrimSpace(in.DamageNote)
	if in.Handling != "" && !in.Handling.Valid() {
		v.Field("handling", "field.invalid_choice")
	}
	if in.DamageVND != nil && (*in.DamageVND < 0 || *in.DamageVND > MaxDamageVND) {
		v.Field("damage_vnd", "incforms.err.damage")
	}
	checkText(v, "damage_note", in.DamageNote, maxText, true, false)
}

// saveClosure copies the closure report's handling and damage onto the
// incident, inside the filing transaction.
func saveClosure(ctx context.Context, tx *store.Tx, incID int64, in ReportInput) error {
	var damage any
	if in.DamageVND != nil {
		damage = *in.DamageVND
	}
	_, err := tx.Exec(ctx, "UPDATE incidents SET handling = ?, damage_vnd = ? WHERE id = ?", string(in.Handling), damage, incID)
	return err
}

// Halves of a year for SummaryFilter.Half.
const (
	WholeYear  = 0
	FirstHalf  = 1
	SecondHalf = 2
)

// SummaryFilter chooses the period and the organisations of a summary.
type SummaryFilter struct {
	// Year and Half (WholeYear, FirstHalf, SecondHalf) give the period in
	// Vietnam time; or From and To (detection in [From, To)) when Year is 0.
	Year, Half int
	From, To   time.Time
	// OrgID: the organisation the summary is about, with every
	// organisation under it; 0 is the actor's whole scope.
	OrgID int64
	// ProvinceCode: only incidents whose affected organisation is in this
	// province.
	ProvinceCode string
}

// SummaryRow is one row of form 05: an incident type, or the totals.
type SummaryRow struct {
	Type Type `json:"type,omitempty"`
	// Count: incidents detected in the period (neither rejected nor
	// duplicate).
	Count int `json:"count"`
	// By the handling their closure report states.
	InHouse      int `json:"in_house"`
	DomesticHelp int `json:"domestic_help"`
	ForeignHelp  int `json:"foreign_help"`
	// CoordinatorAsked: incidents with a request for support (a support
	// report or request) or a coordination order.
	CoordinatorAsked int `json:"coordinator_asked"`
	// DamageVND sums the damage estimated on DamageCount incidents.
	DamageVND   int64 `json:"damage_vnd"`
	DamageCount int   `json:"damage_count"`
}

func (r *SummaryRow) add(o SummaryRow) {
	r.Count += o.Count
	r.InHouse += o.InHouse
	r.DomesticHelp += o.DomesticHelp
	r.ForeignHelp += o.ForeignHelp
	r.CoordinatorAsked += o.CoordinatorAsked
	r.DamageVND += o.DamageVND
	r.DamageCount += o.DamageCount
}

// Summary is form 05 for a period: one row per type of the national list,
// in the list's order (types without incidents too), and the totals.
type Summary struct {
	Year int `json:"year,omitempty"`
	Half int `json:"half"`
	// From and To bound the detection time: [From, To).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// OrgID, OrgCode and OrgName: the organisation the summary is about
	// (the actor's own when none was chosen); 0 and empty for a system
	// actor over the whole network.
	OrgID        int64        `json:"org_id,omitempty"`
	OrgCode      string       `json:"org_code,omitempty"`
	OrgName      string       `json:"org_name,omitempty"`
	ProvinceCode string       `json:"province,omitempty"`
	Rows         []SummaryRow `json:"rows"`
	Total        SummaryRow   `json:"total"`
	// Helpers are the organisations that recorded effort (QĐ 1622) on the
	// counted incidents of another organisation, most incidents first;
	// OtherHelpers counts those the actor may not know by name.
	Helpers      []SummaryHelper `json:"helpers"`
	OtherHelpers int             `json:"other_helpers,omitempty"`
}

// SummaryHelper is an organisation that helped: on how many of the
// counted incidents, at what recorded cost.
type SummaryHelper struct {
	OrgID     int64  `json:"org_id"`
	OrgName   string `json:"org_name"`
	Incidents int    `json:"incidents"`
	CostVND   int64  `json:"cost_vnd"`
}

// SummaryPeriod is the period of a year or one of its halves, in Vietnam
// time.
func SummaryPeriod(year, half int) (from, to time.Time, err error) {
	v := errs.Invalid("incident: summary")
	if year < 2000 || year > 2200 {
		v.Field("year", "incforms.err.year")
	}
	if half < WholeYear || half > SecondHalf {
		v.Field("half", "field.invalid_choice")
	}
	if err := v.OrNil(); err != nil {
		return from, to, err
	}
	from = time.Date(year, time.January, 1, 0, 0, 0, 0, i18n.Zone)
	to = from.AddDate(1, 0, 0)
	switch half {
	case FirstHalf:
		to = from.AddDate(0, 6, 0)
	case SecondHalf:
		from = from.AddDate(0, 6, 0)
	}
	return from.UTC(), to.UTC(), nil
}

// maxSummarySpan bounds a period given by dates.
const maxSummarySpan = 5 * 366 * 24 * time.Hour

var provinceCode = regexp.MustCompile(`^[A-Z0-9-]{1,16}$`)

// Summary counts, per type, the incidents the actor may read whose
// affected organisation is the chosen one or under it (the actor's whole
// scope when none is chosen: a member its own incidents, a response unit
// its subtree, the national coordinator the network), detected in the
// period, rejected and duplicate ones left out. The counting is one
// GROUP BY in SQL.
func (s *Service) Summary(ctx context.Context, a policy.Actor, f SummaryFilter) (Summary, error) {
	const op = "incident: summary"
	out := Summary{Year: f.Year, Half: f.Half, OrgID: f.OrgID}
	v := errs.Invalid(op)
	switch {
	case f.Year != 0:
		if !f.From.IsZero() || !f.To.IsZero() {
			v.Field("from", "incforms.err.year_or_dates")
		}
		from, to, err := SummaryPeriod(f.Year, f.Half)
		if err != nil {
			return out, err
		}
		out.From, out.To = from, to
	case f.From.IsZero() || f.To.IsZero():
		v.Field("year", "incforms.err.period_required")
	case !f.From.Before(f.To):
		v.Field("to", "incforms.err.period_order")
	case f.To.Sub(f.From) > maxSummarySpan:
		v.Field("to", "incforms.err.period_long")
	case f.Half != WholeYear:
		v.Field("half", "incforms.err.half_without_year")
	default:
		out.From, out.To = f.From.UTC(), f.To.UTC()
	}
	out.ProvinceCode = strings.ToUpper(strings.TrimSpace(f.ProvinceCode))
	if out.ProvinceCode != "" && !provinceCode.MatchString(out.ProvinceCode) {
		v.Field("province", "field.invalid")
	}
	if f.OrgID < 0 {
		v.Field("org", "field.invalid")
	}
	if err := v.OrNil(); err != nil {
		return out, err
	}
	subject := f.OrgID
	if subject == 0 {
		subject = a.OrgID
	}
	// The summary is a read of the incidents of the organisation it is
	// about: inside the actor's scope (NotFound outside).
	if subject != 0 || !a.System {
		if err := policy.Check(a, policy.IncidentRead, policy.Resource{OwnerOrg: subject, TLP: policy.TLPAmber}); err != nil {
			return out, err
		}
	}
	if subject != 0 && s.Orgs != nil {
		o, err := s.Orgs.Get(ctx, a, subject)
		if err != nil {
			return out, err
		}
		out.OrgID, out.OrgCode, out.OrgName = o.ID, o.Code, o.Name
	}

	cond, args := visibleWhere(a)
	where := []string{cond, "i.detected_at >= ?", "i.detected_at < ?", "i.status NOT IN ('rejected', 'duplicate')",
		"+i.exercise_id IS NULL"} // "+": not through the exercise_id index (see List)
	args = append(args, out.From, out.To)
	with := ""
	if f.OrgID != 0 {
		// The chosen organisation and everything under it.
		with = `WITH RECURSIVE sub(id) AS (SELECT id FROM organisations WHERE id = ?
			UNION SELECT o.id FROM organisations o JOIN sub ON o.parent_id = sub.id) `
		args = append([]any{f.OrgID}, args...)
		where = append(where, "i.affected_org_id IN (SELECT id FROM sub)")
	} else if ids := a.Scope.IDs(); !a.Scope.All && !a.System {
		if len(ids) == 0 {
			where = append(where, "1=0")
		} else {
			in, inArgs := store.InList(ids)
			where = append(where, "i.affected_org_id IN "+in)
			args = append(args, inArgs...)
		}
	}
	if out.ProvinceCode != "" {
		where = append(where, "i.affected_org_id IN (SELECT id FROM organisations WHERE province_code = ?)")
		args = append(args, out.ProvinceCode)
	}
	w := strings.Join(where, " AND ")
	q := with + `SELECT i.type, COUNT(*),
		SUM(CASE WHEN i.handling = 'in_house' THEN 1 ELSE 0 END),
		SUM(CASE WHEN i.handling = 'domestic_help' THEN 1 ELSE 0 END),
		SUM(CASE WHEN i.handling = 'foreign_help' THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM incident_reports r WHERE r.incident_id = i.id AND r.kind = 'support')
			OR EXISTS (SELECT 1 FROM coord_support_requests sr WHERE sr.incident_id = i.id)
			OR EXISTS (SELECT 1 FROM coord_orders co WHERE co.incident_id = i.id) THEN 1 ELSE 0 END),
		CAST(COALESCE(SUM(i.damage_vnd), 0) AS BIGINT), COUNT(i.damage_vnd)
		FROM incidents i WHERE ` + w + ` GROUP BY i.type`
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return out, errs.Internal(op, err)
	}
	defer rows.Close()
	byType := map[Type]SummaryRow{}
	for rows.Next() {
		var typ string
		var r SummaryRow
		if err := rows.Scan(&typ, &r.Count, &r.InHouse, &r.DomesticHelp, &r.ForeignHelp, &r.CoordinatorAsked,
			&r.DamageVND, &r.DamageCount); err != nil {
			return out, errs.Internal(op, err)
		}
		t := Type(typ)
		if !t.Valid() {
			t = TypeOther // a type no longer on the list is counted as other
		}
		acc := byType[t]
		acc.add(r)
		byType[t] = acc
	}
	if err := rows.Err(); err != nil {
		return out, errs.Internal(op, err)
	}
	rows.Close()
	out.Rows = make([]SummaryRow, 0, len(Types))
	for _, t := range Types {
		r := byType[t]
		r.Type = t
		out.Rows = append(out.Rows, r)
		out.Total.add(r)
	}
	if out.Helpers, out.OtherHelpers, err = s.summaryHelpers(ctx, a, with, w, args); err != nil {
		return out, errs.Ensure(op, err)
	}
	return out, nil
}

// summaryHelpers reads who recorded effort on the incidents the summary
// counts (with, where and args are its query's), other than the affected
// organisation itself, most incidents first, then the highest cost.
func (s *Service) summaryHelpers(ctx context.Context, a policy.Actor, with, where string, args []any) ([]SummaryHelper, int, error) {
	rows, err := s.DB.Query(ctx, with+`SELECT e.org_id, COUNT(DISTINCT e.incident_id), CAST(COALESCE(SUM(e.cost_vnd), 0) AS BIGINT)
		FROM coord_efforts e JOIN incidents i ON i.id = e.incident_id
		WHERE `+where+` AND e.org_id <> i.affected_org_id GROUP BY e.org_id ORDER BY 2 DESC, 3 DESC, 1`, args...)
	if err != nil {
		return nil, 0, err
	}
	var hs []SummaryHelper
	for rows.Next() {
		var h SummaryHelper
		if err := rows.Scan(&h.OrgID, &h.Incidents, &h.CostVND); err != nil {
			rows.Close()
			return nil, 0, err
		}
		hs = append(hs, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	out, others := []SummaryHelper{}, 0
	for _, h := range hs {
		if s.Orgs == nil {
			out = append(out, h)
			continue
		}
		o, err := s.Orgs.Get(ctx, a, h.OrgID)
		switch {
		case errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindForbidden):
			others++ // a name the actor may not know
			continue
		case err != nil:
			return nil, 0, err
		}
		h.OrgName = o.Name
		out = append(out, h)
	}
	return out, others, nil
}
