package warning

import (
	"context"
	"fmt"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// EventSightings is the incident timeline event of new sightings of the
// indicator that opened it.
const EventSightings = "warning.sightings"

// noteEvery is how often at most new sightings are put on the incident's
// timeline.
const noteEvery = time.Hour

type pairKey struct{ indicator, org int64 }

// incidents opens an incident for each member where an indicator of high
// confidence was seen inside its range during the window (a sighting routed
// to an organisation that holds ranges), or updates the open one: one open
// incident per member × indicator (a unique index), and the member told
// once through the outbox.
func (s *Service) incidents(ctx context.Context, st Settings, now time.Time, national []int64) (opened, updated int, err error) {
	if st.IncidentConfidence == 0 || s.Incidents == nil {
		return 0, 0, nil
	}
	from := now.Add(-time.Duration(st.WindowMinutes) * time.Minute)
	rows, err := s.DB.Query(ctx, `SELECT s.indicator_id, s.org_id, s.count, s.first_seen, s.last_seen FROM intel_sightings s
		JOIN intel_indicators i ON i.id = s.indicator_id
		WHERE s.last_seen >= ? AND s.source = 'ingest' AND s.org_id IS NOT NULL AND i.confidence >= ? AND NOT i.revoked
		AND EXISTS (SELECT 1 FROM org_ranges r WHERE r.org_id = s.org_id)`, from, st.IncidentConfidence)
	if err != nil {
		return 0, 0, fmt.Errorf("warning: high-confidence sightings: %w", err)
	}
	pairs := map[pairKey]*orgHit{}
	var order []pairKey
	for rows.Next() {
		var k pairKey
		var n int64
		var first, last time.Time
		if err := rows.Scan(&k.indicator, &k.org, &n, &first, &last); err != nil {
			rows.Close()
			return 0, 0, err
		}
		h := pairs[k]
		if h == nil {
			h = &orgHit{}
			pairs[k] = h
			order = append(order, k)
		}
		h.add(n, first, last)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, k := range order {
		o, u, err := s.incidentFor(ctx, k, pairs[k], now, national)
		if err != nil {
			return opened, updated, err
		}
		if o {
			opened++
		}
		if u {
			updated++
		}
	}
	return opened, updated, nil
}

// terminal reports whether an incident status ends its life.
func terminal(st string) bool {
	switch incident.Status(st) {
	case incident.StatusClosed, incident.StatusRejected, incident.StatusDuplicate:
		return true
	}
	return false
}

func (s *Service) incidentFor(ctx context.Context, k pairKey, h *orgHit, now time.Time, national []int64) (opened, updated bool, err error) {
	var linkID, incID, count int64
	var last, noted time.Time
	var status string
	err = s.DB.QueryRow(ctx, `SELECT l.id, l.incident_id, l.count, l.last_seen, l.updated_at, i.status FROM warning_incidents l
		JOIN incidents i ON i.id = l.incident_id WHERE l.org_id = ? AND l.indicator_id = ? AND l.ended_at IS NULL`, k.org, k.indicator).
		Scan(&linkID, &incID, &count, &last, &noted, &status)
	switch {
	case err == nil && terminal(status):
		// The member closed it: the link ends; only sightings after the
		// last one it covered open a new incident.
		if _, err := s.DB.Exec(ctx, "UPDATE warning_incidents SET ended_at = ? WHERE id = ? AND ended_at IS NULL", now, linkID); err != nil {
			return false, false, err
		}
		if !h.last.After(last) {
			return false, false, nil
		}
	case err == nil:
		if !h.last.After(last) {
			return false, false, nil
		}
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			note := now.Sub(noted) >= noteEvery
			stamp := noted
			if note {
				stamp = now
			}
			res, err := tx.Exec(ctx, "UPDATE warning_incidents SET count = ?, last_seen = ?, updated_at = ? WHERE id = ? AND last_seen < ?",
				h.count, h.last, stamp, linkID, h.last)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 || !note {
				return nil
			}
			_, err = s.Incidents.RecordEvent(ctx, tx, now, sysActor, incID, EventSightings, map[string]any{"indicator_id": k.indicator,
				"count": h.count, "last_seen": h.last})
			return err
		})
		return false, err == nil, err
	case !store.IsNoRows(err):
		return false, false, fmt.Errorf("warning: incident link: %w", err)
	default:
		var prev time.Time
		err := s.DB.QueryRow(ctx, `SELECT last_seen FROM warning_incidents WHERE org_id = ? AND indicator_id = ? AND ended_at IS NOT NULL
			ORDER BY last_seen DESC LIMIT 1`, k.org, k.indicator).Scan(&prev)
		if err != nil && !store.IsNoRows(err) {
			return false, false, err
		}
		if err == nil && !h.last.After(prev) {
			return false, false, nil
		}
	}
	return s.openIncident(ctx, k, h, now, national)
}

