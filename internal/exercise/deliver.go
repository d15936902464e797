package exercise

import (
	"context"
	"strconv"

	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/intel"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// checkKind refuses an order inject when the organiser may not issue
// orders (or certnet runs without coordination), an advisory inject when
// it may not publish advisories.
func (s *Service) checkKind(ctx context.Context, organiser int64, kind string, v *errs.Error) error {
	switch kind {
	case KindOrder:
		if s.Coord == nil {
			v.Field("kind", "field.invalid_choice")
			return nil
		}
		ok, err := s.Coord.OrgCoordinates(ctx, organiser)
		if err != nil {
			return err
		}
		if !ok {
			v.Field("kind", "exercise.err.not_coordinator")
		}
	case KindAdvisory:
		if s.Intel == nil {
			v.Field("kind", "field.invalid_choice")
			return nil
		}
		ok, err := s.Intel.OrgPublishes(ctx, organiser)
		if err != nil {
			return err
		}
		if !ok {
			v.Field("kind", "exercise.err.not_publisher")
		}
	}
	return nil
}

// deliverIncident creates the inject's exercise incident, reported by the
// organiser and affecting affected. With final, the inject is marked
// delivered with it; otherwise (an order's incident) only the incident is
// recorded on the inject, once.
func (s *Service) deliverIncident(ctx context.Context, e Exercise, in Inject, affected int64, final bool) (incident.Incident, error) {
	const op = "exercise: deliver"
	sys := policy.SystemActor("exercise")
	var c incident.Contact
	if err := s.DB.QueryRow(ctx, "SELECT name, intake_email, intake_phone FROM organisations WHERE id = ?", e.OrgID).
		Scan(&c.Name, &c.Email, &c.Phone); err != nil {
		return incident.Incident{}, errs.Internal(op, err)
	}
	typ := incident.Type(in.Type)
	if !typ.Valid() {
		typ = incident.TypeOther
	}
	return s.Inc.CreateThen(ctx, sys, incident.Input{Title: in.Title, Description: in.Description,
		Type: typ, Severity: incident.Severity(in.Severity), TLP: policy.TLPAmber,
		ReporterOrgID: e.OrgID, AffectedOrgID: affected, DetectedAt: s.Inc.Stamp(), ExerciseID: e.ID,
		DetectedBy: incident.DetectOther, DetectedByText: e.Title, System: incident.System{Name: e.Title}, Contact: c},
		func(ctx context.Context, tx *store.Tx, inc incident.Incident) error {
			q := `UPDATE exercise_injects SET incident_id = ? WHERE id = ? AND incident_id IS NULL AND delivered_at IS NULL`
			args := []any{inc.ID, in.ID}
			if final {
				q = `UPDATE exercise_injects SET delivered_at = ?, incident_id = ? WHERE id = ? AND delivered_at IS NULL`
				args = []any{inc.CreatedAt, inc.ID, in.ID}
			}
			res, err := tx.Exec(ctx, q, args...)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return errs.Conflict(op, "exercise.err.delivered") // delivered meanwhile: undo this incident
			}
			if !final {
				return nil
			}
			return record(ctx, tx, inc.CreatedAt, sys, e.OrgID, "exercise.inject.deliver", e.ID, nil,
				map[string]any{"inject_id": in.ID, "incident_id": inc.ID, "ref": inc.Ref})
		})
}

// priorityOf maps an inject's severity to an order's priority.
func priorityOf(sev string) string {
	switch incident.Severity(sev) {
	case incident.SeverityCritical:
		return coord.PriorityUrgent
	case incident.SeverityHigh:
		return coord.PriorityHigh
	}
	return coord.PriorityNormal
}

// deliverOrder issues the inject's coordination order from the organiser
// to the participant, on an exercise incident of the organiser's (created
// first and kept on the inject, so that a failed issue is retried on the
// same incident); the order is an exercise order through its incident.
func (s *Service) deliverOrder(ctx context.Context, e Exercise, in Inject) error {
	const op = "exercise: deliver order"
	if s.Coord == nil {
		return errs.Invalid(op).Field("kind", "field.invalid_choice")
	}
	incID := in.IncidentID
	if incID == 0 {
		inc, err := s.deliverIncident(ctx, e, in, e.OrgID, false)
		if err != nil {
			return err
		}
		incID = inc.ID
	}
	sys := policy.SystemActor("exercise")
	now := s.now()
	_, err := s.Coord.IssueThen(ctx, sys, strconv.FormatInt(incID, 10), coord.IssueInput{Title: in.Title, Actions: in.Description,
		Priority: priorityOf(in.Severity), TLP: policy.TLPAmber, DeadlineAt: now.Add(AnswerPeriod), Targets: []int64{in.TargetOrgID},
		IssuerOrgID: e.OrgID},
		func(ctx context.Context, tx *store.Tx, o coord.Order) error {
			res, err := tx.Exec(ctx, `UPDATE exercise_injects SET delivered_at = ?, order_id = ? WHERE id = ? AND delivered_at IS NULL`,
				o.CreatedAt, o.ID, in.ID)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return errs.Conflict(op, "exercise.err.delivered")
			}
			return record(ctx, tx, o.CreatedAt, sys, e.OrgID, "exercise.inject.deliver", e.ID, nil,
				map[string]any{"inject_id": in.ID, "order_id": o.ID, "incident_id": incID})
		})
	return err
}

// deliverAdvisory publishes the inject's advisory from the organiser to
// the participant, marked with the exercise.
func (s *Service) deliverAdvisory(ctx context.Context, e Exercise, in Inject) error {
	const op = "exercise: deliver advisory"
	if s.Intel == nil {
		return errs.Invalid(op).Field("kind", "field.invalid_choice")
	}
	sys := policy.SystemActor("exercise")
	_, err := s.Intel.PublishExercise(ctx, intel.ExerciseAdvisoryInput{ExerciseID: e.ID, OwnerOrgID: e.OrgID, TargetOrgID: in.TargetOrgID,
		Title: in.Title, Body: in.Description, Severity: in.Severity, DeadlineAt: s.now().Add(AnswerPeriod)},
		func(ctx context.Context, tx *store.Tx, v intel.Advisory) error {
			res, err := tx.Exec(ctx, `UPDATE exercise_injects SET delivered_at = ?, advisory_id = ? WHERE id = ? AND delivered_at IS NULL`,
				v.PublishedAt, v.ID, in.ID)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return errs.Conflict(op, "exercise.err.delivered")
			}
			return record(ctx, tx, v.PublishedAt, sys, e.OrgID, "exercise.inject.deliver", e.ID, nil,
				map[string]any{"inject_id": in.ID, "advisory_id": v.ID})
		})
	return err
}
