package intel

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Recipient states: delivered → acknowledged → reported.
const (
	RecipientDelivered    = "delivered"
	RecipientAcknowledged = "acknowledged"
	RecipientReported     = "reported"
)

// RecipientStatuses lists the states in order.
var RecipientStatuses = []string{RecipientDelivered, RecipientAcknowledged, RecipientReported}

// Outcomes a recipient reports.
const (
	OutcomeRemediated  = "remediated"
	OutcomeNotAffected = "not_affected"
	OutcomeInProgress  = "in_progress"
)

// Outcomes lists the outcomes.
var Outcomes = []string{OutcomeRemediated, OutcomeNotAffected, OutcomeInProgress}

const maxNote = 10000

// Recipient is one organisation's part of an advisory.
type Recipient struct {
	ID             int64     `json:"id"`
	AdvisoryID     int64     `json:"advisory_id"`
	OrgID          int64     `json:"org_id"`
	OrgCode        string    `json:"org_code"`
	OrgName        string    `json:"org_name"`
	Sector         string    `json:"sector,omitempty"`
	ProvinceCode   string    `json:"province_code,omitempty"`
	Status         string    `json:"status"`
	Outcome        string    `json:"outcome,omitempty"`
	Note           string    `json:"note,omitempty"`
	DeliveredAt    time.Time `json:"delivered_at"`
	AckDueAt       time.Time `json:"ack_due_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ReportedAt     time.Time `json:"reported_at,omitzero"`
	UpdatedName    string    `json:"updated_name,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
	AckLevel       int       `json:"ack_level"`
	DueLevel       int       `json:"due_level"`
}

// Done reports whether the recipient reported a final outcome.
func (r Recipient) Done() bool {
	return r.Status == RecipientReported && r.Outcome != OutcomeInProgress
}

// AckLate reports whether the recipient has not acknowledged by its due
// time at now.
func (r Recipient) AckLate(now time.Time) bool {
	return r.Status == RecipientDelivered && !now.Before(r.AckDueAt)
}

const recipientCols = `r.id, r.advisory_id, r.org_id, o.code, o.name, o.sector, COALESCE(o.province_code, ''), r.status, r.outcome, r.note,
	r.delivered_at, r.ack_due_at, r.acknowledged_at, r.reported_at, r.updated_name, r.updated_at, r.ack_level, r.due_level`

const recipientFrom = ` FROM advisory_recipients r JOIN organisations o ON o.id = r.org_id`

func scanRecipient(sc scanner) (Recipient, error) {
	var r Recipient
	var ack, rep sql.NullTime
	if err := sc.Scan(&r.ID, &r.AdvisoryID, &r.OrgID, &r.OrgCode, &r.OrgName, &r.Sector, &r.ProvinceCode, &r.Status, &r.Outcome, &r.Note,
		&r.DeliveredAt, &r.AckDueAt, &ack, &rep, &r.UpdatedName, &r.UpdatedAt, &r.AckLevel, &r.DueLevel); err != nil {
		return Recipient{}, err
	}
	r.DeliveredAt, r.AckDueAt, r.UpdatedAt = r.DeliveredAt.UTC(), r.AckDueAt.UTC(), r.UpdatedAt.UTC()
	r.AcknowledgedAt, r.ReportedAt = store.TimeOf(ack), store.TimeOf(rep)
	return r, nil
}

func recipientOf(ctx context.Context, q store.Q, advisoryID, orgID int64) (Recipient, error) {
	return scanRecipient(q.QueryRow(ctx, "SELECT "+recipientCols+recipientFrom+" WHERE r.advisory_id = ? AND r.org_id = ?", advisoryID, orgID))
}

// RecipientFilter narrows the recipient list.
type RecipientFilter struct {
	Status   string // delivered, acknowledged, reported
	Outcome  string
	Sector   string
	Province string
	Overdue  bool // deadline passed (or acknowledgement late) and not done
}

// scopeCond limits recipients to the actor's scope unless it manages the
// advisory.
func scopeCond(a policy.Actor, v Advisory) (string, []any) {
	if AdvisoryManager(a, v) || a.System || a.Scope.All {
		return "", nil
	}
	ids := a.Scope.IDs()
	if len(ids) == 0 {
		return " AND 1 = 0", nil
	}
	in, args := store.InList(ids)
	return " AND r.org_id IN " + in, args
}

