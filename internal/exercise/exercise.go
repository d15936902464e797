// Package exercise runs a planned drill (internal/readiness) on certnet
// itself: the organiser builds injects from the drill's scenario, starts
// the exercise, a job delivers each inject at its time as an incident
// marked with the exercise (kept out of real lists, counts and e-mail),
// and the after-action report measures each participant's times to
// acknowledge, act, report and close from the incidents' own timestamps.
package exercise

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/intel"
	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/store"
)

// JobDeliver is the jobs.Runner name of the inject delivery.
const JobDeliver = "exercise.deliver"

// Statuses of an exercise.
const (
	StatusDraft   = "draft"
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// Inject kinds: an incident report affecting the participant; a
// coordination order from the organiser to the participant (on an exercise
// incident of the organiser's, which the order names); an advisory from
// the organiser to the participant. All are marked with the exercise.
const (
	KindIncident = "incident"
	KindOrder    = "order"
	KindAdvisory = "advisory"
)

// Kinds lists the inject kinds, for forms.
var Kinds = []string{KindIncident, KindOrder, KindAdvisory}

// AnswerPeriod is how long after its delivery an injected order or
// advisory is due (its deadline).
const AnswerPeriod = 24 * time.Hour

// Note kinds of the after-action report.
const (
	NoteLesson = "lesson"
	NoteAction = "action"
)

// Limits.
const (
	maxLine    = 200
	maxText    = 5000
	maxInjects = 200
)

// Service runs exercises.
type Service struct {
	DB     *store.DB
	Inc    *incident.Service
	Drills *readiness.Service
	// Coord and Intel deliver order and advisory injects (nil: those
	// kinds are refused).
	Coord *coord.Service
	Intel *intel.Service
	Now   func() time.Time
	Log   *slog.Logger
}

// NewService returns the service.
func NewService(db *store.DB, inc *incident.Service, drills *readiness.Service, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{DB: db, Inc: inc, Drills: drills, Now: now, Log: log}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Exercise is one run of a drill.
type Exercise struct {
	ID        int64     `json:"id"`
	DrillID   int64     `json:"drill_id"`
	OrgID     int64     `json:"org_id"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at,omitzero"`
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Participants are the drill's participant organisations.
	Participants []int64 `json:"participants"`
}

// Inject is one scheduled message of the exercise.
type Inject struct {
	ID          int64     `json:"id"`
	ExerciseID  int64     `json:"exercise_id"`
	Offset      int       `json:"offset_minutes"`
	Kind        string    `json:"kind"`
	TargetOrgID int64     `json:"target_org_id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	DueAt       time.Time `json:"due_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	IncidentID  int64     `json:"incident_id,omitempty"`
	// OrderID, AdvisoryID: what an order or advisory inject delivered
	// (an order's IncidentID is the organiser's incident it is on).
	OrderID    int64 `json:"order_id,omitempty"`
	AdvisoryID int64 `json:"advisory_id,omitempty"`
}

// InjectInput is a new inject.
type InjectInput struct {
	Offset      int
	Kind        string
	TargetOrgID int64
	Title       string
	Description string
	Type        string
	Severity    string
}

// Note is a lesson or an open action of the after-action report.
type Note struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body"`
	Owner     string    `json:"owner,omitempty"`
	DueOn     time.Time `json:"due_on,omitzero"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func resource(orgID int64) policy.Resource {
	return policy.Resource{OwnerOrg: orgID, TLP: policy.TLPAmber}
}

// mayRead: the organiser's or a participant's people (and those above).
func mayRead(a policy.Actor, e Exercise) bool {
	for _, o := range append([]int64{e.OrgID}, e.Participants...) {
		if policy.Check(a, policy.ExerciseRead, resource(o)) == nil {
			return true
		}
	}
	return false
}

func run(a policy.Actor, e Exercise) error {
	if !mayRead(a, e) {
		return errs.NotFound("exercise")
	}
	err := policy.Check(a, policy.ExerciseRun, resource(e.OrgID))
	if errs.Is(err, errs.KindNotFound) {
		return errs.Forbidden("exercise") // a participant sees it but does not run it
	}
	return err
}

const exCols = `e.id, e.drill_id, e.org_id, e.title, e.status, e.started_at, e.stopped_at, e.created_at, e.updated_at`

func scanExercise(sc interface{ Scan(...any) error }) (Exercise, error) {
	var e Exercise
	var st, sp sql.NullTime
	if err := sc.Scan(&e.ID, &e.DrillID, &e.OrgID, &e.Title, &e.Status, &st, &sp, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return e, err
	}
	e.StartedAt, e.StoppedAt = store.TimeOf(st), store.TimeOf(sp)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, nil
}

func participants(ctx context.Context, q store.Q, drillID int64) ([]int64, error) {
	return store.IDs(ctx, q, "SELECT org_id FROM readiness_drill_participants WHERE drill_id = ? ORDER BY org_id", drillID)
}

func load(ctx context.Context, q store.Q, id int64) (Exercise, error) {
	e, err := scanExercise(q.QueryRow(ctx, "SELECT "+exCols+" FROM exercises e WHERE e.id = ?", id))
	if store.IsNoRows(err) {
		return e, errs.NotFound("exercise")
	}
	if err != nil {
		return e, err
	}
	e.Participants, err = participants(ctx, q, e.DrillID)
	return e, err
}

func (s *Service) tx(ctx context.Context, op string, fn func(tx *store.Tx, now time.Time) error) error {
	now := s.now()
	return errs.Ensure(op, s.DB.InTx(ctx, func(tx *store.Tx) error { return fn(tx, now) }))
}

func record(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, org int64, action string, id int64, before, after any) error {
	return audit.Record(ctx, tx, now, a, audit.Change{OrgID: org, Action: action, Entity: "exercise", EntityID: fmt.Sprint(id),
		Before: before, After: after})
}

// Create opens a draft exercise of a drill the actor organises.
func (s *Service) Create(ctx context.Context, a policy.Actor, drillID int64, title string) (Exercise, error) {
	const op = "exercise: create"
	d, err := s.Drills.Drill(ctx, a, drillID)
	if err != nil {
		return Exercise{}, err
	}
	if err := policy.Check(a, policy.ExerciseRun, resource(d.OrgID)); err != nil {
		return Exercise{}, err
	}
	title = strings.TrimSpace(title)
	if title == "" {
		title = d.Title
	}
	v := errs.Invalid(op)
	if len([]rune(title)) > maxLine {
		v.Field("title", "field.too_long", maxLine)
	}
	if d.Status == readiness.DrillCancelled {
		v.Field("drill_id", "exercise.err.drill_cancelled")
	}
	if len(d.Participants) == 0 {
		v.Field("drill_id", "exercise.err.no_participants")
	}
	if err := v.OrNil(); err != nil {
		return Exercise{}, err
	}
	var out Exercise
	err = s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		out = Exercise{DrillID: d.ID, OrgID: d.OrgID, Title: title, Status: StatusDraft, CreatedAt: now, UpdatedAt: now,
			Participants: d.Participants}
		if err := tx.QueryRow(ctx, `INSERT INTO exercises (drill_id, org_id, title, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, out.DrillID, out.OrgID, out.Title, out.Status, now, now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, out.OrgID, "exercise.create", out.ID, nil, out)
	})
	return out, err
}

