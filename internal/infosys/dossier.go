package infosys

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Dossier statuses. A returned dossier goes back to draft with the comments.
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusAppraised = "appraised"
	StatusApproved  = "approved"
	EventReturned   = "returned"
)

// PlanSections are the sections of the security plan (TT 12/2022).
var PlanSections = []string{"design_build", "operation", "testing", "risk", "monitoring", "contingency", "decommissioning"}

// Dossier is a level dossier (hồ sơ đề xuất cấp độ).
type Dossier struct {
	ID            int64             `json:"id"`
	SystemID      int64             `json:"system_id"`
	Status        string            `json:"status"`
	ProposedLevel int               `json:"proposed_level"`
	ComputedLevel int               `json:"computed_level"`
	Answers       Answers           `json:"answers"`
	Reasons       []Reason          `json:"reasons"`
	Justification string            `json:"justification"`
	Overview      string            `json:"overview"`
	Design        string            `json:"design"`
	Plan          map[string]string `json:"security_plan"`
	ExpertOpinion string            `json:"expert_opinion"`
	Comments      string            `json:"comments"`
	DecisionRef   string            `json:"decision_ref"`
	SubmittedAt   time.Time         `json:"submitted_at,omitzero"`
	AppraisalDue  time.Time         `json:"appraisal_due,omitzero"`
	AppraisedAt   time.Time         `json:"appraised_at,omitzero"`
	ApprovalDue   time.Time         `json:"approval_due,omitzero"`
	DecidedAt     time.Time         `json:"decided_at,omitzero"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// AppraisalLate reports whether the appraisal is past its legal deadline
// (still waiting at now, or done after it).
func (d Dossier) AppraisalLate(now time.Time) bool {
	if d.AppraisalDue.IsZero() {
		return false
	}
	if !d.AppraisedAt.IsZero() {
		return d.AppraisedAt.After(d.AppraisalDue)
	}
	return d.Status == StatusSubmitted && now.After(d.AppraisalDue)
}

// ApprovalLate reports whether the approval is past 7 working days.
func (d Dossier) ApprovalLate(now time.Time) bool {
	if d.ApprovalDue.IsZero() {
		return false
	}
	if d.Status == StatusApproved {
		return d.DecidedAt.After(d.ApprovalDue)
	}
	return d.Status == StatusAppraised && now.After(d.ApprovalDue)
}

// DossierInput is the draft's content.
type DossierInput struct {
	ProposedLevel int               `json:"proposed_level"`
	Answers       Answers           `json:"answers"`
	Justification string            `json:"justification"`
	Overview      string            `json:"overview"`
	Design        string            `json:"design"`
	Plan          map[string]string `json:"security_plan"`
	ExpertOpinion string            `json:"expert_opinion"`
}

// Event is one step of a dossier's history.
type Event struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Comment string    `json:"comment"`
}

// AppraisalDays is the legal appraisal time in calendar days by level
// (0: no legal deadline).
func AppraisalDays(level int) int {
	switch {
	case level == 3:
		return 15
	case level >= 4:
		return 30
	}
	return 0
}

// ApprovalWorkingDays is the time to approve after the appraisal.
const ApprovalWorkingDays = 7

func validateDossier(in *DossierInput) (int, []Reason, error) {
	v := errs.Invalid("infosys: dossier")
	in.Answers.Validate(v)
	computed, reasons := Propose(in.Answers)
	if in.ProposedLevel == 0 {
		in.ProposedLevel = computed
	}
	if in.ProposedLevel < 1 || in.ProposedLevel > 5 {
		v.Field("proposed_level", "infosys.err.level")
	} else if in.ProposedLevel != computed && utf8.RuneCountInString(strings.TrimSpace(in.Justification)) < minJustifyRunes {
		v.Field("justification", "infosys.err.justify", computed, minJustifyRunes)
	}
	text(v, "justification", in.Justification, maxText, false)
	text(v, "overview", in.Overview, maxText, false)
	text(v, "design", in.Design, maxText, false)
	text(v, "expert_opinion", in.ExpertOpinion, maxText, false)
	plan := map[string]string{}
	for k, s := range in.Plan {
		if !slices.Contains(PlanSections, k) {
			v.Field("plan_"+k, "field.invalid_choice")
			continue
		}
		text(v, "plan_"+k, s, maxText, false)
		if s = strings.TrimSpace(s); s != "" {
			plan[k] = s
		}
	}
	in.Plan = plan
	return computed, reasons, v.OrNil()
}

const dossierCols = `d.id, d.system_id, d.status, d.proposed_level, d.computed_level, d.answers, d.reasons, d.justification,
	d.overview, d.design, d.security_plan, d.expert_opinion, d.comments, d.decision_ref, d.submitted_at, d.appraisal_due,
	d.appraised_at, d.approval_due, d.decided_at, d.created_at, d.updated_at`

func scanDossier(r scanner) (Dossier, error) {
	var d Dossier
	var answers, reasons, plan string
	var sub, adue, aat, pdue, dec sql.NullTime
	err := r.Scan(&d.ID, &d.SystemID, &d.Status, &d.ProposedLevel, &d.ComputedLevel, &answers, &reasons, &d.Justification,
		&d.Overview, &d.Design, &plan, &d.ExpertOpinion, &d.Comments, &d.DecisionRef, &sub, &adue, &aat, &pdue, &dec,
		&d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return d, err
	}
	_ = json.Unmarshal([]byte(answers), &d.Answers)
	_ = json.Unmarshal([]byte(reasons), &d.Reasons)
	d.Plan = map[string]string{}
	_ = json.Unmarshal([]byte(plan), &d.Plan)
	d.SubmittedAt, d.AppraisalDue, d.AppraisedAt, d.ApprovalDue, d.DecidedAt = store.TimeOf(sub), store.TimeOf(adue), store.TimeOf(aat), store.TimeOf(pdue), store.TimeOf(dec)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func getDossier(ctx context.Context, q store.Q, id int64) (Dossier, error) {
	return scanDossier(q.QueryRow(ctx, "SELECT "+dossierCols+" FROM infosys_dossiers d WHERE d.id = ?", id))
}

// dossiers lists a system's dossiers, newest first (the re-classification
// history: every approved one is a level the system held); the caller has
// checked the system.
func (s *Service) dossiers(ctx context.Context, systemID int64) ([]Dossier, error) {
	const op = "infosys: dossiers"
	rows, err := s.DB.Query(ctx, "SELECT "+dossierCols+" FROM infosys_dossiers d WHERE d.system_id = ? ORDER BY d.id DESC", systemID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Dossier
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// Detail returns a system the actor may see with its dossiers (newest
// first) and its obligations (overdue first): the system's page, checked
// and read once.
func (s *Service) Detail(ctx context.Context, a policy.Actor, id int64) (System, []Dossier, []Due, error) {
	sys, err := s.System(ctx, a, id)
	if err != nil {
		return sys, nil, nil, err
	}
	ds, err := s.dossiers(ctx, id)
	if err != nil {
		return sys, nil, nil, err
	}
	due, err := s.schedules(ctx, a, "infosys: schedules", "s.id = ?", id)
	return sys, ds, due, err
}

// Dossier returns one dossier with its system and history.
func (s *Service) Dossier(ctx context.Context, a policy.Actor, id int64) (Dossier, System, []Event, error) {
	const op = "infosys: dossier"
	d, err := getDossier(ctx, s.DB, id)
	if err != nil {
		return d, System{}, nil, store.Wrap(op, err)
	}
	sys, err := s.System(ctx, a, d.SystemID)
	if err != nil {
		return d, sys, nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT at, actor, from_status, to_status, comment FROM infosys_dossier_events WHERE dossier_id = ? ORDER BY id", id)
	if err != nil {
		return d, sys, nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.Actor, &e.From, &e.To, &e.Comment); err != nil {
			return d, sys, nil, errs.Internal(op, err)
		}
		e.At = e.At.UTC()
		evs = append(evs, e)
	}
	return d, sys, evs, rows.Err()
}

// SaveDossier creates a draft for the system (id 0) or changes a draft.
// A system has at most one dossier in progress.
func (s *Service) SaveDossier(ctx context.Context, a policy.Actor, systemID, id int64, in DossierInput) (Dossier, error) {
	const op = "infosys: save dossier"
	var out Dossier
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if id != 0 {
			d, err := getDossier(ctx, tx, id)
			if err != nil {
				return err
			}
			systemID = d.SystemID
			out = d
		}
		sys, err := getSystem(ctx, tx, systemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		if id != 0 && out.Status != StatusDraft {
			return errs.Conflict(op, "infosys.err.not_draft")
		}
		computed, reasons, err := validateDossier(&in)
		if err != nil {
			return err
		}
		if id == 0 {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_dossiers WHERE system_id = ? AND status <> ?", systemID, StatusApproved).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errs.Conflict(op, "infosys.err.open_dossier")
			}
			err = tx.QueryRow(ctx, `INSERT INTO infosys_dossiers (system_id, status, proposed_level, computed_level, answers, reasons,
				justification, overview, design, security_plan, expert_opinion, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, systemID, StatusDraft, in.ProposedLevel, computed,
				mustJSON(in.Answers), mustJSON(reasons), in.Justification, in.Overview, in.Design, mustJSON(in.Plan),
				in.ExpertOpinion, store.NullID(a.UserID), now, now).Scan(&id)
		} else {
			_, err = tx.Exec(ctx, `UPDATE infosys_dossiers SET proposed_level = ?, computed_level = ?, answers = ?, reasons = ?,
				justification = ?, overview = ?, design = ?, security_plan = ?, expert_opinion = ?, updated_at = ? WHERE id = ?`,
				in.ProposedLevel, computed, mustJSON(in.Answers), mustJSON(reasons), in.Justification, in.Overview, in.Design,
				mustJSON(in.Plan), in.ExpertOpinion, now, id)
		}
		if err != nil {
			return err
		}
		before := out
		if out, err = getDossier(ctx, tx, id); err != nil {
			return err
		}
		var b any
		if before.ID != 0 {
			b = before
		}
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.dossier.save", "infosys_dossier", id, b, out)
	})
	return out, err
}

