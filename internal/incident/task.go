package incident

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Tasks of an incident: a title, an owner (a user of an organisation that
// can see the incident), a due date, open or done (by whom, when), a note.
// Every change goes on the timeline and in the audit log.

// Task statuses.
const (
	TaskOpen = "open"
	TaskDone = "done"
)

// Task timeline events.
const (
	EventTaskAdded    = "task.added"
	EventTaskAssigned = "task.assigned"
	EventTaskDone     = "task.done"
	EventTaskReopened = "task.reopened"
)

// Task is one task of an incident.
type Task struct {
	ID          int64     `json:"id"`
	IncidentID  int64     `json:"incident_id"`
	IncidentRef string    `json:"incident_ref"`
	Title       string    `json:"title"`
	Note        string    `json:"note,omitempty"`
	OwnerID     int64     `json:"owner_id,omitempty"`
	OwnerName   string    `json:"owner_name,omitempty"`
	DueAt       time.Time `json:"due_at,omitzero"`
	Status      string    `json:"status"`
	DoneBy      int64     `json:"done_by,omitempty"`
	DoneName    string    `json:"done_name,omitempty"`
	DoneAt      time.Time `json:"done_at,omitzero"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Overdue reports whether an open task is past its due date at now.
func (t Task) Overdue(now time.Time) bool {
	return t.Status == TaskOpen && !t.DueAt.IsZero() && now.After(t.DueAt)
}

// TaskInput is a new task.
type TaskInput struct {
	Title   string
	Note    string
	OwnerID int64
	DueAt   time.Time
}

const taskCols = `t.id, t.incident_id, i.ref, t.title, t.note, t.owner_id, t.owner_name, t.due_at, t.status,
	t.done_by, t.done_name, t.done_at, t.created_by, t.created_at, t.updated_at`

func scanTask(sc scanner) (Task, error) {
	var t Task
	var owner, doneBy, createdBy sql.NullInt64
	var due, done sql.NullTime
	if err := sc.Scan(&t.ID, &t.IncidentID, &t.IncidentRef, &t.Title, &t.Note, &owner, &t.OwnerName, &due, &t.Status,
		&doneBy, &t.DoneName, &done, &createdBy, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return Task{}, err
	}
	t.OwnerID, t.DoneBy, t.CreatedBy = owner.Int64, doneBy.Int64, createdBy.Int64
	t.DueAt, t.DoneAt = store.TimeOf(due), store.TimeOf(done)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// taskOrgs starts a query with the organisations whose people may own a
// task of an incident, as the table chain: the affected and the reporting
// organisation and every organisation above either (arguments: those two
// ids). The hierarchy is shallow; the depth bound stops a cycle.
const taskOrgs = `WITH RECURSIVE chain(id, parent_id, depth) AS (
		SELECT id, parent_id, 0 FROM organisations WHERE id IN (?, ?)
		UNION ALL
		SELECT o.id, o.parent_id, c.depth + 1 FROM organisations o JOIN chain c ON o.id = c.parent_id WHERE c.depth < 15) `

// ownerName checks that user id may own a task of inc: an active user of
// the affected or the reporting organisation or of an organisation above
// either. It returns the name shown, or "" when the user may not.
func ownerName(ctx context.Context, q store.Q, inc Incident, id int64) (string, error) {
	var username, display string
	err := q.QueryRow(ctx, taskOrgs+`SELECT username, display_name FROM users
		WHERE id = ? AND disabled = ? AND org_id IN (SELECT id FROM chain)`, inc.AffectedOrgID, inc.ReporterOrgID, id, false).
		Scan(&username, &display)
	if store.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if display == "" {
		display = username
	}
	return display, nil
}

// AddTask adds a task to the incident (task.write).
func (s *Service) AddTask(ctx context.Context, a policy.Actor, key string, in TaskInput) (Task, error) {
	const op = "task: add"
	in.Title, in.Note = strings.TrimSpace(in.Title), strings.TrimSpace(in.Note)
	var out Task
	_, err := s.mutate(ctx, a, op, key, "", func(ctx context.Context, w *write, inc *Incident) error {
		if err := check(a, policy.TaskWrite, *inc); err != nil {
			return err
		}
		v := errs.Invalid(op)
		checkText(v, "title", in.Title, maxTitle, false, true)
		checkText(v, "note", in.Note, maxText, true, false)
		var name string
		if in.OwnerID != 0 {
			var err error
			if name, err = ownerName(ctx, w.tx, *inc, in.OwnerID); err != nil {
				return err
			}
			if name == "" {
				v.Field("owner_id", "task.err.owner")
			}
		}
		if !in.DueAt.IsZero() && (in.DueAt.Before(earliest) || in.DueAt.After(w.now.AddDate(5, 0, 0))) {
			v.Field("due_at", "task.err.due")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Task{IncidentID: inc.ID, IncidentRef: inc.Ref, Title: in.Title, Note: in.Note, OwnerID: in.OwnerID,
			OwnerName: name, Status: TaskOpen, CreatedBy: a.UserID, CreatedAt: w.now, UpdatedAt: w.now}
		if !in.DueAt.IsZero() {
			out.DueAt = in.DueAt.UTC().Truncate(time.Microsecond)
		}
		if err := w.tx.QueryRow(ctx, `INSERT INTO incident_tasks (incident_id, title, note, owner_id, owner_name, due_at,
			status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			inc.ID, out.Title, out.Note, store.NullID(out.OwnerID), out.OwnerName, store.NullTime(out.DueAt), out.Status,
			store.NullID(a.UserID), w.now, w.now).Scan(&out.ID); err != nil {
			return err
		}
		detail := map[string]any{"task_id": out.ID, "title": out.Title}
		if out.OwnerName != "" {
			detail["owner"] = out.OwnerName
		}
		if _, err := w.event(ctx, inc, EventTaskAdded, detail); err != nil {
			return err
		}
		return audit.Record(ctx, w.tx, w.now, a, audit.Change{OrgID: inc.AffectedOrgID, Action: "task.add",
			Entity: "task", EntityID: fmt.Sprint(out.ID), After: out})
	})
	return out, err
}

