package readiness

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Response plans (phương án ứng cứu sự cố, QĐ 05/2017 Phụ lục II): per
// organisation and optionally per important information system. A plan
// covers scenarios of the organisation's library and gives for each the
// response option (steps, people, equipment, budget); it states the
// priority conditions for keeping the system running, the contacts and the
// escalation.
//
// Versions: a plan is a series of versions. A draft (or returned) version
// is edited in place; a submitted one waits for the approver; an approved
// one is never changed: saving the plan again starts a new draft version,
// and the approved one stays in force until a newer one is approved (it is
// then superseded). Every version is kept.

// Plan version statuses.
const (
	PlanDraft      = "draft"
	PlanSubmitted  = "submitted"
	PlanReturned   = "returned"
	PlanApproved   = "approved"
	PlanSuperseded = "superseded"
)

// PlanStatuses lists the statuses, for filters and labels.
var PlanStatuses = []string{PlanDraft, PlanSubmitted, PlanReturned, PlanApproved, PlanSuperseded}

// PlanReviewMonths is how long an approved plan holds before it is reviewed:
// the plans are reviewed and updated every year (QĐ 05/2017 has the
// response plans kept up to date yearly, with the yearly drill), so it is a
// constant, not a setting.
const PlanReviewMonths = 12

// PlanReviewWarning is how long before its review date a plan is announced
// as due soon (on the dashboard and through the reminder job).
const PlanReviewWarning = 30 * 24 * time.Hour

// Review states of a plan in force.
const (
	ReviewNone    = ""         // nothing approved yet
	ReviewOK      = "ok"       // reviewed within the year
	ReviewDueSoon = "due_soon" // within PlanReviewWarning of its date
	ReviewOverdue = "overdue"  // past its date
)

// Limits of a plan.
const (
	maxPlanText   = 8000
	maxBudget     = 1_000_000_000_000_000 // VND
	maxPlanItems  = 200
	maxPlanPeople = 100
)

// NotifyPlanReview is the notification kind of a plan due for its yearly
// review (and of one past it); NotifyPlanSubmitted of a plan waiting for
// approval; NotifyPlanDecided of a plan approved or returned.
const (
	NotifyPlanReview    = "readiness.plan_review"
	NotifyPlanSubmitted = "readiness.plan_submitted"
	NotifyPlanDecided   = "readiness.plan_decided"
)

func init() {
	notify.RegisterKind(NotifyPlanReview, "readiness.notify.kind.plan_review")
	notify.RegisterKind(NotifyPlanSubmitted, "readiness.notify.kind.plan_submitted")
	notify.RegisterKind(NotifyPlanDecided, "readiness.notify.kind.plan_decided")
}

// PlanRef names something a plan refers to, as it was named when the
// version was saved.
type PlanRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PlanContact is a contact point of the organisation, as it was when the
// version was saved.
type PlanContact struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Title    string `json:"title,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Phone247 string `json:"phone_247,omitempty"`
}

// PlanOption is the response option for one scenario.
type PlanOption struct {
	ScenarioID int64     `json:"scenario_id"`
	Title      string    `json:"title"`
	Category   string    `json:"category"`
	Score      int       `json:"score"`
	Steps      string    `json:"steps"`
	People     []PlanRef `json:"people"`
	Equipment  string    `json:"equipment,omitempty"`
	BudgetVND  int64     `json:"budget_vnd"`
}

// PlanContent is what a version says, in the order of the outline.
type PlanContent struct {
	Title      string        `json:"title"` // the plan's title when the version was saved
	Scope      string        `json:"scope"`
	Systems    []PlanRef     `json:"systems"`
	Options    []PlanOption  `json:"scenarios"`
	Priorities string        `json:"priorities"`
	Contacts   []PlanContact `json:"contacts"`
	Teams      []PlanRef     `json:"teams"`
	Escalation string        `json:"escalation"`
}

// Budget is the total budget of the response options, in VND.
func (c PlanContent) Budget() int64 {
	var n int64
	for _, o := range c.Options {
		n += o.BudgetVND
	}
	return n
}

// Option returns the response option of the scenario, if covered.
func (c PlanContent) Option(scenarioID int64) (PlanOption, bool) {
	for _, o := range c.Options {
		if o.ScenarioID == scenarioID {
			return o, true
		}
	}
	return PlanOption{}, false
}

// PlanVersion is one version of a plan.
type PlanVersion struct {
	ID            int64       `json:"id"`
	PlanID        int64       `json:"plan_id"`
	Version       int         `json:"version"`
	Status        string      `json:"status"`
	Content       PlanContent `json:"content"`
	ReturnReason  string      `json:"return_reason,omitempty"`
	CreatedBy     string      `json:"created_by,omitempty"`
	SubmittedAt   time.Time   `json:"submitted_at,omitzero"`
	SubmittedBy   string      `json:"submitted_by,omitempty"`
	DecidedAt     time.Time   `json:"decided_at,omitzero"`
	DecidedBy     string      `json:"decided_by,omitempty"`
	ApproverTitle string      `json:"approver_title,omitempty"`
	ApproverOrgID int64       `json:"approver_org_id,omitempty"`
	ReviewDue     time.Time   `json:"review_due,omitzero"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

