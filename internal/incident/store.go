package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

const incCols = `i.id, i.ref, i.title, i.description, i.type, i.severity, i.class, i.status, i.tlp,
	i.reporter_org_id, i.affected_org_id, COALESCE(i.reported_by, 0), i.reported_by_name, i.detected_at,
	i.reported_at, i.exceeds_capacity, i.details, i.serious_json, COALESCE(i.duplicate_of, 0),
	i.response_ended_at, i.closed_at, i.next_due_at, i.version, i.created_at, i.updated_at, COALESCE(i.exercise_id, 0)`

type scanner interface{ Scan(dest ...any) error }

func scanIncident(sc scanner) (Incident, error) {
	var inc Incident
	var typ, sev, class, status, tlp, details, serious string
	var ended, closed, due sql.NullTime
	err := sc.Scan(&inc.ID, &inc.Ref, &inc.Title, &inc.Description, &typ, &sev, &class, &status, &tlp,
		&inc.ReporterOrgID, &inc.AffectedOrgID, &inc.ReportedBy, &inc.ReportedByName, &inc.DetectedAt,
		&inc.ReportedAt, &inc.ExceedsCapacity, &details, &serious, &inc.DuplicateOf,
		&ended, &closed, &due, &inc.Version, &inc.CreatedAt, &inc.UpdatedAt, &inc.ExerciseID)
	if err != nil {
		return inc, err
	}
	inc.Type, inc.Severity, inc.Class, inc.Status, inc.TLP = Type(typ), Severity(sev), Class(class), Status(status), policy.TLP(tlp)
	inc.RSIT = inc.Type.RSIT()
	if err := json.Unmarshal([]byte(details), &inc.Details); err != nil {
		return inc, fmt.Errorf("incident %d: details: %w", inc.ID, err)
	}
	if serious != "" {
		if err := json.Unmarshal([]byte(serious), &inc.Serious); err != nil {
			return inc, fmt.Errorf("incident %d: serious: %w", inc.ID, err)
		}
	}
	inc.ResponseEndedAt, inc.ClosedAt, inc.NextDueAt = store.TimeOf(ended), store.TimeOf(closed), store.TimeOf(due)
	inc.DetectedAt, inc.ReportedAt = inc.DetectedAt.UTC(), inc.ReportedAt.UTC()
	inc.CreatedAt, inc.UpdatedAt = inc.CreatedAt.UTC(), inc.UpdatedAt.UTC()
	return inc, nil
}

// loadIncident reads one incident; errs.NotFound when there is none.
func loadIncident(ctx context.Context, q store.Q, id int64) (Incident, error) {
	inc, err := scanIncident(q.QueryRow(ctx, "SELECT "+incCols+" FROM incidents i WHERE i.id = ?", id))
	if store.IsNoRows(err) {
		return Incident{}, errs.NotFound("incident: get")
	}
	if err != nil {
		return Incident{}, errs.Internal("incident: get", err)
	}
	return inc, nil
}

// resolve turns an id ("42") or a reference ("SC-2026-000042", any case)
// into the incident id, without any policy: callers check it.
func resolve(ctx context.Context, q store.Q, key string) (int64, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return 0, errs.NotFound("incident: get")
	}
	if id, err := strconv.ParseInt(key, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM incidents WHERE ref = ?", strings.ToUpper(key)).Scan(&id)
	if store.IsNoRows(err) {
		return 0, errs.NotFound("incident: get")
	}
	if err != nil {
		return 0, errs.Internal("incident: get", err)
	}
	return id, nil
}

// nextSeq hands out the next number of the year inside tx. The upsert
// locks the year's row until commit (PostgreSQL) and SQLite transactions
// are exclusive, so concurrent creations never get the same number.
func nextSeq(ctx context.Context, tx *store.Tx, year int) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO incident_sequences (year, last) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last = incident_sequences.last + 1 RETURNING last`, year).Scan(&n)
	return n, err
}

// FormatRef is the readable id: SC-2026-000123.
func FormatRef(year int, seq int64) string { return fmt.Sprintf("SC-%04d-%06d", year, seq) }

func insertIncident(ctx context.Context, tx *store.Tx, inc *Incident, year int, seq int64, orgNames ...string) error {
	details, err := json.Marshal(inc.Details)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO incidents (ref, year, seq, title, description, type, severity, class,
		status, tlp, reporter_org_id, affected_org_id, reported_by, reported_by_name, detected_at, reported_at,
		exceeds_capacity, details, serious_state, serious_json, search_text, version, next_due_at, created_at, updated_at, exercise_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, 1, ?, ?, ?, ?) RETURNING id`,
		inc.Ref, year, seq, inc.Title, inc.Description, string(inc.Type), string(inc.Severity), string(inc.Class),
		string(inc.Status), string(inc.TLP), inc.ReporterOrgID, inc.AffectedOrgID, store.NullID(inc.ReportedBy),
		inc.ReportedByName, inc.DetectedAt, inc.ReportedAt, inc.ExceedsCapacity, string(details),
		searchText(*inc, orgNames...), store.NullTime(inc.NextDueAt), inc.CreatedAt, inc.UpdatedAt,
		store.NullID(inc.ExerciseID)).Scan(&inc.ID)
}