// changeTask runs fn on the task inside the incident's transaction.
func (s *Service) changeTask(ctx context.Context, a policy.Actor, op string, id int64,
	fn func(ctx context.Context, w *write, inc *Incident, t *Task) (string, map[string]any, error)) (Task, error) {
	var ref string
	if err := s.DB.QueryRow(ctx, "SELECT i.ref FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id WHERE t.id = ?", id).
		Scan(&ref); err != nil {
		if store.IsNoRows(err) {
			return Task{}, errs.NotFound(op)
		}
		return Task{}, errs.Internal(op, err)
	}
	var out Task
	_, err := s.mutate(ctx, a, op, ref, "", func(ctx context.Context, w *write, inc *Incident) error {
		if err := check(a, policy.TaskWrite, *inc); err != nil {
			return err
		}
		t, err := scanTask(w.tx.QueryRow(ctx, `SELECT `+taskCols+` FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id
			WHERE t.id = ?`, id))
		if err != nil {
			return err
		}
		before := t
		kind, detail, err := fn(ctx, w, inc, &t)
		if err != nil || kind == "" {
			out = t
			return err
		}
		t.UpdatedAt = w.now
		if _, err := w.tx.Exec(ctx, `UPDATE incident_tasks SET owner_id = ?, owner_name = ?, status = ?, done_by = ?,
			done_name = ?, done_at = ?, updated_at = ? WHERE id = ?`, store.NullID(t.OwnerID), t.OwnerName, t.Status,
			store.NullID(t.DoneBy), t.DoneName, store.NullTime(t.DoneAt), w.now, t.ID); err != nil {
			return err
		}
		detail["task_id"], detail["title"] = t.ID, t.Title
		if _, err := w.event(ctx, inc, kind, detail); err != nil {
			return err
		}
		out = t
		return audit.Record(ctx, w.tx, w.now, a, audit.Change{OrgID: inc.AffectedOrgID, Action: kind,
			Entity: "task", EntityID: fmt.Sprint(t.ID), Before: before, After: t})
	})
	return out, err
}