// Editable reports whether the version is changed in place.
func (v PlanVersion) Editable() bool { return v.Status == PlanDraft || v.Status == PlanReturned }

// ReviewState says where an approved version stands against its review
// date at now.
func (v PlanVersion) ReviewState(now time.Time) string {
	if v.Status != PlanApproved || v.ReviewDue.IsZero() {
		return ReviewNone
	}
	switch {
	case now.After(v.ReviewDue):
		return ReviewOverdue
	case now.Add(PlanReviewWarning).After(v.ReviewDue):
		return ReviewDueSoon
	}
	return ReviewOK
}

// ReviewDue is the review date of a plan approved at t: a year later.
func ReviewDue(approved time.Time) time.Time { return approved.AddDate(0, PlanReviewMonths, 0) }

// Plan is a response plan with its latest version and the one in force.
type Plan struct {
	ID         int64        `json:"id"`
	OrgID      int64        `json:"org_id"`
	OrgName    string       `json:"org_name,omitempty"`
	ParentID   int64        `json:"-"` // the organisation's parent, whose administrators approve too
	SystemID   int64        `json:"system_id,omitempty"`
	SystemName string       `json:"system_name,omitempty"`
	Title      string       `json:"title"`
	Latest     PlanVersion  `json:"latest"`
	InForce    *PlanVersion `json:"in_force,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

// Review is the review state of the version in force at now.
func (p Plan) Review(now time.Time) string {
	if p.InForce == nil {
		return ReviewNone
	}
	return p.InForce.ReviewState(now)
}

// PlanDetail is a plan with every version, newest first.
type PlanDetail struct {
	Plan
	Versions []PlanVersion `json:"versions"`
}

// Version returns version n of the plan.
func (d PlanDetail) Version(n int) (PlanVersion, bool) {
	for _, v := range d.Versions {
		if v.Version == n {
			return v, true
		}
	}
	return PlanVersion{}, false
}

// Previous returns the version before n, if any.
func (d PlanDetail) Previous(n int) (PlanVersion, bool) { return d.Version(n - 1) }

// OptionInput is the response option typed for one scenario.
type OptionInput struct {
	ScenarioID int64   `json:"scenario_id"`
	Steps      string  `json:"steps"`
	PersonIDs  []int64 `json:"person_ids"`
	Equipment  string  `json:"equipment"`
	BudgetVND  int64   `json:"budget_vnd"`
}

// PlanInput is what a plan's form or API body gives.
type PlanInput struct {
	Title      string        `json:"title"`
	SystemID   int64         `json:"system_id"`
	Scope      string        `json:"scope"`
	SystemIDs  []int64       `json:"system_ids"`
	Options    []OptionInput `json:"scenarios"`
	Priorities string        `json:"priorities"`
	ContactIDs []int64       `json:"contact_ids"`
	TeamIDs    []int64       `json:"team_ids"`
	Escalation string        `json:"escalation"`
}

// ---- reading

const planCols = `p.id, p.org_id, o.name, o.parent_id, p.system_id, COALESCE(sy.name, ''), p.title, p.created_at, p.updated_at`

const planFrom = ` FROM readiness_plans p JOIN organisations o ON o.id = p.org_id
	LEFT JOIN infosys_systems sy ON sy.id = p.system_id`

func scanPlan(sc interface{ Scan(...any) error }) (Plan, error) {
	var p Plan
	var sys, parent sql.NullInt64
	err := sc.Scan(&p.ID, &p.OrgID, &p.OrgName, &parent, &sys, &p.SystemName, &p.Title, &p.CreatedAt, &p.UpdatedAt)
	p.ParentID, p.SystemID, p.CreatedAt, p.UpdatedAt = parent.Int64, sys.Int64, p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, err
}

const versionCols = `v.id, v.plan_id, v.version, v.status, v.content, v.return_reason, v.created_by, v.submitted_at, v.submitted_by,
	v.decided_at, v.decided_by, v.approver_title, v.approver_org_id, v.review_due, v.created_at, v.updated_at`

func scanVersion(sc interface{ Scan(...any) error }) (PlanVersion, error) {
	var v PlanVersion
	var content string
	var sub, dec, due sql.NullTime
	var apOrg sql.NullInt64
	err := sc.Scan(&v.ID, &v.PlanID, &v.Version, &v.Status, &content, &v.ReturnReason, &v.CreatedBy, &sub, &v.SubmittedBy,
		&dec, &v.DecidedBy, &v.ApproverTitle, &apOrg, &due, &v.CreatedAt, &v.UpdatedAt)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(content), &v.Content); err != nil {
		return v, fmt.Errorf("plan version %d: content: %w", v.ID, err)
	}
	v.SubmittedAt, v.DecidedAt, v.ReviewDue = store.TimeOf(sub), store.TimeOf(dec), store.TimeOf(due)
	v.ApproverOrgID, v.CreatedAt, v.UpdatedAt = apOrg.Int64, v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, nil
}

func loadPlan(ctx context.Context, q store.Q, id int64) (Plan, error) {
	p, err := scanPlan(q.QueryRow(ctx, `SELECT `+planCols+planFrom+` WHERE p.id = ?`, id))
	if store.IsNoRows(err) {
		return Plan{}, errs.NotFound("readiness: plan")
	}
	return p, err
}

// versions loads the versions of the plans, newest first.
func versions(ctx context.Context, q store.Q, ids []int64) (map[int64][]PlanVersion, error) {
	out := map[int64][]PlanVersion{}
	for chunk := range slices.Chunk(ids, maxIn) {
		in, args := store.InList(chunk)
		rows, err := q.Query(ctx, `SELECT `+versionCols+` FROM readiness_plan_versions v WHERE v.plan_id IN `+in+`
			ORDER BY v.plan_id, v.version DESC`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[v.PlanID] = append(out[v.PlanID], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fill sets the latest version and the one in force from the versions,
// newest first.
func (p *Plan) fill(vs []PlanVersion) {
	if len(vs) > 0 {
		p.Latest = vs[0]
	}
	for i := range vs {
		if vs[i].Status == PlanApproved {
			v := vs[i]
			p.InForce = &v
			break
		}
	}
}

func (s *Service) planDetail(ctx context.Context, q store.Q, id int64) (PlanDetail, error) {
	p, err := loadPlan(ctx, q, id)
	if err != nil {
		return PlanDetail{}, err
	}
	vs, err := versions(ctx, q, []int64{id})
	if err != nil {
		return PlanDetail{}, err
	}
	p.fill(vs[id])
	return PlanDetail{Plan: p, Versions: vs[id]}, nil
}

// Plan returns a plan with all its versions.
func (s *Service) Plan(ctx context.Context, a policy.Actor, id int64) (PlanDetail, error) {
	const op = "readiness: plan"
	d, err := s.planDetail(ctx, s.DB, id)
	if err != nil {
		return PlanDetail{}, store.Wrap(op, err)
	}
	if err := check(a, policy.ReadinessRead, d.OrgID); err != nil {
		return PlanDetail{}, err
	}
	return d, nil
}

// Plans lists the plans of the organisations in the actor's scope (of one
// when orgID is not 0), by organisation and title.
func (s *Service) Plans(ctx context.Context, a policy.Actor, orgID int64) ([]Plan, error) {
	const op = "readiness: plans"
	where, args := scopeWhere(a, "p.org_id")
	if orgID != 0 {
		if err := check(a, policy.ReadinessRead, orgID); err != nil {
			return nil, err
		}
		where, args = "p.org_id = ?", []any{orgID}
	}
	return s.plansWhere(ctx, a, op, where, args...)
}

func (s *Service) plansWhere(ctx context.Context, a policy.Actor, op, where string, args ...any) ([]Plan, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+planCols+planFrom+` WHERE `+where+` ORDER BY o.name, p.title, p.id`, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var out []Plan
	var ids []int64
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		if policy.Check(a, policy.ReadinessRead, Resource(p.OrgID)) == nil {
			out = append(out, p)
			ids = append(ids, p.ID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	vs, err := versions(ctx, s.DB, ids)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	for i := range out {
		out[i].fill(vs[out[i].ID])
	}
	return out, nil
}

// PlansToReview lists the plans in the actor's scope whose version in force
// is due for review within PlanReviewWarning or past it, soonest first.
func (s *Service) PlansToReview(ctx context.Context, a policy.Actor) ([]Plan, error) {
	const op = "readiness: plans to review"
	where, args := scopeWhere(a, "p.org_id")
	args = append(args, s.now().Add(PlanReviewWarning))
	ps, err := s.plansWhere(ctx, a, op, where+` AND EXISTS (SELECT 1 FROM readiness_plan_versions v WHERE v.plan_id = p.id
		AND v.status = '`+PlanApproved+`' AND v.review_due < ?)`, args...)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(ps, func(x, y Plan) int { return x.InForce.ReviewDue.Compare(y.InForce.ReviewDue) })
	return ps, nil
}

// PlansAwaiting lists the submitted plans the actor may approve.
func (s *Service) PlansAwaiting(ctx context.Context, a policy.Actor) ([]Plan, error) {
	const op = "readiness: plans awaiting"
	where, args := scopeWhere(a, "p.org_id")
	ps, err := s.plansWhere(ctx, a, op, where+` AND EXISTS (SELECT 1 FROM readiness_plan_versions v WHERE v.plan_id = p.id
		AND v.status = '`+PlanSubmitted+`')`, args...)
	if err != nil {
		return nil, err
	}
	out := ps[:0]
	for _, p := range ps {
		if policy.Allowed(a, policy.ReadinessPlanApprove, Resource(p.OrgID)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ---- validation

// cleanIDs drops zeros and duplicates; a duplicate is named on v.
func cleanIDs(v *errs.Error, field string, ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id == 0 {
			continue
		}
		if slices.Contains(out, id) {
			v.Field(field, "readiness.err.duplicate")
			continue
		}
		out = append(out, id)
	}
	if len(out) > maxPlanItems {
		v.Field(field, "readiness.err.too_many")
		out = out[:maxPlanItems]
	}
	return out
}

// named reads id → name of the rows of query: (?list) in it is the ids' IN
// list, after the arguments args.
func named(ctx context.Context, q store.Q, query string, ids []int64, args ...any) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	in, idArgs := store.InList(ids)
	rows, err := q.Query(ctx, strings.Replace(query, "(?list)", in, 1), append(args, idArgs...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// Systems of the organisation: it owns or operates them.
const planSystems = `SELECT id, name FROM infosys_systems WHERE (owner_org_id = ? OR operator_org_id = ?)`

// People a plan may name: the organisation's own, and those on its teams
// (people of partners serve on them under an agreement).
const planPeople = `SELECT p.id, p.full_name FROM readiness_people p WHERE (p.org_id = ? OR EXISTS (SELECT 1
	FROM readiness_members m JOIN readiness_teams t ON t.id = m.team_id WHERE m.person_id = p.id AND t.org_id = ?))`

const (
	planSystemsQ = planSystems + ` AND id IN (?list)`
	planPeopleQ  = planPeople + ` AND p.id IN (?list)`
)

// buildContent validates the input against the organisation's records and
// returns the version's content (a snapshot of what it names).
func buildContent(ctx context.Context, q store.Q, op string, orgID int64, in *PlanInput) (PlanContent, error) {
	in.Title, in.Scope = strings.TrimSpace(in.Title), strings.TrimSpace(in.Scope)
	in.Priorities, in.Escalation = strings.TrimSpace(in.Priorities), strings.TrimSpace(in.Escalation)
	v := errs.Invalid(op)
	text(v, "title", in.Title, maxLine, true)
	text(v, "scope", in.Scope, maxPlanText, false)
	text(v, "priorities", in.Priorities, maxPlanText, false)
	text(v, "escalation", in.Escalation, maxPlanText, false)
	c := PlanContent{Title: in.Title, Scope: in.Scope, Priorities: in.Priorities, Escalation: in.Escalation}

	sysIDs := cleanIDs(v, "systems", in.SystemIDs)
	all := sysIDs
	if in.SystemID != 0 && !slices.Contains(all, in.SystemID) {
		all = append(slices.Clone(all), in.SystemID)
	}
	systems, err := named(ctx, q, planSystemsQ, all, orgID, orgID)
	if err != nil {
		return c, err
	}
	if _, ok := systems[in.SystemID]; in.SystemID != 0 && !ok {
		v.Field("system_id", "readiness.err.plan_system")
	}
	for _, id := range sysIDs {
		name, ok := systems[id]
		if !ok {
			v.Field("systems", "readiness.err.plan_system")
			continue
		}
		c.Systems = append(c.Systems, PlanRef{ID: id, Name: name})
	}

	// Scenarios of the organisation's library, each once.
	var personIDs, scenIDs []int64
	for _, o := range in.Options {
		if slices.Contains(scenIDs, o.ScenarioID) {
			v.Field("scenarios", "readiness.err.duplicate")
			continue
		}
		scenIDs = append(scenIDs, o.ScenarioID)
		personIDs = append(personIDs, o.PersonIDs...)
	}
	if len(scenIDs) > maxPlanItems {
		return c, v.Field("scenarios", "readiness.err.too_many").OrNil()
	}
	scens := map[int64]Scenario{}
	for chunk := range slices.Chunk(scenIDs, maxIn) {
		in, args := store.InList(chunk)
		rows, err := q.Query(ctx, `SELECT `+scenarioCols+` FROM readiness_scenarios WHERE org_id = ? AND id IN `+in,
			append([]any{orgID}, args...)...)
		if err != nil {
			return c, err
		}
		for rows.Next() {
			x, err := scanScenario(rows)
			if err != nil {
				rows.Close()
				return c, err
			}
			scens[x.ID] = x
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return c, err
		}
	}
	slices.Sort(personIDs)
	people, err := named(ctx, q, planPeopleQ, slices.Compact(personIDs), orgID, orgID)
	if err != nil {
		return c, err
	}
	seen := map[int64]bool{}
	for _, o := range in.Options {
		if seen[o.ScenarioID] {
			continue
		}
		seen[o.ScenarioID] = true
		sc, ok := scens[o.ScenarioID]
		f := fmt.Sprintf("_%d", o.ScenarioID)
		if !ok {
			v.Field("scenarios", "readiness.err.plan_scenario")
			continue
		}
		opt := PlanOption{ScenarioID: sc.ID, Title: sc.Title, Category: sc.Category, Score: sc.Score(),
			Steps: strings.TrimSpace(o.Steps), Equipment: strings.TrimSpace(o.Equipment), BudgetVND: o.BudgetVND}
		text(v, "steps"+f, opt.Steps, maxPlanText, false)
		text(v, "equipment"+f, opt.Equipment, maxText, false)
		if o.BudgetVND < 0 || o.BudgetVND > maxBudget {
			v.Field("budget"+f, "readiness.err.budget")
		}
		if len(o.PersonIDs) > maxPlanPeople {
			v.Field("people"+f, "readiness.err.too_many")
		}
		for _, id := range cleanIDs(v, "people"+f, o.PersonIDs) {
			name, ok := people[id]
			if !ok {
				v.Field("people"+f, "readiness.err.plan_person")
				continue
			}
			opt.People = append(opt.People, PlanRef{ID: id, Name: name})
		}
		c.Options = append(c.Options, opt)
	}
	// Highest priority first, as drills take them.
	slices.SortStableFunc(c.Options, func(x, y PlanOption) int { return y.Score - x.Score })

	contactIDs := cleanIDs(v, "contacts", in.ContactIDs)
	if len(contactIDs) > 0 {
		in, args := store.InList(contactIDs)
		rows, err := q.Query(ctx, `SELECT id, kind, name, title, email, phone, phone_247 FROM contacts WHERE org_id = ? AND id IN `+in+`
			ORDER BY id`, append([]any{orgID}, args...)...)
		if err != nil {
			return c, err
		}
		for rows.Next() {
			var x PlanContact
			if err := rows.Scan(&x.ID, &x.Kind, &x.Name, &x.Title, &x.Email, &x.Phone, &x.Phone247); err != nil {
				rows.Close()
				return c, err
			}
			c.Contacts = append(c.Contacts, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return c, err
		}
		if len(c.Contacts) != len(contactIDs) {
			v.Field("contacts", "readiness.err.plan_contact")
		}
	}
	teamIDs := cleanIDs(v, "teams", in.TeamIDs)
	teams, err := named(ctx, q, `SELECT id, name FROM readiness_teams WHERE org_id = ? AND id IN (?list)`, teamIDs, orgID)
	if err != nil {
		return c, err
	}
	for _, id := range teamIDs {
		name, ok := teams[id]
		if !ok {
			v.Field("teams", "readiness.err.plan_team")
			continue
		}
		c.Teams = append(c.Teams, PlanRef{ID: id, Name: name})
	}
	return c, v.OrNil()
}

// readyToSubmit names what a version needs before it goes to the approver:
// its scope, at least one scenario with its steps, and someone to call.
func readyToSubmit(op string, c PlanContent) error {
	v := errs.Invalid(op)
	if c.Scope == "" {
		v.Field("scope", "readiness.err.required")
	}
	if len(c.Options) == 0 {
		v.Field("scenarios", "readiness.err.plan_no_scenario")
	}
	for _, o := range c.Options {
		if o.Steps == "" {
			v.Field(fmt.Sprintf("steps_%d", o.ScenarioID), "readiness.err.required")
		}
	}
	if len(c.Contacts) == 0 && len(c.Teams) == 0 {
		v.Field("contacts", "readiness.err.plan_no_contact")
	}
	return v.OrNil()
}

// ---- writing

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and numbers
	}
	return string(b)
}

// CreatePlan starts a plan of the organisation with its first draft.
func (s *Service) CreatePlan(ctx context.Context, a policy.Actor, orgID int64, in PlanInput) (PlanDetail, error) {
	const op = "readiness: create plan"
	if err := check(a, policy.ReadinessWrite, orgID); err != nil {
		return PlanDetail{}, err
	}
	var id int64
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if err := needOrg(ctx, tx, op, orgID); err != nil {
			return err
		}
		c, err := buildContent(ctx, tx, op, orgID, &in)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_plans (org_id, system_id, title, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, orgID, store.NullID(in.SystemID), in.Title, now, now).Scan(&id); err != nil {
			return err
		}
		ver := PlanVersion{PlanID: id, Version: 1, Status: PlanDraft, Content: c, CreatedBy: a.Label(), CreatedAt: now, UpdatedAt: now}
		if err := insertVersion(ctx, tx, &ver); err != nil {
			return err
		}
		return record(ctx, tx, now, a, orgID, "readiness.plan.create", "readiness_plan", id, nil,
			map[string]any{"title": in.Title, "system_id": in.SystemID, "version": ver})
	})
	if err != nil {
		return PlanDetail{}, err
	}
	return s.Plan(ctx, a, id)
}

func insertVersion(ctx context.Context, tx *store.Tx, v *PlanVersion) error {
	err := tx.QueryRow(ctx, `INSERT INTO readiness_plan_versions (plan_id, version, status, content, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, v.PlanID, v.Version, v.Status, mustJSON(v.Content), v.CreatedBy,
		v.CreatedAt, v.UpdatedAt).Scan(&v.ID)
	if store.IsUniqueViolation(err) {
		return errs.Conflict("readiness: plan version", "readiness.err.plan_changed")
	}
	return err
}

