package readiness

import (
	"context"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Drills (diễn tập): nationally one national and three regional or sector
// drills a year, international ones recorded; every ministry and province
// at least one a year.

// Drill kinds.
const (
	DrillNational      = "national"
	DrillRegional      = "regional"
	DrillSector        = "sector"
	DrillOrganisation  = "organisation"
	DrillInternational = "international"
)

// DrillKinds lists the kinds, for forms.
var DrillKinds = []string{DrillNational, DrillRegional, DrillSector, DrillOrganisation, DrillInternational}

// Drill statuses.
const (
	DrillPlanned   = "planned"
	DrillDone      = "done"
	DrillCancelled = "cancelled"
)

// DrillStatuses lists the statuses, for forms.
var DrillStatuses = []string{DrillPlanned, DrillDone, DrillCancelled}

// Yearly targets of the national level (QĐ 1622 and the network's plan).
const (
	TargetNational         = 1
	TargetRegionalOrSector = 3
)

// MaxDrillDays is the longest drill accepted.
const MaxDrillDays = 31

// Drill is one drill.
type Drill struct {
	ID           int64     `json:"id"`
	OrgID        int64     `json:"org_id"`
	Title        string    `json:"title"`
	Kind         string    `json:"kind"`
	StartsOn     time.Time `json:"starts_on"`
	EndsOn       time.Time `json:"ends_on"`
	Scenario     string    `json:"scenario,omitempty"`
	Objectives   string    `json:"objectives,omitempty"`
	Status       string    `json:"status"`
	Participants []int64   `json:"participants"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// DrillInput is a drill's editable fields.
type DrillInput struct {
	OrgID        int64
	Title        string
	Kind         string
	StartsOn     time.Time
	EndsOn       time.Time
	Scenario     string
	Objectives   string
	Status       string
	Participants []int64
}

// SaveDrill creates a drill (id 0) or changes one (not its organiser).
func (s *Service) SaveDrill(ctx context.Context, a policy.Actor, id int64, in DrillInput) (Drill, error) {
	const op = "readiness: save drill"
	in.Title, in.Scenario, in.Objectives = strings.TrimSpace(in.Title), strings.TrimSpace(in.Scenario), strings.TrimSpace(in.Objectives)
	in.StartsOn, in.EndsOn = day(in.StartsOn), day(in.EndsOn)
	var out Drill
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		var before *Drill
		if id != 0 {
			d, err := loadDrill(ctx, tx, id)
			if err != nil {
				return err
			}
			before, in.OrgID = &d, d.OrgID
		}
		if err := check(a, policy.ReadinessWrite, in.OrgID); err != nil {
			return err
		}
		if err := needOrg(ctx, tx, op, in.OrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		text(v, "title", in.Title, maxLine, true)
		text(v, "scenario", in.Scenario, maxText, false)
		text(v, "objectives", in.Objectives, maxText, false)
		if !slices.Contains(DrillKinds, in.Kind) {
			v.Field("kind", "readiness.err.choice")
		}
		if in.Status == "" {
			in.Status = DrillPlanned
		}
		if !slices.Contains(DrillStatuses, in.Status) {
			v.Field("status", "readiness.err.choice")
		}
		date(v, "starts_on", in.StartsOn, now, true, 5)
		date(v, "ends_on", in.EndsOn, now, true, 5)
		if !in.StartsOn.IsZero() && !in.EndsOn.IsZero() {
			if in.EndsOn.Before(in.StartsOn) {
				v.Field("ends_on", "readiness.err.before_start")
			} else if in.EndsOn.Sub(in.StartsOn) > MaxDrillDays*24*time.Hour {
				v.Field("ends_on", "readiness.err.drill_long", MaxDrillDays)
			}
		}
		if in.Status == DrillDone && in.StartsOn.After(now) {
			v.Field("status", "readiness.err.done_future")
		}
		var asked []int64
		for _, p := range in.Participants {
			if p != 0 && p != in.OrgID && !slices.Contains(asked, p) {
				asked = append(asked, p)
			}
		}
		known, err := orgsExisting(ctx, tx, asked)
		if err != nil {
			return err
		}
		parts := []int64{}
		for _, p := range asked {
			if !known[p] {
				v.Field("participants", "readiness.err.org")
				continue
			}
			parts = append(parts, p)
		}
		if len(parts) > 500 {
			v.Field("participants", "readiness.err.too_many")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		slices.Sort(parts)
		out = Drill{ID: id, OrgID: in.OrgID, Title: in.Title, Kind: in.Kind, StartsOn: in.StartsOn, EndsOn: in.EndsOn,
			Scenario: in.Scenario, Objectives: in.Objectives, Status: in.Status, Participants: parts, CreatedAt: now, UpdatedAt: now}
		if before == nil {
			if err := tx.QueryRow(ctx, `INSERT INTO readiness_drills (org_id, title, kind, starts_on, ends_on, scenario, objectives,
				status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, out.OrgID, out.Title, out.Kind,
				out.StartsOn, out.EndsOn, out.Scenario, out.Objectives, out.Status, now, now).Scan(&out.ID); err != nil {
				return err
			}
		} else {
			out.CreatedAt = before.CreatedAt
			if _, err := tx.Exec(ctx, `UPDATE readiness_drills SET title = ?, kind = ?, starts_on = ?, ends_on = ?, scenario = ?,
				objectives = ?, status = ?, updated_at = ? WHERE id = ?`, out.Title, out.Kind, out.StartsOn, out.EndsOn, out.Scenario,
				out.Objectives, out.Status, now, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM readiness_drill_participants WHERE drill_id = ?", id); err != nil {
				return err
			}
		}
		for _, p := range parts {
			if _, err := tx.Exec(ctx, "INSERT INTO readiness_drill_participants (drill_id, org_id) VALUES (?, ?)", out.ID, p); err != nil {
				return err
			}
		}
		action := "readiness.drill.create"
		var b any
		if before != nil {
			action, b = "readiness.drill.update", *before
		}
		return record(ctx, tx, now, a, out.OrgID, action, "readiness_drill", out.ID, b, out)
	})
	return out, err
}