// openIncident opens the member's incident and links it, in one
// transaction with the message to the member.
func (s *Service) openIncident(ctx context.Context, k pairKey, h *orgHit, now time.Time, national []int64) (bool, bool, error) {
	var kind, value, tlp string
	var conf int
	if err := s.DB.QueryRow(ctx, "SELECT kind, value, tlp, confidence FROM intel_indicators WHERE id = ?", k.indicator).
		Scan(&kind, &value, &tlp, &conf); err != nil {
		if store.IsNoRows(err) {
			return false, false, nil
		}
		return false, false, err
	}
	// The incident is AMBER: a stricter indicator is named by its number.
	shown := value
	if l, err := policy.ParseTLP(tlp); err != nil || l.Rank() > policy.TLPAmber.Rank() {
		shown = fmt.Sprintf("#%d", k.indicator)
	}
	if len(shown) > 200 {
		shown = shown[:200] + "…"
	}
	reporter := k.org
	if len(national) > 0 {
		reporter = national[0]
	}
	var memberName, email, phone string
	if err := s.DB.QueryRow(ctx, "SELECT name FROM organisations WHERE id = ?", k.org).Scan(&memberName); err != nil {
		return false, false, err
	}
	if err := s.DB.QueryRow(ctx, "SELECT intake_email, intake_phone FROM organisations WHERE id = ?", reporter).Scan(&email, &phone); err != nil {
		return false, false, err
	}
	if email == "" && phone == "" {
		// No intake address on record: the contact is taken from the
		// records, never made up — a signed-in person of the reporting
		// organisation, else the member's own intake address.
		if err := s.DB.QueryRow(ctx, `SELECT COALESCE(MIN(email), '') FROM users WHERE org_id = ? AND email <> '' AND NOT disabled`,
			reporter).Scan(&email); err != nil {
			return false, false, err
		}
	}
	if email == "" && phone == "" {
		if err := s.DB.QueryRow(ctx, "SELECT intake_email, intake_phone FROM organisations WHERE id = ?", k.org).Scan(&email, &phone); err != nil {
			return false, false, err
		}
	}
	if email == "" && phone == "" {
		// Nothing to reach anyone by: the incident waits for a contact on
		// record (the next evaluation tries again) and the others go on.
		if s.Log != nil {
			s.Log.Warn("warning: no contact on record to open an incident", "member", k.org, "reporter", reporter, "indicator", k.indicator)
		}
		return false, false, nil
	}
	vi := i18n.VI
	in := incident.Input{
		Title:         i18n.T(vi, "warning.incident.title", kind, shown),
		Description:   i18n.T(vi, "warning.incident.body", kind, shown, conf, h.count, i18n.FormatTime(h.first), i18n.FormatTime(h.last)),
		Type:          incident.TypeOther,
		TLP:           policy.TLPAmber,
		ReporterOrgID: reporter,
		AffectedOrgID: k.org,
		DetectedAt:    h.first,
		DetectedBy:    incident.DetectIDS,
		Contact:       incident.Contact{Name: i18n.T(vi, "warning.incident.contact"), Email: email, Phone: phone},
		System:        incident.System{Name: strings.TrimSpace(i18n.T(vi, "warning.incident.system", memberName))},
	}
	if in.DetectedAt.After(now) {
		in.DetectedAt = now
	}
	_, err := s.Incidents.CreateThen(ctx, sysActor, in, func(ctx context.Context, tx *store.Tx, inc incident.Incident) error {
		var linkID int64
		if err := tx.QueryRow(ctx, `INSERT INTO warning_incidents (org_id, indicator_id, incident_id, count, last_seen, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, k.org, k.indicator, inc.ID, h.count, h.last, now, now).Scan(&linkID); err != nil {
			return fmt.Errorf("warning: link incident: %w", err)
		}
		return notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindIncident, Key: fmt.Sprintf("warning-incident:%d", linkID),
			Orgs: []int64{k.org}, Subject: errs.Msg{Key: "warning.notify.incident", Args: []any{inc.Ref}},
			Body: errs.Msg{Key: "warning.notify.incident_body", Args: []any{kind, shown, h.count}},
			Link: "/incidents/" + inc.Ref, TLP: policy.TLPAmber})
	})
	if err != nil {
		if store.IsUniqueViolation(err) {
			return false, false, nil // another run linked it first
		}
		return false, false, fmt.Errorf("warning: open incident for %d: %w", k.org, err)
	}
	return true, false, nil
}