// planForWrite loads a plan and its versions in the transaction and checks
// the actor may do act on it.
func (s *Service) planForWrite(ctx context.Context, tx *store.Tx, a policy.Actor, act policy.Action, id int64) (PlanDetail, error) {
	d, err := s.planDetail(ctx, tx, id)
	if err != nil {
		return d, err
	}
	if err := check(a, act, d.OrgID); err != nil {
		return d, err
	}
	if len(d.Versions) == 0 {
		return d, errs.Internal("readiness: plan", fmt.Errorf("plan %d has no version", id))
	}
	return d, nil
}

// setStatus moves version v from status from to the new values; a version
// changed meanwhile is a conflict.
func setStatus(ctx context.Context, tx *store.Tx, v PlanVersion, from string, set string, args ...any) error {
	res, err := tx.Exec(ctx, `UPDATE readiness_plan_versions SET `+set+` WHERE id = ? AND status = ?`,
		append(args, v.ID, from)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return errs.Conflict("readiness: plan", "readiness.err.plan_changed")
	}
	return nil
}

// UpdatePlan saves the plan. A draft or returned version is changed in
// place (a returned one becomes a draft again); an approved one is kept and
// a new draft version holds the change; a submitted one waits for its
// decision and is not changed (Conflict).
func (s *Service) UpdatePlan(ctx context.Context, a policy.Actor, id int64, in PlanInput) (PlanDetail, error) {
	const op = "readiness: update plan"
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		d, err := s.planForWrite(ctx, tx, a, policy.ReadinessWrite, id)
		if err != nil {
			return err
		}
		cur := d.Latest
		if cur.Status == PlanSubmitted {
			return errs.Conflict(op, "readiness.err.plan_submitted")
		}
		c, err := buildContent(ctx, tx, op, d.OrgID, &in)
		if err != nil {
			return err
		}
		if !cur.Editable() && mustJSON(c) == mustJSON(cur.Content) && in.SystemID == d.SystemID {
			return nil // the approved plan saved unchanged: no new version
		}
		if _, err := tx.Exec(ctx, `UPDATE readiness_plans SET title = ?, system_id = ?, updated_at = ? WHERE id = ?`,
			in.Title, store.NullID(in.SystemID), now, id); err != nil {
			return err
		}
		after := cur
		action := "readiness.plan.update"
		if cur.Editable() {
			after.Status, after.Content, after.ReturnReason, after.UpdatedAt = PlanDraft, c, "", now
			if err := setStatus(ctx, tx, cur, cur.Status, `status = ?, content = ?, return_reason = '', updated_at = ?`,
				PlanDraft, mustJSON(c), now); err != nil {
				return err
			}
		} else {
			// Approved or superseded: the approved text stays as it was.
			after = PlanVersion{PlanID: id, Version: cur.Version + 1, Status: PlanDraft, Content: c, CreatedBy: a.Label(),
				CreatedAt: now, UpdatedAt: now}
			if err := insertVersion(ctx, tx, &after); err != nil {
				return err
			}
			action = "readiness.plan.new_version"
		}
		return record(ctx, tx, now, a, d.OrgID, action, "readiness_plan", id,
			map[string]any{"title": d.Title, "system_id": d.SystemID, "version": cur},
			map[string]any{"title": in.Title, "system_id": in.SystemID, "version": after})
	})
	if err != nil {
		return PlanDetail{}, err
	}
	return s.Plan(ctx, a, id)
}