// loadDrills loads the drills matching where (over d), by start date, with
// their participants.
func loadDrills(ctx context.Context, q store.Q, where string, args ...any) ([]Drill, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.org_id, d.title, d.kind, d.starts_on, d.ends_on, d.scenario, d.objectives, d.status,
		d.created_at, d.updated_at FROM readiness_drills d WHERE `+where+` ORDER BY d.starts_on, d.id`, args...)
	if err != nil {
		return nil, err
	}
	out := []Drill{}
	byID := map[int64]int{}
	for rows.Next() {
		var d Drill
		if err := rows.Scan(&d.ID, &d.OrgID, &d.Title, &d.Kind, &d.StartsOn, &d.EndsOn, &d.Scenario, &d.Objectives, &d.Status,
			&d.CreatedAt, &d.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		d.StartsOn, d.EndsOn, d.CreatedAt, d.UpdatedAt = d.StartsOn.UTC(), d.EndsOn.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		d.Participants = []int64{}
		byID[d.ID] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	rows, err = q.Query(ctx, `SELECT p.drill_id, p.org_id FROM readiness_drill_participants p
		JOIN readiness_drills d ON d.id = p.drill_id WHERE `+where+` ORDER BY p.drill_id, p.org_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, org int64
		if err := rows.Scan(&id, &org); err != nil {
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].Participants = append(out[i].Participants, org)
		}
	}
	return out, rows.Err()
}

func loadDrill(ctx context.Context, q store.Q, id int64) (Drill, error) {
	ds, err := loadDrills(ctx, q, "d.id = ?", id)
	if err != nil {
		return Drill{}, err
	}
	if len(ds) == 0 {
		return Drill{}, errs.NotFound("readiness: drill")
	}
	return ds[0], nil
}

// Drill returns one drill the actor may read (as organiser's or a
// participant's reader).
func (s *Service) Drill(ctx context.Context, a policy.Actor, id int64) (Drill, error) {
	const op = "readiness: drill"
	d, err := loadDrill(ctx, s.DB, id)
	if err != nil {
		return Drill{}, store.Wrap(op, err)
	}
	if !mayReadDrill(a, d) {
		return Drill{}, errs.NotFound(op)
	}
	return d, nil
}

