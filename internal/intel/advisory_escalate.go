package intel

import (
	"context"
	"fmt"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// JobAdvisoryEscalate is the name of the advisory reminder job.
const JobAdvisoryEscalate = "advisory.escalate"

// Levels of a recipient's reminders (ack_level and due_level).
const (
	LevelNone      = 0
	LevelReminded  = 1 // reminder to the recipient
	LevelEscalated = 2 // its response unit told
)

// EscalateAdvisories runs one pass of the reminder job: a recipient that
// has not acknowledged by its due time is reminded, and one more
// acknowledgement period later its response unit is told; a recipient
// that has not reported a final outcome when the advisory's deadline
// passes is reminded, and a day later its response unit is told. Each step
// fires once: the level is stored in the same transaction as the message,
// guarded by the old level, so a second run (or node) never repeats it.
// Closed advisories are left alone. It returns the number of messages.
func (s *Service) EscalateAdvisories(ctx context.Context) (int, error) {
	const op = "advisory: escalate"
	now := s.stamp()
	type due struct{ advisoryID, orgID int64 }
	rows, err := s.DB.Query(ctx, `SELECT r.advisory_id, r.org_id FROM advisory_recipients r JOIN advisories v ON v.id = r.advisory_id
		WHERE v.status = ? AND ((r.status = ? AND r.ack_level < ? AND r.ack_due_at <= ?)
		   OR (v.deadline_at <= ? AND r.due_level < ? AND (r.status <> ? OR r.outcome = ?)))
		ORDER BY r.id LIMIT 1000`, AdvisoryPublished, RecipientDelivered, LevelEscalated, now, now, LevelEscalated, RecipientReported, OutcomeInProgress)
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.advisoryID, &d.orgID); err != nil {
			rows.Close()
			return 0, errs.Internal(op, err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, errs.Internal(op, err)
	}
	sys := policy.SystemActor(JobAdvisoryEscalate)
	steps := 0
	for _, d := range list {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			v, err := loadAdvisory(ctx, tx, d.advisoryID)
			if err != nil {
				return err
			}
			r, err := recipientOf(ctx, tx, d.advisoryID, d.orgID)
			if err != nil {
				return err
			}
			if v.Status != AdvisoryPublished {
				return nil
			}
			ack := r.AckLevel
			if r.Status == RecipientDelivered {
				ack = max(ack, stepLevel(now, r.AckDueAt, AdvisoryAckPeriod))
			}
			dueLvl := r.DueLevel
			if !r.Done() && !v.DeadlineAt.IsZero() {
				dueLvl = max(dueLvl, stepLevel(now, v.DeadlineAt, AdvisoryAckPeriod))
			}
			if ack == r.AckLevel && dueLvl == r.DueLevel {
				return nil
			}
			res, err := tx.Exec(ctx, `UPDATE advisory_recipients SET ack_level = ?, due_level = ? WHERE id = ? AND ack_level = ? AND due_level = ?`,
				ack, dueLvl, r.ID, r.AckLevel, r.DueLevel)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil // another node took this step
			}
			upper, err := escalationOrg(ctx, tx, v, r.OrgID)
			if err != nil {
				return err
			}
			link := fmt.Sprintf("/advisories/%d", v.ID)
			send := func(what string, lvl int) error {
				m := notify.Message{Kind: KindAdvisoryReminder, Key: fmt.Sprintf("advisory:%d:recipient:%d:%s:%d", v.ID, r.ID, what, lvl),
					Orgs: []int64{r.OrgID}, Subject: errs.Msg{Key: "intel.adv.msg." + what + "_reminder", Args: []any{v.Title}}, Link: link, TLP: v.TLP,
					Exercise: v.ExerciseID != 0}
				if lvl == LevelEscalated {
					m.Kind, m.Orgs = KindAdvisoryEscalated, []int64{upper}
					m.Subject = errs.Msg{Key: "intel.adv.msg." + what + "_escalated", Args: []any{v.Title}} // no name: see Respond
				}
				steps++
				return notify.Enqueue(ctx, tx, now, m)
			}
			for lvl := r.AckLevel + 1; lvl <= ack; lvl++ {
				if err := send("ack", lvl); err != nil {
					return err
				}
			}
			for lvl := r.DueLevel + 1; lvl <= dueLvl; lvl++ {
				if err := send("due", lvl); err != nil {
					return err
				}
			}
			after := r
			after.AckLevel, after.DueLevel = ack, dueLvl
			return audit.Record(ctx, tx, now, sys, audit.Change{OrgID: r.OrgID, Action: "advisory.escalate", Entity: "advisory_recipient",
				EntityID: fmt.Sprint(r.ID), Before: map[string]int{"ack_level": r.AckLevel, "due_level": r.DueLevel},
				After: map[string]any{"ack_level": ack, "due_level": dueLvl, "escalated_to": upper}})
		})
		if err != nil {
			return steps, store.Wrap(op, err)
		}
	}
	return steps, nil
}

// stepLevel is the level due at now for something due at at: reminded from
// at, escalated one period later.
func stepLevel(now, at time.Time, period time.Duration) int {
	switch {
	case now.Before(at):
		return LevelNone
	case now.Before(at.Add(period)):
		return LevelReminded
	default:
		return LevelEscalated
	}
}