// SubmitPlan sends the latest (draft or returned) version to the approver.
func (s *Service) SubmitPlan(ctx context.Context, a policy.Actor, id int64) (PlanDetail, error) {
	const op = "readiness: submit plan"
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		d, err := s.planForWrite(ctx, tx, a, policy.ReadinessWrite, id)
		if err != nil {
			return err
		}
		cur := d.Latest
		if !cur.Editable() {
			return errs.Conflict(op, "readiness.err.plan_not_draft", cur.Status)
		}
		if err := readyToSubmit(op, cur.Content); err != nil {
			return err
		}
		if err := setStatus(ctx, tx, cur, cur.Status, `status = ?, submitted_at = ?, submitted_by = ?, return_reason = '', updated_at = ?`,
			PlanSubmitted, now, a.Label(), now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, a, d.OrgID, "readiness.plan.submit", "readiness_plan", id,
			map[string]any{"version": cur.Version, "status": cur.Status}, map[string]any{"version": cur.Version, "status": PlanSubmitted}); err != nil {
			return err
		}
		// The approvers: administrators of the organisation and of its parent.
		orgs := []int64{d.OrgID}
		var parent sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT parent_id FROM organisations WHERE id = ?", d.OrgID).Scan(&parent); err != nil {
			return err
		}
		if parent.Valid {
			orgs = append(orgs, parent.Int64)
		}
		return notify.Enqueue(ctx, tx, now, notify.Message{
			Kind:  NotifyPlanSubmitted,
			Key:   fmt.Sprintf("readiness:plan:%d:v%d:submitted:%d", id, cur.Version, now.UnixMicro()),
			Orgs:  orgs,
			Roles: []policy.Role{policy.RoleAdmin},
			// The organisation is not named: its name may be hidden from the
			// recipients of the parent (TLP AMBER+STRICT); the link leads to it.
			Subject: errs.Msg{Key: "readiness.notify.plan_submitted", Args: []any{d.Title}},
			Body:    errs.Msg{Key: "readiness.notify.plan_submitted_body", Args: []any{d.Title, cur.Version}},
			Link:    planLink(d.OrgID, id),
			TLP:     policy.TLPAmber,
		})
	})
	if err != nil {
		return PlanDetail{}, err
	}
	return s.Plan(ctx, a, id)
}