func mayReadDrill(a policy.Actor, d Drill) bool {
	if policy.Check(a, policy.ReadinessRead, Resource(d.OrgID)) == nil {
		return true
	}
	for _, p := range d.Participants {
		if policy.Check(a, policy.ReadinessRead, Resource(p)) == nil {
			return true
		}
	}
	return false
}

// Drills lists the drills of a calendar year (Vietnam time) the actor may
// read, by start date.
func (s *Service) Drills(ctx context.Context, a policy.Actor, year int) ([]Drill, error) {
	const op = "readiness: drills"
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	ds, err := loadDrills(ctx, s.DB, "d.starts_on >= ? AND d.starts_on < ?", from, from.AddDate(1, 0, 0))
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	out := ds[:0]
	for _, d := range ds {
		if mayReadDrill(a, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// NotDrilled is a ministry or province with no drill done this year.
type NotDrilled struct {
	OrgID   int64  `json:"org_id"`
	Name    string `json:"name"`    // "" when the organisation's label hides it from the actor
	Planned bool   `json:"planned"` // a drill is planned later this year
}

// YearReport is the drill obligations of a year in the actor's scope.
type YearReport struct {
	Year             int          `json:"year"`
	National         int          `json:"national"`
	RegionalOrSector int          `json:"regional_or_sector"`
	International    int          `json:"international"`
	NotDrilled       []NotDrilled `json:"not_drilled"`
}

// Year counts the drills done in the year holding now (Vietnam time) and
// lists the ministries and provinces in scope that have not drilled (as
// organiser or participant).
func (s *Service) Year(ctx context.Context, a policy.Actor) (YearReport, error) {
	r, _, err := s.YearDrills(ctx, a)
	return r, err
}

// YearDrills is Year with the year's drills the actor may read (Drills of
// the report's year), for pages that show both.
func (s *Service) YearDrills(ctx context.Context, a policy.Actor) (YearReport, []Drill, error) {
	year := s.now().In(Local).Year()
	drills, err := s.Drills(ctx, a, year)
	if err != nil {
		return YearReport{Year: year, NotDrilled: []NotDrilled{}}, nil, err
	}
	r, err := s.year(ctx, a, year, drills)
	return r, drills, err
}

func (s *Service) year(ctx context.Context, a policy.Actor, year int, drills []Drill) (YearReport, error) {
	const op = "readiness: drill year"
	r := YearReport{Year: year, NotDrilled: []NotDrilled{}}
	done, planned := map[int64]bool{}, map[int64]bool{}
	for _, d := range drills {
		if d.Status == DrillCancelled {
			continue
		}
		orgs := append([]int64{d.OrgID}, d.Participants...)
		for _, o := range orgs {
			if d.Status == DrillDone {
				done[o] = true
			} else {
				planned[o] = true
			}
		}
		if d.Status != DrillDone {
			continue
		}
		switch d.Kind {
		case DrillNational:
			r.National++
		case DrillRegional, DrillSector:
			r.RegionalOrSector++
		case DrillInternational:
			r.International++
		}
	}
	where, args := scopeWhere(a, "o.id")
	rows, err := s.DB.Query(ctx, `SELECT DISTINCT o.id, o.name, o.tlp FROM organisations o JOIN org_roles r ON r.org_id = o.id
		WHERE r.role IN ('ministry_response_unit', 'provincial_response_unit') AND o.active = ? AND `+where+` ORDER BY o.name, o.id`,
		append([]any{true}, args...)...)
	if err != nil {
		return r, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n NotDrilled
		var tlp string
		if err := rows.Scan(&n.OrgID, &n.Name, &tlp); err != nil {
			return r, errs.Internal(op, err)
		}
		// The name only when the organisation's own label lets the actor see it.
		if policy.Check(a, policy.OrgRead, policy.Resource{OwnerOrg: n.OrgID, TLP: policy.TLP(tlp)}) != nil {
			n.Name = ""
		}
		if done[n.OrgID] || policy.Check(a, policy.ReadinessRead, Resource(n.OrgID)) != nil {
			continue
		}
		n.Planned = planned[n.OrgID]
		r.NotDrilled = append(r.NotDrilled, n)
	}
	return r, store.Wrap(op, rows.Err())
}