// Step names a move of the workflow.
type Step string

const (
	StepSubmit   Step = "submit"
	StepAppraise Step = "appraise"
	StepApprove  Step = "approve"
	StepReturn   Step = "return"
)

// Steps lists the steps.
var Steps = []Step{StepSubmit, StepAppraise, StepApprove, StepReturn}

// authority returns the action the actor needs for a step on a dossier of
// the level: levels 1–3 are appraised by the owner's security unit, 4–5 by
// the national authority; levels 1–4 are approved by the owner, level 5 on
// the Prime Minister's decision recorded by the national coordinator.
func authority(step Step, status string, level int) policy.Action {
	if step == StepReturn {
		if status == StatusAppraised {
			step = StepApprove
		} else {
			step = StepAppraise
		}
	}
	switch step {
	case StepAppraise:
		if level >= 4 {
			return policy.InfosysAppraiseNational
		}
		return policy.InfosysAppraise
	case StepApprove:
		if level >= 5 {
			return policy.InfosysApproveNational
		}
		return policy.InfosysApprove
	}
	return policy.InfosysWrite
}

// Move takes a dossier one step: submit (draft → submitted), appraise
// (submitted → appraised), approve (appraised → approved; the system's
// level changes, the earlier one stays in the history) or return
// (submitted or appraised → draft, with the comment, which is required);
// any other step is invalid.
// decisionRef is the approval decision's number and symbol (required for
// level 5).
func (s *Service) Move(ctx context.Context, a policy.Actor, id int64, step Step, comment, decisionRef string) (Dossier, error) {
	op := "infosys: dossier " + string(step)
	comment, decisionRef = strings.TrimSpace(comment), strings.TrimSpace(decisionRef)
	var out Dossier
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		d, err := getDossier(ctx, tx, id)
		if err != nil {
			return err
		}
		sys, err := getSystem(ctx, tx, d.SystemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		if !slices.Contains(Steps, step) {
			return errs.Invalid(op).Field("step", "field.invalid_choice")
		}
		if err := check(a, authority(step, d.Status, d.ProposedLevel), sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		text(v, "comment", comment, maxText, step == StepReturn)
		text(v, "decision_ref", decisionRef, maxName, step == StepApprove && d.ProposedLevel >= 5)
		if err := v.OrNil(); err != nil {
			return err
		}
		from, to, event := d.Status, "", ""
		switch {
		case step == StepSubmit && from == StatusDraft:
			v := errs.Invalid(op)
			text(v, "overview", d.Overview, maxText, true)
			text(v, "design", d.Design, maxText, true)
			for _, k := range PlanSections {
				text(v, "plan_"+k, d.Plan[k], maxText, true)
			}
			if d.ProposedLevel >= 4 {
				text(v, "expert_opinion", d.ExpertOpinion, maxText, true)
			}
			if err := v.OrNil(); err != nil {
				return err
			}
			to, event = StatusSubmitted, StatusSubmitted
			var due any
			if days := AppraisalDays(d.ProposedLevel); days > 0 {
				due = now.AddDate(0, 0, days)
			}
			_, err = tx.Exec(ctx, `UPDATE infosys_dossiers SET status = ?, submitted_at = ?, appraisal_due = ?, appraised_at = NULL,
				approval_due = NULL, updated_at = ? WHERE id = ?`, to, now, due, now, id)
		case step == StepAppraise && from == StatusSubmitted:
			to, event = StatusAppraised, StatusAppraised
			due, derr := AddWorkingDays(ctx, tx, now, ApprovalWorkingDays)
			if derr != nil {
				return derr
			}
			_, err = tx.Exec(ctx, "UPDATE infosys_dossiers SET status = ?, appraised_at = ?, approval_due = ?, comments = ?, updated_at = ? WHERE id = ?",
				to, now, due, comment, now, id)
		case step == StepApprove && from == StatusAppraised:
			to, event = StatusApproved, StatusApproved
			if _, err = tx.Exec(ctx, "UPDATE infosys_dossiers SET status = ?, decided_at = ?, decision_ref = ?, updated_at = ? WHERE id = ?",
				to, now, decisionRef, now, id); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "UPDATE infosys_systems SET level = ?, level_approved_on = ?, updated_at = ? WHERE id = ?",
				d.ProposedLevel, now, now, sys.ID)
		case step == StepReturn && (from == StatusSubmitted || from == StatusAppraised):
			to, event = StatusDraft, EventReturned
			_, err = tx.Exec(ctx, `UPDATE infosys_dossiers SET status = ?, comments = ?, submitted_at = NULL, appraisal_due = NULL,
				appraised_at = NULL, approval_due = NULL, updated_at = ? WHERE id = ?`, to, comment, now, id)
		default:
			return errs.Conflict(op, "infosys.err.step", string(step), from)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO infosys_dossier_events (dossier_id, at, actor, from_status, to_status, comment) VALUES (?, ?, ?, ?, ?, ?)",
			id, now, a.Label(), from, event, comment); err != nil {
			return err
		}
		if out, err = getDossier(ctx, tx, id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.dossier."+string(step), "infosys_dossier", id, d, out)
	})
	return out, err
}