// Recipients lists an advisory's recipients the actor may follow: every
// one for the publisher's side, those of its scope for the others (a
// response unit follows its members); in organisation name order.
func (s *Service) Recipients(ctx context.Context, a policy.Actor, id int64, f RecipientFilter) ([]Recipient, error) {
	const op = "advisory: recipients"
	v, err := s.readable(ctx, s.DB, a, id)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	q := "SELECT " + recipientCols + recipientFrom + " WHERE r.advisory_id = ?"
	args := []any{id}
	cond, cargs := scopeCond(a, v)
	q += cond
	args = append(args, cargs...)
	if f.Status != "" {
		q += " AND r.status = ?"
		args = append(args, f.Status)
	}
	if f.Outcome != "" {
		q += " AND r.outcome = ?"
		args = append(args, f.Outcome)
	}
	if f.Sector != "" {
		q += " AND o.sector = ?"
		args = append(args, f.Sector)
	}
	if f.Province != "" {
		q += " AND o.province_code = ?"
		args = append(args, f.Province)
	}
	if f.Overdue {
		now := s.stamp()
		c := "(r.status = ? AND r.ack_due_at <= ?)"
		args = append(args, RecipientDelivered, now)
		if v.Overdue(now) {
			c += " OR r.status <> ? OR r.outcome = ?"
			args = append(args, RecipientReported, OutcomeInProgress)
		}
		q += " AND (" + c + ")"
	}
	q += " ORDER BY o.name, r.id"
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Recipient{}
	for rows.Next() {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, r)
	}
	return out, errs.Ensure(op, rows.Err())
}

// Rate is one line of the rates: how many recipients, how many
// acknowledged (or reported), reported, and done (remediated or not
// affected).
type Rate struct {
	Key          string `json:"key"` // sector or province code; "" for none
	Name         string `json:"name,omitempty"`
	Total        int    `json:"total"`
	Acknowledged int    `json:"acknowledged"`
	Reported     int    `json:"reported"`
	Remediated   int    `json:"remediated"`
	NotAffected  int    `json:"not_affected"`
	InProgress   int    `json:"in_progress"`
}

// AckRate is the share acknowledged, 0–100.
func (r Rate) AckRate() float64 { return pct(r.Acknowledged, r.Total) }

// DoneRate is the share remediated or not affected, 0–100.
func (r Rate) DoneRate() float64 { return pct(r.Remediated+r.NotAffected, r.Total) }

func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) * 100 / float64(total)
}

// Rates are an advisory's acknowledgement and remediation rates overall,
// per sector and per province.
type Rates struct {
	Overall    Rate   `json:"overall"`
	BySector   []Rate `json:"by_sector"`
	ByProvince []Rate `json:"by_province"`
}

