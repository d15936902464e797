package readiness

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Scenarios: the national catalogue of incident situations (attacks,
// failures, natural disasters) that organisations copy and adapt, each
// ranked by likelihood × impact (1–5 each); drills take the highest first.

// Scenario categories.
const (
	CategoryAttack   = "attack"
	CategoryFailure  = "failure"
	CategoryDisaster = "disaster"
)

// ScenarioCategories lists the categories, for forms.
var ScenarioCategories = []string{CategoryAttack, CategoryFailure, CategoryDisaster}

// Priority bands of a scenario's score.
const (
	PriorityHigh   = "high"
	PriorityMedium = "medium"
	PriorityLow    = "low"
)

// Scenario is one incident situation.
type Scenario struct {
	ID          int64     `json:"id"`
	OrgID       int64     `json:"org_id,omitempty"` // 0: the national catalogue
	SourceID    int64     `json:"source_id,omitempty"`
	Title       string    `json:"title"`
	Category    string    `json:"category"`
	Description string    `json:"description,omitempty"`
	Likelihood  int       `json:"likelihood"`
	Impact      int       `json:"impact"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Score is likelihood × impact (1–25).
func (x Scenario) Score() int { return x.Likelihood * x.Impact }

// Priority is the score's band: high from 15, medium from 8.
func (x Scenario) Priority() string {
	switch s := x.Score(); {
	case s >= 15:
		return PriorityHigh
	case s >= 8:
		return PriorityMedium
	}
	return PriorityLow
}

// ScenarioInput is a scenario's editable fields; OrgID 0 is the catalogue.
type ScenarioInput struct {
	OrgID       int64
	Title       string
	Category    string
	Description string
	Likelihood  int
	Impact      int
}

// checkScenarioWrite: an organisation's scenarios as its readiness; the
// catalogue by the national level only.
func checkScenarioWrite(a policy.Actor, orgID int64) error {
	if orgID != 0 {
		return check(a, policy.ReadinessWrite, orgID)
	}
	return policy.Check(a, policy.ReadinessCatalogue, Resource(a.OrgID))
}

// CreateScenario adds a scenario to an organisation or to the catalogue.
func (s *Service) CreateScenario(ctx context.Context, a policy.Actor, in ScenarioInput) (Scenario, error) {
	return s.insertScenario(ctx, a, in, 0)
}

func (s *Service) insertScenario(ctx context.Context, a policy.Actor, in ScenarioInput, source int64) (Scenario, error) {
	const op = "readiness: create scenario"
	if err := checkScenarioWrite(a, in.OrgID); err != nil {
		return Scenario{}, err
	}
	in.Title, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description)
	v := errs.Invalid(op)
	text(v, "title", in.Title, maxLine, true)
	text(v, "description", in.Description, maxText, false)
	if !slices.Contains(ScenarioCategories, in.Category) {
		v.Field("category", "readiness.err.choice")
	}
	if in.Likelihood < 1 || in.Likelihood > 5 {
		v.Field("likelihood", "readiness.err.scale")
	}
	if in.Impact < 1 || in.Impact > 5 {
		v.Field("impact", "readiness.err.scale")
	}
	if err := v.OrNil(); err != nil {
		return Scenario{}, err
	}
	var out Scenario
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if in.OrgID != 0 {
			if err := needOrg(ctx, tx, op, in.OrgID); err != nil {
				return err
			}
		}
		out = Scenario{OrgID: in.OrgID, SourceID: source, Title: in.Title, Category: in.Category, Description: in.Description,
			Likelihood: in.Likelihood, Impact: in.Impact, CreatedAt: now, UpdatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_scenarios (org_id, source_id, title, category, description, likelihood,
			impact, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, store.NullID(in.OrgID), store.NullID(source),
			out.Title, out.Category, out.Description, out.Likelihood, out.Impact, now, now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, in.OrgID, "readiness.scenario.create", "readiness_scenario", out.ID, nil, out)
	})
	return out, err
}

// CopyScenario copies a catalogue scenario to the organisation, to adapt.
func (s *Service) CopyScenario(ctx context.Context, a policy.Actor, catalogueID, orgID int64) (Scenario, error) {
	const op = "readiness: copy scenario"
	src, err := loadScenario(ctx, s.DB, catalogueID)
	if err != nil {
		return Scenario{}, store.Wrap(op, err)
	}
	if src.OrgID != 0 {
		return Scenario{}, errs.NotFound(op)
	}
	return s.insertScenario(ctx, a, ScenarioInput{OrgID: orgID, Title: src.Title, Category: src.Category,
		Description: src.Description, Likelihood: src.Likelihood, Impact: src.Impact}, src.ID)
}

const scenarioCols = `id, org_id, source_id, title, category, description, likelihood, impact, created_at, updated_at`

func scanScenario(sc interface{ Scan(...any) error }) (Scenario, error) {
	var x Scenario
	var org, src sql.NullInt64
	err := sc.Scan(&x.ID, &org, &src, &x.Title, &x.Category, &x.Description, &x.Likelihood, &x.Impact, &x.CreatedAt, &x.UpdatedAt)
	x.OrgID, x.SourceID, x.CreatedAt, x.UpdatedAt = org.Int64, src.Int64, x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return x, err
}

func loadScenario(ctx context.Context, q store.Q, id int64) (Scenario, error) {
	x, err := scanScenario(q.QueryRow(ctx, `SELECT `+scenarioCols+` FROM readiness_scenarios WHERE id = ?`, id))
	if store.IsNoRows(err) {
		return Scenario{}, errs.NotFound("readiness: scenario")
	}
	return x, err
}

// Scenarios lists an organisation's scenarios (the catalogue when orgID is
// 0, which every signed-in member reads), highest priority first.
func (s *Service) Scenarios(ctx context.Context, a policy.Actor, orgID int64) ([]Scenario, error) {
	const op = "readiness: scenarios"
	where, args := "org_id IS NULL", []any{}
	if orgID != 0 {
		if err := check(a, policy.ReadinessRead, orgID); err != nil {
			return nil, err
		}
		where, args = "org_id = ?", []any{orgID}
	} else if a.OrgID == 0 && !a.System {
		return nil, errs.Unauthenticated(op, "")
	}
	rows, err := s.DB.Query(ctx, `SELECT `+scenarioCols+` FROM readiness_scenarios WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Scenario{}
	for rows.Next() {
		x, err := scanScenario(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, x)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score() > out[j].Score() })
	return out, store.Wrap(op, rows.Err())
}