func planLink(orgID, id int64) string { return fmt.Sprintf("/orgs/%d/readiness/plans/%d", orgID, id) }

// ApprovePlan approves the submitted version: it is in force from now, to
// be reviewed in PlanReviewMonths; the version in force before it is
// superseded. title is the approver's title for the signature block.
func (s *Service) ApprovePlan(ctx context.Context, a policy.Actor, id int64, title string) (PlanDetail, error) {
	const op = "readiness: approve plan"
	title = strings.TrimSpace(title)
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		d, err := s.planForWrite(ctx, tx, a, policy.ReadinessPlanApprove, id)
		if err != nil {
			return err
		}
		cur := d.Latest
		if cur.Status != PlanSubmitted {
			return errs.Conflict(op, "readiness.err.plan_not_submitted", cur.Status)
		}
		v := errs.Invalid(op)
		text(v, "approver_title", title, maxLine, false)
		if err := v.OrNil(); err != nil {
			return err
		}
		due := ReviewDue(now)
		if d.InForce != nil {
			if err := setStatus(ctx, tx, *d.InForce, PlanApproved, `status = ?, updated_at = ?`, PlanSuperseded, now); err != nil {
				return err
			}
		}
		if err := setStatus(ctx, tx, cur, PlanSubmitted, `status = ?, decided_at = ?, decided_by = ?, approver_title = ?,
			approver_org_id = ?, review_due = ?, updated_at = ?`, PlanApproved, now, a.Label(), title, store.NullID(a.OrgID), due, now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, a, d.OrgID, "readiness.plan.approve", "readiness_plan", id,
			map[string]any{"version": cur.Version, "status": cur.Status},
			map[string]any{"version": cur.Version, "status": PlanApproved, "review_due": due, "approver_title": title}); err != nil {
			return err
		}
		return s.notifyDecision(ctx, tx, now, d, cur.Version, "readiness.notify.plan_approved", due.In(Local).Format("02/01/2006"))
	})
	if err != nil {
		return PlanDetail{}, err
	}
	return s.Plan(ctx, a, id)
}