// Waiting is a dossier waiting for the actor's appraisal or approval.
type Waiting struct {
	Dossier
	SystemName string `json:"system_name"`
	Step       Step   `json:"step"`
	Due        time.Time
}

// Waiting lists the dossiers in scope the actor has the authority to
// appraise or approve now ("what needs me now"), at most limit.
func (s *Service) Waiting(ctx context.Context, a policy.Actor, limit int) ([]Waiting, error) {
	const op = "infosys: waiting"
	where, args := scopeWhere(a)
	rows, err := s.DB.Query(ctx, "SELECT "+dossierCols+", s.name, s.owner_org_id, s.operator_org_id FROM infosys_dossiers d JOIN infosys_systems s ON s.id = d.system_id WHERE d.status IN (?, ?) AND "+
		where+" ORDER BY d.id LIMIT 500", append([]any{StatusSubmitted, StatusAppraised}, args...)...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Waiting
	for rows.Next() {
		var name string
		var owner int64
		var oper sql.NullInt64
		d, err := scanDossier(extra{rows, []any{&name, &owner, &oper}})
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		step, due := StepAppraise, d.AppraisalDue
		if d.Status == StatusAppraised {
			step, due = StepApprove, d.ApprovalDue
		}
		if policy.Check(a, authority(step, d.Status, d.ProposedLevel), resource(owner, oper.Int64)) != nil {
			continue
		}
		out = append(out, Waiting{Dossier: d, SystemName: name, Step: step, Due: due})
		if len(out) >= limit {
			return out, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}