// AssignTask gives the task to another owner (0: nobody).
func (s *Service) AssignTask(ctx context.Context, a policy.Actor, id, owner int64) (Task, error) {
	const op = "task: assign"
	return s.changeTask(ctx, a, op, id, func(ctx context.Context, w *write, inc *Incident, t *Task) (string, map[string]any, error) {
		if owner == t.OwnerID {
			return "", nil, nil
		}
		name := ""
		if owner != 0 {
			var err error
			if name, err = ownerName(ctx, w.tx, *inc, owner); err != nil {
				return "", nil, err
			}
			if name == "" {
				return "", nil, errs.Invalid(op).Field("owner_id", "task.err.owner")
			}
		}
		t.OwnerID, t.OwnerName = owner, name
		return EventTaskAssigned, map[string]any{"owner": name}, nil
	})
}

// SetTaskDone marks the task done (who, when) or open again.
func (s *Service) SetTaskDone(ctx context.Context, a policy.Actor, id int64, done bool) (Task, error) {
	const op = "task: done"
	return s.changeTask(ctx, a, op, id, func(ctx context.Context, w *write, inc *Incident, t *Task) (string, map[string]any, error) {
		if done == (t.Status == TaskDone) {
			return "", nil, nil
		}
		if done {
			t.Status, t.DoneBy, t.DoneName, t.DoneAt = TaskDone, a.UserID, a.Label(), w.now
			return EventTaskDone, map[string]any{}, nil
		}
		t.Status, t.DoneBy, t.DoneName, t.DoneAt = TaskOpen, 0, "", time.Time{}
		return EventTaskReopened, map[string]any{}, nil
	})
}

// Tasks lists the incident's tasks, open first by due date.
func (s *Service) Tasks(ctx context.Context, a policy.Actor, key string) ([]Task, error) {
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	return s.queryTasks(ctx, `WHERE t.incident_id = ?`, inc.ID)
}

// MyTasks lists the open tasks the actor owns, of incidents they still see,
// earliest due first.
func (s *Service) MyTasks(ctx context.Context, a policy.Actor) ([]Task, error) {
	if a.UserID == 0 {
		return nil, nil
	}
	ts, err := s.queryTasks(ctx, `WHERE t.owner_id = ? AND t.status = 'open'`, a.UserID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, t := range ts {
		if !slices.Contains(ids, t.IncidentID) {
			ids = append(ids, t.IncidentID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// Their incidents in one query, each checked as the actor.
	rows, err := s.DB.Query(ctx, "SELECT "+incCols+" FROM incidents i WHERE i.id IN ("+idList(ids)+")")
	if err != nil {
		return nil, errs.Internal("task: mine", err)
	}
	defer rows.Close()
	visible := map[int64]bool{}
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, errs.Internal("task: mine", err)
		}
		visible[inc.ID] = checkVisible(a, "", inc) == nil
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("task: mine", err)
	}
	return slices.DeleteFunc(ts, func(t Task) bool { return !visible[t.IncidentID] }), nil
}

func (s *Service) queryTasks(ctx context.Context, where string, args ...any) ([]Task, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+taskCols+` FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id `+where+`
		ORDER BY CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, CASE WHEN t.due_at IS NULL THEN 1 ELSE 0 END, t.due_at, t.id`, args...)
	if err != nil {
		return nil, errs.Internal("task: list", err)
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, errs.Internal("task: list", err)
		}
		out = append(out, t)
	}
	return out, errs.Ensure("task: list", rows.Err())
}

// TaskOwner is someone who may own a task of an incident.
type TaskOwner struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// TaskOwners lists the active users who may own the incident's tasks (of
// the affected and the reporting organisation and the organisations above
// them), for the owner choice of a form.
func (s *Service) TaskOwners(ctx context.Context, a policy.Actor, key string) ([]TaskOwner, error) {
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, taskOrgs+`SELECT id, username, display_name FROM users
		WHERE disabled = ? AND org_id IN (SELECT id FROM chain) ORDER BY display_name, username LIMIT 500`,
		inc.AffectedOrgID, inc.ReporterOrgID, false)
	if err != nil {
		return nil, errs.Internal("task: owners", err)
	}
	defer rows.Close()
	var out []TaskOwner
	for rows.Next() {
		var o TaskOwner
		var username string
		if err := rows.Scan(&o.ID, &username, &o.Name); err != nil {
			return nil, errs.Internal("task: owners", err)
		}
		if o.Name == "" {
			o.Name = username
		}
		out = append(out, o)
	}
	return out, errs.Ensure("task: owners", rows.Err())
}
