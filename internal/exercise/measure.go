package exercise

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"certnet/internal/intel"
	"certnet/internal/store"
)

// measure fills the report's timeline and each delivered inject's times
// from what the participants did: on an incident inject, the incident's
// events, reports and closure; on an order inject, the order's target row
// and the order events on its incident; on an advisory inject, the
// recipient row.
func (s *Service) measure(ctx context.Context, injs []Inject, r *Report) error {
	r.times = map[int64]*Times{}
	byInc := map[int64]*Times{}   // incident injects, by incident
	byOrder := map[int64]*Times{} // order injects, by order
	orderInc := map[int64]*Times{}
	byAdv := map[int64]*Times{}
	var incIDs, orderIDs, advIDs []int64
	for _, in := range injs {
		if in.DeliveredAt.IsZero() {
			continue
		}
		t := &Times{InjectID: in.ID, Kind: in.Kind, IncidentID: in.IncidentID, OrderID: in.OrderID, AdvisoryID: in.AdvisoryID,
			OrgID: in.TargetOrgID, DeliveredAt: in.DeliveredAt, At: map[string]time.Time{}, After: map[string]time.Duration{}}
		switch {
		case in.Kind == KindOrder && in.OrderID != 0:
			byOrder[in.OrderID], orderInc[in.IncidentID] = t, t
			orderIDs, incIDs = append(orderIDs, in.OrderID), append(incIDs, in.IncidentID)
		case in.Kind == KindAdvisory && in.AdvisoryID != 0:
			byAdv[in.AdvisoryID] = t
			advIDs = append(advIDs, in.AdvisoryID)
		case in.Kind == KindIncident && in.IncidentID != 0:
			byInc[in.IncidentID] = t
			incIDs = append(incIDs, in.IncidentID)
		default:
			continue
		}
		r.times[in.ID] = t
		r.Timeline = append(r.Timeline, Step{At: in.DeliveredAt, Kind: "inject", OrgID: in.TargetOrgID, InjectID: in.ID,
			IncidentID: in.IncidentID})
	}
	set := func(t *Times, m string, at time.Time) {
		if t == nil || at.IsZero() || at.Before(t.DeliveredAt) {
			return
		}
		if old, ok := t.At[m]; !ok || at.Before(old) {
			t.At[m], t.After[m] = at, at.Sub(t.DeliveredAt)
		}
	}
	if len(incIDs) > 0 {
		in, args := store.InList(incIDs)
		// Every participant action on the exercise's incidents (the creation is the inject).
		rows, err := s.DB.Query(ctx, `SELECT incident_id, kind, at, actor, COALESCE(actor_org_id, 0), detail FROM incident_events
			WHERE incident_id IN `+in+` AND kind <> 'created' ORDER BY at, id`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var st Step
			var detail string
			if err := rows.Scan(&st.IncidentID, &st.Kind, &st.At, &st.Actor, &st.OrgID, &detail); err != nil {
				rows.Close()
				return err
			}
			st.At = st.At.UTC()
			r.Timeline = append(r.Timeline, st)
			if t := byInc[st.IncidentID]; t != nil && st.Kind == "status" && st.OrgID == t.OrgID {
				set(t, MeasureAct, st.At)
			}
			if t := orderInc[st.IncidentID]; t != nil && st.OrgID == t.OrgID {
				switch st.Kind {
				case "order.in_progress", "order.done", "order.unable":
					set(t, MeasureAct, st.At)
					var d struct {
						Result string `json:"result"`
					}
					if json.Unmarshal([]byte(detail), &d) == nil && d.Result != "" {
						set(t, MeasureReport, st.At)
					}
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.DB.Query(ctx, `SELECT incident_id, kind, submitted_at, COALESCE(submitted_org_id, 0), ack_at
			FROM incident_reports WHERE incident_id IN `+in+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		first := map[int64]bool{}
		for rows.Next() {
			var inc, org int64
			var kind string
			var at time.Time
			var ack sql.NullTime
			if err := rows.Scan(&inc, &kind, &at, &org, &ack); err != nil {
				rows.Close()
				return err
			}
			t := byInc[inc]
			if t == nil {
				continue
			}
			if !first[inc] { // the injected notice: its acknowledgement
				first[inc] = true
				set(t, MeasureAck, store.TimeOf(ack).UTC())
				continue
			}
			if org == t.OrgID {
				set(t, MeasureReport, at.UTC())
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.DB.Query(ctx, `SELECT id, closed_at FROM incidents WHERE id IN `+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var inc int64
			var closed sql.NullTime
			if err := rows.Scan(&inc, &closed); err != nil {
				rows.Close()
				return err
			}
			set(byInc[inc], MeasureClose, store.TimeOf(closed).UTC())
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(orderIDs) > 0 {
		in, args := store.InList(orderIDs)
		rows, err := s.DB.Query(ctx, `SELECT order_id, org_id, acknowledged_at, finished_at FROM coord_order_targets
			WHERE order_id IN `+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var order, org int64
			var ack, fin sql.NullTime
			if err := rows.Scan(&order, &org, &ack, &fin); err != nil {
				rows.Close()
				return err
			}
			if t := byOrder[order]; t != nil && org == t.OrgID {
				set(t, MeasureAck, store.TimeOf(ack).UTC())
				set(t, MeasureClose, store.TimeOf(fin).UTC())
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(advIDs) > 0 {
		in, args := store.InList(advIDs)
		rows, err := s.DB.Query(ctx, `SELECT advisory_id, org_id, acknowledged_at, first_reported_at, reported_at, status, outcome
			FROM advisory_recipients WHERE advisory_id IN `+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var adv, org int64
			var ack, first, last sql.NullTime
			var status, outcome string
			if err := rows.Scan(&adv, &org, &ack, &first, &last, &status, &outcome); err != nil {
				rows.Close()
				return err
			}
			t := byAdv[adv]
			if t == nil || org != t.OrgID {
				continue
			}
			set(t, MeasureAck, store.TimeOf(ack).UTC())
			set(t, MeasureReport, store.TimeOf(first).UTC())
			if status == intel.RecipientReported && outcome != intel.OutcomeInProgress {
				set(t, MeasureClose, store.TimeOf(last).UTC())
			}
			for _, st := range []Step{{At: store.TimeOf(ack), Kind: "advisory.acknowledged"}, {At: store.TimeOf(first), Kind: "advisory.reported"},
				{At: t.At[MeasureClose], Kind: "advisory.closed"}} {
				if !st.At.IsZero() {
					st.At, st.OrgID, st.InjectID = st.At.UTC(), org, t.InjectID
					r.Timeline = append(r.Timeline, st)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