// ReturnPlan sends the submitted version back to its authors with the reason.
func (s *Service) ReturnPlan(ctx context.Context, a policy.Actor, id int64, reason string) (PlanDetail, error) {
	const op = "readiness: return plan"
	reason = strings.TrimSpace(reason)
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		d, err := s.planForWrite(ctx, tx, a, policy.ReadinessPlanApprove, id)
		if err != nil {
			return err
		}
		cur := d.Latest
		if cur.Status != PlanSubmitted {
			return errs.Conflict(op, "readiness.err.plan_not_submitted", cur.Status)
		}
		v := errs.Invalid(op)
		text(v, "reason", reason, maxText, true)
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := setStatus(ctx, tx, cur, PlanSubmitted, `status = ?, return_reason = ?, decided_at = ?, decided_by = ?, updated_at = ?`,
			PlanReturned, reason, now, a.Label(), now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, a, d.OrgID, "readiness.plan.return", "readiness_plan", id,
			map[string]any{"version": cur.Version, "status": cur.Status},
			map[string]any{"version": cur.Version, "status": PlanReturned, "reason": reason}); err != nil {
			return err
		}
		return s.notifyDecision(ctx, tx, now, d, cur.Version, "readiness.notify.plan_returned", reason)
	})
	if err != nil {
		return PlanDetail{}, err
	}
	return s.Plan(ctx, a, id)
}

