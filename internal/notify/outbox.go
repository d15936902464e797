package notify

import (
	"context"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// OutboxState is the state of the outbox for the operations page and the
// metrics.
type OutboxState struct {
	PendingFanout  int        `json:"pending_fanout"`
	Pending        int        `json:"pending_deliveries"`
	Failing        int        `json:"failing_deliveries"` // pending after at least one failure
	Dead           int        `json:"dead_deliveries"`
	Sent           int        `json:"sent_deliveries"`
	DeadDeliveries []Delivery `json:"dead"`
}

// Counts reads the outbox's counters without a policy check (metrics).
func (s *Service) Counts(ctx context.Context) (OutboxState, error) {
	var st OutboxState
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE fanned_at IS NULL").Scan(&st.PendingFanout); err != nil {
		return st, err
	}
	err := s.DB.QueryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0)
		FROM notify_deliveries`).Scan(&st.Pending, &st.Failing, &st.Dead, &st.Sent)
	return st, err
}

// Outbox returns the outbox state with the latest dead deliveries, for a
// national administrator or auditor.
func (s *Service) Outbox(ctx context.Context, a policy.Actor) (OutboxState, error) {
	const op = "notify: outbox"
	if err := policy.Check(a, policy.NotifyOutboxRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber}); err != nil {
		return OutboxState{}, err
	}
	st, err := s.Counts(ctx)
	if err != nil {
		return st, errs.Internal(op, err)
	}
	rows, err := s.DB.Query(ctx, "SELECT "+deliveryCols+" FROM notify_deliveries d LEFT JOIN notifications n ON n.id = d.notification_id WHERE d.status = 'dead' ORDER BY d.id DESC LIMIT 50")
	if err != nil {
		return st, errs.Internal(op, err)
	}
	defer rows.Close()
	st.DeadDeliveries = []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return st, errs.Internal(op, err)
		}
		st.DeadDeliveries = append(st.DeadDeliveries, d)
	}
	return st, rows.Err()
}
