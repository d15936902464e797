package coord

import (
	"context"
	"fmt"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// JobEscalate is the name of the escalation job, run every minute.
const JobEscalate = "coord.escalate"

// Escalation levels of a target.
const (
	EscalationNone     = 0
	EscalationReminder = 1 // reminder to the target
	EscalationParent   = 2 // the target's parent organisation and the issuer
)

// Escalate runs one pass of the escalation job ("coord.escalate"): for each
// target not acknowledged by ack_due_at a reminder to the target; still not
// acknowledged one more acknowledgement period later, a message to the
// target's parent and the issuer; past the deadline and not finished, an
// overdue message to the issuer and the parent. The level is stored on the
// target in the same transaction as the message, with a guard on the old
// level, so that a second run (or a second node) never repeats a step. It
// returns the number of steps taken.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	const op = "order: escalate"
	now := s.stamp()
	// The candidates; each is decided again on a fresh read inside its
	// own transaction.
	type due struct{ orderID, orgID int64 }
	rows, err := s.DB.Query(ctx, `SELECT t.order_id, t.org_id FROM coord_order_targets t JOIN coord_orders o ON o.id = t.order_id
		WHERE (t.status = ? AND t.escalation < ? AND t.ack_due_at <= ?)
		   OR (t.status NOT IN (?, ?) AND t.overdue_sent = 0 AND o.deadline_at <= ?)
		ORDER BY t.id LIMIT 1000`, StatusSent, EscalationParent, now, StatusDone, StatusUnable, now)
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.orderID, &d.orgID); err != nil {
			rows.Close()
			return 0, errs.Internal(op, err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, errs.Internal(op, err)
	}
	sys := policy.SystemActor("coord.escalate")
	steps := 0
	for _, d := range list {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			o, err := loadOrder(ctx, tx, d.orderID)
			if err != nil {
				return err
			}
			t, ok := o.Target(d.orgID)
			if !ok {
				return nil
			}
			target, err := loadOrg(ctx, tx, t.OrgID)
			if err != nil {
				return err
			}
			link := fmt.Sprintf("/orders/%d", o.ID)
			want := t.Escalation
			if t.Status == StatusSent {
				if !now.Before(t.AckDueAt) && want < EscalationReminder {
					want = EscalationReminder
				}
				if !now.Before(t.AckDueAt.Add(AckPeriod(o.Priority))) {
					want = EscalationParent
				}
			}
			overdue := !t.OverdueSent && !Finished(t.Status) && !now.Before(o.DeadlineAt)
			if want == t.Escalation && !overdue {
				return nil
			}
			res, err := tx.Exec(ctx, `UPDATE coord_order_targets SET escalation = ?, overdue_sent = ?
				WHERE id = ? AND escalation = ? AND overdue_sent = ?`, want, boolInt(t.OverdueSent || overdue), t.ID, t.Escalation, boolInt(t.OverdueSent))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil // another node took this step
			}
			upper := nonZero(o.IssuerOrgID, target.ParentID)
			if o.ExerciseID != 0 {
				upper = nonZero(o.IssuerOrgID) // a drill's escalation stays inside the exercise
			}
			for lvl := t.Escalation + 1; lvl <= want; lvl++ {
				m := notify.Message{Kind: KindOrderEscalated, Key: fmt.Sprintf("order:%d:target:%d:escalate:%d", o.ID, t.ID, lvl),
					Subject: errs.Msg{Key: fmt.Sprintf("coord.msg.escalate_%d", lvl), Args: []any{o.Title}},
					Link:    link, TLP: o.TLP, Exercise: o.ExerciseID != 0}
				if lvl == EscalationReminder {
					m.Orgs = []int64{t.OrgID}
				} else {
					m.Orgs = upper
				}
				if err := notify.Enqueue(ctx, tx, now, m); err != nil {
					return err
				}
				if _, err := s.Inc.RecordEvent(ctx, tx, now, sys, o.IncidentID, "order.escalated",
					map[string]any{"order_id": o.ID, "org": target.Code, "level": lvl}); err != nil {
					return err
				}
				steps++
			}
			if overdue {
				if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindOrderOverdue,
					Key: fmt.Sprintf("order:%d:target:%d:overdue", o.ID, t.ID), Orgs: upper,
					Subject: errs.Msg{Key: "coord.msg.overdue", Args: []any{o.Title}}, Link: link, TLP: o.TLP,
					Exercise: o.ExerciseID != 0}); err != nil {
					return err
				}
				if _, err := s.Inc.RecordEvent(ctx, tx, now, sys, o.IncidentID, "order.overdue",
					map[string]any{"order_id": o.ID, "org": target.Code}); err != nil {
					return err
				}
				steps++
			}
			after := t
			after.Escalation, after.OverdueSent = want, t.OverdueSent || overdue
			return audit.Record(ctx, tx, now, sys, audit.Change{OrgID: t.OrgID, Action: "order.escalate", Entity: "order_target",
				EntityID: fmt.Sprint(t.ID), Before: t, After: after})
		})
		if err != nil {
			return steps, errs.Ensure(op, err)
		}
	}
	return steps, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