func (s *Service) notifyDecision(ctx context.Context, tx *store.Tx, now time.Time, d PlanDetail, version int, key string, arg string) error {
	return notify.Enqueue(ctx, tx, now, notify.Message{
		Kind:    NotifyPlanDecided,
		Key:     fmt.Sprintf("readiness:plan:%d:v%d:%s:%d", d.ID, version, key, now.UnixMicro()),
		Orgs:    []int64{d.OrgID},
		Roles:   []policy.Role{policy.RoleAdmin, policy.RoleCoordinator},
		Subject: errs.Msg{Key: key, Args: []any{d.Title, version}},
		Body:    errs.Msg{Key: key + "_body", Args: []any{d.Title, version, arg}},
		Link:    planLink(d.OrgID, d.ID),
		TLP:     policy.TLPAmber,
	})
}

// DeletePlan removes a plan that was never approved; an approved plan is a
// record and stays (Conflict).
func (s *Service) DeletePlan(ctx context.Context, a policy.Actor, id int64) error {
	const op = "readiness: delete plan"
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		d, err := s.planForWrite(ctx, tx, a, policy.ReadinessWrite, id)
		if err != nil {
			return err
		}
		for _, v := range d.Versions {
			if v.Status == PlanApproved || v.Status == PlanSuperseded {
				return errs.Conflict(op, "readiness.err.plan_approved_kept")
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM readiness_plan_versions WHERE plan_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM readiness_plans WHERE id = ?", id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, d.OrgID, "readiness.plan.delete", "readiness_plan", id, d, nil)
	})
}