// Get returns the exercise and its injects, by time.
func (s *Service) Get(ctx context.Context, a policy.Actor, id int64) (Exercise, []Inject, error) {
	const op = "exercise: get"
	e, err := load(ctx, s.DB, id)
	if err != nil {
		return e, nil, errs.Ensure(op, err)
	}
	if !mayRead(a, e) {
		return Exercise{}, nil, errs.NotFound(op)
	}
	injs, err := injects(ctx, s.DB, "i.exercise_id = ?", id)
	return e, injs, errs.Ensure(op, err)
}

// List lists the exercises of a drill the actor may read.
func (s *Service) List(ctx context.Context, a policy.Actor, drillID int64) ([]Exercise, error) {
	const op = "exercise: list"
	rows, err := s.DB.Query(ctx, "SELECT "+exCols+" FROM exercises e WHERE e.drill_id = ? ORDER BY e.id", drillID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var all []Exercise
	for rows.Next() {
		e, err := scanExercise(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		all = append(all, e)
	}
	rows.Close()
	out := []Exercise{}
	for _, e := range all {
		if e.Participants, err = participants(ctx, s.DB, e.DrillID); err != nil {
			return nil, errs.Internal(op, err)
		}
		if mayRead(a, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

const injCols = `i.id, i.exercise_id, i.offset_minutes, i.kind, i.target_org_id, i.title, i.description, i.type, i.severity,
	i.due_at, i.delivered_at, COALESCE(i.incident_id, 0), COALESCE(i.order_id, 0), COALESCE(i.advisory_id, 0)`

func injects(ctx context.Context, q store.Q, where string, args ...any) ([]Inject, error) {
	rows, err := q.Query(ctx, "SELECT "+injCols+" FROM exercise_injects i WHERE "+where+" ORDER BY i.offset_minutes, i.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Inject{}
	for rows.Next() {
		var in Inject
		var due, del sql.NullTime
		if err := rows.Scan(&in.ID, &in.ExerciseID, &in.Offset, &in.Kind, &in.TargetOrgID, &in.Title, &in.Description, &in.Type,
			&in.Severity, &due, &del, &in.IncidentID, &in.OrderID, &in.AdvisoryID); err != nil {
			return nil, err
		}
		in.DueAt, in.DeliveredAt = store.TimeOf(due), store.TimeOf(del)
		out = append(out, in)
	}
	return out, rows.Err()
}

// AddInject schedules an inject at Offset minutes after the start, to a
// participant. Refused when the exercise is stopped, when the target is not
// a participant, or when the offset falls outside the drill's window.
func (s *Service) AddInject(ctx context.Context, a policy.Actor, exerciseID int64, in InjectInput) (Inject, error) {
	const op = "exercise: add inject"
	in.Title, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description)
	if in.Kind == "" {
		in.Kind = KindIncident
	}
	if in.Severity == "" {
		in.Severity = string(incident.SeverityMedium)
	}
	var out Inject
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		e, err := load(ctx, tx, exerciseID)
		if err != nil {
			return err
		}
		if err := run(a, e); err != nil {
			return err
		}
		d, err := s.Drills.Drill(ctx, a, e.DrillID)
		if err != nil {
			return err
		}
		v := errs.Invalid(op)
		if e.Status == StatusStopped {
			return errs.Conflict(op, "exercise.err.status_stopped")
		}
		if !slices.Contains(Kinds, in.Kind) {
			v.Field("kind", "field.invalid_choice")
		}
		if !slices.Contains(e.Participants, in.TargetOrgID) {
			v.Field("target_org_id", "exercise.err.not_participant")
		}
		window := int(d.EndsOn.AddDate(0, 0, 1).Sub(d.StartsOn) / time.Minute)
		if in.Offset < 0 || in.Offset >= window {
			v.Field("offset_minutes", "exercise.err.outside_window", window)
		}
		if in.Title == "" {
			v.Field("title", "field.required")
		} else if len([]rune(in.Title)) > maxLine {
			v.Field("title", "field.too_long", maxLine)
		}
		if in.Description == "" {
			v.Field("description", "field.required")
		} else if len([]rune(in.Description)) > maxText {
			v.Field("description", "field.too_long", maxText)
		}
		if in.Kind == KindAdvisory {
			in.Type = "" // an advisory has no incident type
		} else if !incident.Type(in.Type).Valid() {
			v.Field("type", "field.invalid_choice")
		}
		if err := s.checkKind(ctx, e.OrgID, in.Kind, v); err != nil {
			return err
		}
		if !incident.Severity(in.Severity).Valid() {
			v.Field("severity", "field.invalid_choice")
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM exercise_injects WHERE exercise_id = ?", e.ID).Scan(&n); err != nil {
			return err
		}
		if n >= maxInjects {
			v.Field("offset_minutes", "exercise.err.too_many", maxInjects)
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Inject{ExerciseID: e.ID, Offset: in.Offset, Kind: in.Kind, TargetOrgID: in.TargetOrgID, Title: in.Title,
			Description: in.Description, Type: in.Type, Severity: in.Severity}
		if e.Status == StatusRunning {
			out.DueAt = e.StartedAt.Add(time.Duration(in.Offset) * time.Minute)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO exercise_injects (exercise_id, offset_minutes, kind, target_org_id, title, description,
			type, severity, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, out.ExerciseID, out.Offset, out.Kind,
			out.TargetOrgID, out.Title, out.Description, out.Type, out.Severity, store.NullTime(out.DueAt), now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, e.OrgID, "exercise.inject.add", e.ID, nil, out)
	})
	return out, err
}

// Start starts a draft exercise: every inject falls due at start + offset.
func (s *Service) Start(ctx context.Context, a policy.Actor, id int64) (Exercise, error) {
	return s.move(ctx, a, id, "exercise: start", StatusDraft, StatusRunning)
}

// Stop stops a running exercise: injects not yet delivered never are.
func (s *Service) Stop(ctx context.Context, a policy.Actor, id int64) (Exercise, error) {
	return s.move(ctx, a, id, "exercise: stop", StatusRunning, StatusStopped)
}

func (s *Service) move(ctx context.Context, a policy.Actor, id int64, op, from, to string) (Exercise, error) {
	var out Exercise
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		e, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := run(a, e); err != nil {
			return err
		}
		if e.Status != from {
			return errs.Conflict(op, "exercise.err.status_"+e.Status)
		}
		before := e
		e.Status, e.UpdatedAt = to, now
		if to == StatusRunning {
			e.StartedAt = now
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM exercise_injects WHERE exercise_id = ?", id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errs.Invalid(op).Field("injects", "exercise.err.no_injects")
			}
			var email, phone string
			if err := tx.QueryRow(ctx, "SELECT intake_email, intake_phone FROM organisations WHERE id = ?", e.OrgID).
				Scan(&email, &phone); err != nil {
				return err
			}
			if email == "" && phone == "" { // the injected reports name the organiser as their contact
				return errs.Invalid(op).Field("org_id", "exercise.err.no_contact")
			}
			rows, err := injects(ctx, tx, "i.exercise_id = ?", id)
			if err != nil {
				return err
			}
			for _, in := range rows {
				if _, err := tx.Exec(ctx, "UPDATE exercise_injects SET due_at = ? WHERE id = ?",
					now.Add(time.Duration(in.Offset)*time.Minute), in.ID); err != nil {
					return err
				}
			}
		} else {
			e.StoppedAt = now
		}
		res, err := tx.Exec(ctx, "UPDATE exercises SET status = ?, started_at = ?, stopped_at = ?, updated_at = ? WHERE id = ? AND status = ?",
			e.Status, store.NullTime(e.StartedAt), store.NullTime(e.StoppedAt), now, id, from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "exercise.err.changed")
		}
		out = e
		return record(ctx, tx, now, a, e.OrgID, "exercise."+strings.TrimPrefix(op, "exercise: "), id, before, e)
	})
	return out, err
}

// Deliver delivers the injects of running exercises that have fallen due
// (deliver.go: an incident, an order or an advisory, each marked with the
// exercise) and marks each delivered in the same transaction (a second
// run, or another node, finds it delivered and does nothing). It returns
// how many it delivered.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	const op = "exercise: deliver"
	now := s.now()
	due, err := injects(ctx, s.DB, `i.delivered_at IS NULL AND i.due_at IS NOT NULL AND i.due_at <= ?
		AND i.exercise_id IN (SELECT id FROM exercises WHERE status = ?)`, now, StatusRunning)
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	n := 0
	for _, in := range due {
		e, err := load(ctx, s.DB, in.ExerciseID)
		if err != nil {
			return n, errs.Ensure(op, err)
		}
		switch in.Kind {
		case KindOrder:
			err = s.deliverOrder(ctx, e, in)
		case KindAdvisory:
			err = s.deliverAdvisory(ctx, e, in)
		default:
			_, err = s.deliverIncident(ctx, e, in, in.TargetOrgID, true)
		}
		if errs.Is(err, errs.KindConflict) {
			continue
		}
		if err != nil {
			s.Log.Warn("exercise inject not delivered", "inject", in.ID, "kind", in.Kind, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// AddNote writes a lesson (kind lesson) or an open action with an owner and
// a due date (kind action) on the after-action report.
func (s *Service) AddNote(ctx context.Context, a policy.Actor, exerciseID int64, kind, body, owner string, dueOn time.Time) (Note, error) {
	const op = "exercise: add note"
	body, owner = strings.TrimSpace(body), strings.TrimSpace(owner)
	var out Note
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		e, err := load(ctx, tx, exerciseID)
		if err != nil {
			return err
		}
		if err := run(a, e); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if kind != NoteLesson && kind != NoteAction {
			v.Field("kind", "field.invalid_choice")
		}
		if body == "" {
			v.Field("body", "field.required")
		} else if len([]rune(body)) > maxText {
			v.Field("body", "field.too_long", maxText)
		}
		if len([]rune(owner)) > maxLine {
			v.Field("owner", "field.too_long", maxLine)
		}
		if kind == NoteAction {
			if owner == "" {
				v.Field("owner", "field.required")
			}
			if dueOn.IsZero() {
				v.Field("due_on", "field.required")
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Note{Kind: kind, Body: body, Owner: owner, DueOn: dueOn.UTC(), CreatedBy: a.Label(), CreatedAt: now}
		if kind == NoteLesson {
			out.Owner, out.DueOn = "", time.Time{}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO exercise_notes (exercise_id, kind, body, owner, due_on, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.ID, out.Kind, out.Body, out.Owner, store.NullTime(out.DueOn), out.CreatedBy,
			now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, e.OrgID, "exercise.note.add", e.ID, nil, out)
	})
	return out, err
}