// saveIncident writes the fields a change may touch.
func saveIncident(ctx context.Context, tx *store.Tx, inc *Incident) error {
	serious := ""
	if inc.Serious.State != SeriousNone {
		b, err := json.Marshal(inc.Serious)
		if err != nil {
			return err
		}
		serious = string(b)
	}
	_, err := tx.Exec(ctx, `UPDATE incidents SET type = ?, severity = ?, class = ?, status = ?, serious_state = ?,
		serious_json = ?, duplicate_of = ?, response_ended_at = ?, closed_at = ?, next_due_at = ?, updated_at = ?
		WHERE id = ?`,
		string(inc.Type), string(inc.Severity), string(inc.Class), string(inc.Status), string(inc.Serious.State),
		serious, store.NullID(inc.DuplicateOf), store.NullTime(inc.ResponseEndedAt), store.NullTime(inc.ClosedAt),
		store.NullTime(inc.NextDueAt), inc.UpdatedAt, inc.ID)
	return err
}

// searchText is what Q searches: reference, title, description, the
// system's name, its public addresses and domains, and the names of the
// organisations (extra), folded (no diacritics, lower case) with every
// character that is not a letter or digit turned into a space, so that
// SQLite FTS5 and PostgreSQL's 'simple' tsvector cut the same words.
func searchText(inc Incident, extra ...string) string {
	parts := append([]string{inc.Ref, inc.Title, inc.Description, inc.Details.System.Name},
		inc.Details.System.PublicIPs...)
	parts = append(parts, inc.Details.System.Domains...)
	parts = append(parts, extra...)
	return searchWords(strings.Join(parts, " "))
}

// searchWords folds s and keeps only words of letters and digits.
func searchWords(s string) string {
	return strings.Join(strings.FieldsFunc(fold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

func addEvent(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, incID int64, kind string, detail map[string]any) (Event, error) {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return Event{}, err
	}
	ev := Event{IncidentID: incID, Kind: kind, At: now, ActorID: a.UserID, Actor: a.Label(), ActorOrgID: a.OrgID, Detail: detail}
	err = tx.QueryRow(ctx, `INSERT INTO incident_events (incident_id, kind, at, actor_user_id, actor, actor_org_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, incID, kind, now, store.NullID(a.UserID), a.Label(), store.NullID(a.OrgID),
		string(b)).Scan(&ev.ID)
	return ev, err
}

func loadEvents(ctx context.Context, q store.Q, incID int64) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT id, incident_id, kind, at, COALESCE(actor_user_id, 0), actor,
		COALESCE(actor_org_id, 0), detail FROM incident_events WHERE incident_id = ? ORDER BY id`, incID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var detail string
		if err := rows.Scan(&ev.ID, &ev.IncidentID, &ev.Kind, &ev.At, &ev.ActorID, &ev.Actor, &ev.ActorOrgID, &detail); err != nil {
			return nil, err
		}
		ev.At = ev.At.UTC()
		if err := json.Unmarshal([]byte(detail), &ev.Detail); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

const reportCols = `id, incident_id, kind, body, COALESCE(submitted_by, 0), submitted_by_name,
	COALESCE(submitted_org_id, 0), submitted_at, COALESCE(ack_by, 0), ack_by_name, COALESCE(ack_org_id, 0), ack_at`

func scanReport(sc scanner) (Report, error) {
	var r Report
	var kind, body string
	var ack sql.NullTime
	err := sc.Scan(&r.ID, &r.IncidentID, &kind, &body, &r.SubmittedBy, &r.SubmittedName, &r.SubmittedOrgID,
		&r.SubmittedAt, &r.AckBy, &r.AckName, &r.AckOrgID, &ack)
	if err != nil {
		return r, err
	}
	r.Kind = ReportKind(kind)
	r.SubmittedAt = r.SubmittedAt.UTC()
	r.AckAt = store.TimeOf(ack)
	if err := json.Unmarshal([]byte(body), &r.Body); err != nil {
		return r, fmt.Errorf("report %d: %w", r.ID, err)
	}
	return r, nil
}

func loadReports(ctx context.Context, q store.Q, incID int64) ([]Report, error) {
	by, err := reportsOf(ctx, q, []int64{incID})
	return by[incID], err
}

// reportsOf reads the reports of several incidents in one query, oldest
// first, by incident.
func reportsOf(ctx context.Context, q store.Q, incIDs []int64) (map[int64][]Report, error) {
	out := map[int64][]Report{}
	if len(incIDs) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, "SELECT "+reportCols+" FROM incident_reports WHERE incident_id IN ("+idList(incIDs)+") ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out[r.IncidentID] = append(out[r.IncidentID], r)
	}
	return out, rows.Err()
}

func insertReport(ctx context.Context, tx *store.Tx, r *Report) error {
	b, err := json.Marshal(r.Body)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO incident_reports (incident_id, kind, body, submitted_by, submitted_by_name,
		submitted_org_id, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.IncidentID, string(r.Kind), string(b), store.NullID(r.SubmittedBy), r.SubmittedName, store.NullID(r.SubmittedOrgID),
		r.SubmittedAt).Scan(&r.ID)
}

// idList renders ids for an IN (...) list; ids are integers, so inlining
// them is safe.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// SearchText is the folded text the full-text index holds for inc, with
// the names of its organisations (for bulk loaders such as certnet bench).
func SearchText(inc Incident, orgNames ...string) string { return searchText(inc, orgNames...) }