// remindPlans tells each organisation's administrators and coordinators
// about plans whose version in force is due for review within
// PlanReviewWarning, and again once it is past its date. Idempotent: one
// message per version and state.
func (s *Service) remindPlans(ctx context.Context, now time.Time) (int, error) {
	ps, err := s.PlansToReview(ctx, policy.SystemActor("readiness reminders"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		st := p.Review(now)
		if st != ReviewDueSoon && st != ReviewOverdue {
			continue
		}
		due := p.InForce.ReviewDue.In(Local).Format("02/01/2006")
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			return notify.Enqueue(ctx, tx, now, notify.Message{
				Kind:    NotifyPlanReview,
				Key:     fmt.Sprintf("readiness:plan:%d:v%d:review:%s", p.ID, p.InForce.Version, st),
				Orgs:    []int64{p.OrgID},
				Roles:   []policy.Role{policy.RoleAdmin, policy.RoleCoordinator},
				Subject: errs.Msg{Key: "readiness.notify.plan_review_" + st, Args: []any{p.Title}},
				Body:    errs.Msg{Key: "readiness.notify.plan_review_body", Args: []any{p.Title, p.InForce.Version, due}},
				Link:    planLink(p.OrgID, p.ID),
				TLP:     policy.TLPAmber,
			})
		})
		if err != nil {
			return n, errs.Internal("readiness: remind plans", err)
		}
		n++
	}
	return n, nil
}

// PlanChoices is what a plan of an organisation may name, for its form.
type PlanChoices struct {
	Scenarios []Scenario    `json:"scenarios"`
	People    []PlanRef     `json:"people"`
	Teams     []PlanRef     `json:"teams"`
	Systems   []PlanRef     `json:"systems"`
	Contacts  []PlanContact `json:"contacts"`
}

// PlanChoices lists the organisation's scenarios (highest priority first),
// the people of the organisation and of its teams, its teams, the systems it
// owns or operates and its contact points.
func (s *Service) PlanChoices(ctx context.Context, a policy.Actor, orgID int64) (PlanChoices, error) {
	const op = "readiness: plan choices"
	var c PlanChoices
	var err error
	if c.Scenarios, err = s.Scenarios(ctx, a, orgID); err != nil {
		return c, err
	}
	refs := func(q string, args ...any) ([]PlanRef, error) {
		rows, err := s.DB.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []PlanRef
		for rows.Next() {
			var r PlanRef
			if err := rows.Scan(&r.ID, &r.Name); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}
	if c.People, err = refs(planPeople+` ORDER BY p.full_name, p.id`, orgID, orgID); err != nil {
		return c, errs.Internal(op, err)
	}
	if c.Teams, err = refs(`SELECT id, name FROM readiness_teams WHERE org_id = ? ORDER BY name, id`, orgID); err != nil {
		return c, errs.Internal(op, err)
	}
	if c.Systems, err = refs(planSystems+` ORDER BY name, id`, orgID, orgID); err != nil {
		return c, errs.Internal(op, err)
	}
	rows, err := s.DB.Query(ctx, `SELECT id, kind, name, title, email, phone, phone_247 FROM contacts WHERE org_id = ? ORDER BY id`, orgID)
	if err != nil {
		return c, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var x PlanContact
		if err := rows.Scan(&x.ID, &x.Kind, &x.Name, &x.Title, &x.Email, &x.Phone, &x.Phone247); err != nil {
			return c, errs.Internal(op, err)
		}
		c.Contacts = append(c.Contacts, x)
	}
	return c, store.Wrap(op, rows.Err())
}
