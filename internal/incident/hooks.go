package incident

import (
	"certnet/internal/errs"
	"context"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
)

// The hooks below let other packages that hang work on an incident
// (coordination orders, evidence, tasks, drills) act inside their own
// transaction: read the incident as the actor may, lock it against
// concurrent changes, and put their events on its timeline.

// GetTx returns the incident the actor may read and may do act on (act
// empty: read only), inside tx. NotFound when the actor may not see it;
// Forbidden when they see it but may not do act.
func (s *Service) GetTx(ctx context.Context, tx *store.Tx, a policy.Actor, key string, act policy.Action) (Incident, error) {
	id, err := resolve(ctx, tx, key)
	if err != nil {
		return Incident{}, err
	}
	inc, err := loadIncident(ctx, tx, id)
	if err != nil {
		return Incident{}, err
	}
	if err := checkVisible(a, act, inc); err != nil {
		return Incident{}, err
	}
	return inc, nil
}

// LockTx locks the incident's row for the rest of tx (a version bump, so
// that concurrent changes of the incident wait or fail) and returns it as
// GetTx does.
func (s *Service) LockTx(ctx context.Context, tx *store.Tx, a policy.Actor, key string, act policy.Action) (Incident, error) {
	id, err := resolve(ctx, tx, key)
	if err != nil {
		return Incident{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE incidents SET version = version + 1 WHERE id = ?", id); err != nil {
		return Incident{}, errs.Ensure("incident: lock", err)
	}
	return s.GetTx(ctx, tx, a, key, act)
}

// RecordEvent puts an event on the incident's timeline inside tx. kind is
// the event's name ("order.issued", "evidence.added", …); the web UI shows
// it with the catalogue key "incident.event.<kind>".
func (s *Service) RecordEvent(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, incID int64, kind string, detail map[string]any) (Event, error) {
	return addEvent(ctx, tx, now, a, incID, kind, detail)
}

// Stamp is the service's clock as written to the store (UTC, microseconds).
func (s *Service) Stamp() time.Time { return s.stamp() }

// CheckIncident decides act on inc for the actor (NotFound when the actor
// may not see it), as the service's own methods do.
func CheckIncident(a policy.Actor, act policy.Action, inc Incident) error {
	return checkVisible(a, act, inc)
}

// CreateThen is Create, with then run in the creating transaction with the
// new incident (an error from it undoes the whole creation): the exercise
// service marks its inject delivered in the same transaction.
func (s *Service) CreateThen(ctx context.Context, a policy.Actor, in Input, then func(context.Context, *store.Tx, Incident) error) (Incident, error) {
	return s.create(ctx, a, in, then)
}