// Rates computes the advisory's rates over the recipients the actor may
// follow (see Recipients).
func (s *Service) Rates(ctx context.Context, a policy.Actor, id int64) (Rates, error) {
	const op = "advisory: rates"
	v, err := s.readable(ctx, s.DB, a, id)
	if err != nil {
		return Rates{}, store.Wrap(op, err)
	}
	cond, cargs := scopeCond(a, v)
	sums := `COUNT(*),
		COALESCE(SUM(CASE WHEN r.status <> 'delivered' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN r.status = 'reported' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN r.status = 'reported' AND r.outcome = 'remediated' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN r.status = 'reported' AND r.outcome = 'not_affected' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN r.status = 'reported' AND r.outcome = 'in_progress' THEN 1 ELSE 0 END), 0)`
	group := func(key, name, join, by string) ([]Rate, error) {
		q := "SELECT " + key + ", " + name + ", " + sums + recipientFrom + join + " WHERE r.advisory_id = ?" + cond
		if by != "" {
			q += " GROUP BY " + by + " ORDER BY " + by
		}
		rows, err := s.DB.Query(ctx, q, append([]any{id}, cargs...)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []Rate{}
		for rows.Next() {
			var r Rate
			if err := rows.Scan(&r.Key, &r.Name, &r.Total, &r.Acknowledged, &r.Reported, &r.Remediated, &r.NotAffected, &r.InProgress); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}
	var out Rates
	all, err := group("''", "''", "", "")
	if err != nil {
		return Rates{}, errs.Internal(op, err)
	}
	if len(all) == 1 {
		out.Overall = all[0]
	}
	if out.BySector, err = group("o.sector", "''", "", "o.sector"); err != nil {
		return Rates{}, errs.Internal(op, err)
	}
	if out.ByProvince, err = group("COALESCE(o.province_code, '')", "COALESCE(p.name, '')", " LEFT JOIN provinces p ON p.code = o.province_code",
		"o.province_code, p.name"); err != nil {
		return Rates{}, errs.Internal(op, err)
	}
	return out, nil
}

// RespondInput is a recipient's answer: acknowledge, or report an outcome
// with a note (required unless the outcome is not affected).
type RespondInput struct {
	Acknowledge bool
	Outcome     string
	Note        string
}

// nextOK says which answers a recipient in each state may give: a report
// needs an acknowledgement first; "in progress" may be followed by another
// report; a final outcome ends it.
func nextOK(r Recipient, in RespondInput) bool {
	switch {
	case in.Acknowledge:
		return r.Status == RecipientDelivered
	default:
		return r.Status == RecipientAcknowledged || r.Status == RecipientReported && r.Outcome == OutcomeInProgress
	}
}

// Respond records the actor's organisation's answer to an advisory.
func (s *Service) Respond(ctx context.Context, a policy.Actor, id int64, in RespondInput) (Recipient, error) {
	const op = "advisory: respond"
	in.Note = strings.TrimSpace(in.Note)
	var out Recipient
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		v, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		r, err := recipientOf(ctx, tx, id, a.OrgID)
		if store.IsNoRows(err) {
			return errs.Forbidden(op)
		}
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.AdvisoryRespond, policy.Resource{OwnerOrg: r.OrgID, TLP: policy.TLPGreen}); err != nil {
			return err
		}
		e := errs.Invalid(op)
		if !in.Acknowledge {
			if !slices.Contains(Outcomes, in.Outcome) {
				e.Field("outcome", "field.required")
			}
			checkAdvText(e, "note", in.Note, maxNote, true, in.Outcome != OutcomeNotAffected)
		}
		if err := e.OrNil(); err != nil {
			return err
		}
		if v.Status != AdvisoryPublished {
			return errs.Conflict(op, "intel.adv.err.not_published")
		}
		if !nextOK(r, in) {
			to := RecipientReported
			if in.Acknowledge {
				to = RecipientAcknowledged
			}
			return errs.Conflict(op, "intel.adv.err.transition", r.Status, to)
		}
		before := r
		r.UpdatedName, r.UpdatedAt = a.Label(), now
		if in.Acknowledge {
			r.Status, r.AcknowledgedAt = RecipientAcknowledged, now
		} else {
			r.Status, r.Outcome, r.Note, r.ReportedAt = RecipientReported, in.Outcome, in.Note, now
		}
		res, err := tx.Exec(ctx, `UPDATE advisory_recipients SET status = ?, outcome = ?, note = ?, acknowledged_at = ?, reported_at = ?,
			first_reported_at = COALESCE(first_reported_at, ?), updated_name = ?, updated_at = ? WHERE id = ? AND status = ? AND outcome = ?`,
			r.Status, r.Outcome, r.Note, store.NullTime(r.AcknowledgedAt), store.NullTime(r.ReportedAt), store.NullTime(r.ReportedAt),
			r.UpdatedName, now, r.ID, before.Status, before.Outcome)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "intel.adv.err.changed")
		}
		if !in.Acknowledge {
			if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindAdvisoryAnswered,
				Key: fmt.Sprintf("advisory:%d:recipient:%d:%s:%d", id, r.ID, r.Outcome, now.UnixMicro()),
				// The subject names no organisation: the recipient's name may be
				// hidden from the publisher by its label; the page masks it.
				Orgs: []int64{v.OwnerOrgID}, Subject: errs.Msg{Key: "intel.adv.msg.answered_" + r.Outcome, Args: []any{v.Title}},
				Body: errs.Msg{Key: "intel.adv.msg.note", Args: []any{r.Note}},
				Link: fmt.Sprintf("/advisories/%d", id), TLP: v.TLP, Exercise: v.ExerciseID != 0}); err != nil {
				return err
			}
		}
		out = r
		action := "advisory.acknowledge"
		if !in.Acknowledge {
			action = "advisory.report"
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: r.OrgID, Action: action, Entity: "advisory_recipient",
			EntityID: fmt.Sprint(r.ID), Before: before, After: r})
	})
	if err != nil {
		return Recipient{}, store.Wrap(op, err)
	}
	return out, nil
}

// Waiting lists the published advisories the actor's organisation has not
// finished answering (not acknowledged, or not reported a final outcome),
// with its recipient row, oldest deadline first: the dashboard's "needs
// me".
func (s *Service) Waiting(ctx context.Context, a policy.Actor) ([]AdvisoryRow, error) {
	const op = "advisory: waiting"
	if a.OrgID == 0 {
		return nil, nil
	}
	ids, err := store.IDs(ctx, s.DB, `SELECT v.id FROM advisories v JOIN advisory_recipients r ON r.advisory_id = v.id
		WHERE r.org_id = ? AND v.status = ? AND v.exercise_id IS NULL AND (r.status <> ? OR r.outcome = ?) ORDER BY v.deadline_at, v.id LIMIT 100`,
		a.OrgID, AdvisoryPublished, RecipientReported, OutcomeInProgress)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	out := []AdvisoryRow{}
	for _, id := range ids {
		v, err := s.readable(ctx, s.DB, a, id)
		if err != nil {
			continue
		}
		r, err := recipientOf(ctx, s.DB, id, a.OrgID)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, AdvisoryRow{Advisory: v, Mine: &r})
	}
	return out, nil
}
