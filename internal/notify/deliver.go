package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusSent      = "sent"
	StatusDead      = "dead"
	StatusCancelled = "cancelled"
)

// Delivery is one e-mail or webhook call.
type Delivery struct {
	ID             int64      `json:"id"`
	NotificationID int64      `json:"notification_id,omitempty"`
	Kind           string     `json:"kind"`
	Channel        string     `json:"channel"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  time.Time  `json:"next_attempt_at"`
	LastError      string     `json:"last_error,omitempty"`
	LastStatus     int        `json:"last_status,omitempty"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

const deliveryCols = `d.id, COALESCE(d.notification_id, 0), COALESCE(n.kind, ''), d.channel, d.status, d.attempts,
	d.next_attempt_at, d.last_error, d.last_status, d.sent_at, d.created_at`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var sent sql.NullTime
	if err := sc.Scan(&d.ID, &d.NotificationID, &d.Kind, &d.Channel, &d.Status, &d.Attempts, &d.NextAttemptAt,
		&d.LastError, &d.LastStatus, &sent, &d.CreatedAt); err != nil {
		return d, err
	}
	if d.Kind == "" && d.NotificationID == 0 {
		d.Kind = WebhookTestKind
	}
	if sent.Valid {
		t := sent.Time.UTC()
		d.SentAt = &t
	}
	d.NextAttemptAt, d.CreatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC()
	return d, nil
}

func (s *Service) delivery(ctx context.Context, id int64) (Delivery, error) {
	d, err := scanDelivery(s.DB.QueryRow(ctx, "SELECT "+deliveryCols+" FROM notify_deliveries d LEFT JOIN notifications n ON n.id = d.notification_id WHERE d.id = ?", id))
	if err != nil {
		return d, errs.Internal("notify: delivery", err)
	}
	return d, nil
}

// Deliver is one run of the sender: it claims the due deliveries, sends
// them and records each outcome. It returns how many it attempted.
//
// A claim is a conditional UPDATE of claimed_until/claimed_by on a pending
// row whose claim is free or expired, so two senders never hold the same
// row; the outcome is written only by the holder of the claim. One
// statement claims the whole batch (the condition is checked again on each
// row it updates, so a row another sender claimed meanwhile is left out).
func (s *Service) Deliver(ctx context.Context) (int, error) {
	now := s.now()
	claimed, err := store.IDs(ctx, s.DB, `UPDATE notify_deliveries SET claimed_until = ?, claimed_by = ?
		WHERE id IN (SELECT id FROM notify_deliveries WHERE `+claimable+` AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?)
		AND `+claimable+` RETURNING id`, now.Add(s.claim()), s.Node(), now, now, s.batch(), now)
	if err != nil {
		return 0, fmt.Errorf("notify: deliver: claim: %w", err)
	}
	slices.Sort(claimed)
	// A few at a time: one slow endpoint does not hold up the others.
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, id := range claimed {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.send(ctx, id)
		}()
	}
	wg.Wait()
	return len(claimed), nil
}

// claimable: a pending delivery whose claim is free or expired at the
// time given as its one argument.
const claimable = "status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)"

func (s *Service) claimOne(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := s.DB.Exec(ctx, `UPDATE notify_deliveries SET claimed_until = ?, claimed_by = ? WHERE id = ? AND `+claimable,
		now.Add(s.claim()), s.Node(), id, now)
	if err != nil {
		return false, fmt.Errorf("notify: claim %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// errGone: the recipient or endpoint went away; the delivery is cancelled.
var errGone = errors.New("recipient gone")

// send makes one claimed delivery and records the outcome.
func (s *Service) send(ctx context.Context, id int64) {
	var channel, address string
	var nid, uid, wid sql.NullInt64
	var attempts int
	err := s.DB.QueryRow(ctx, "SELECT channel, notification_id, user_id, webhook_id, address, attempts FROM notify_deliveries WHERE id = ?", id).
		Scan(&channel, &nid, &uid, &wid, &address, &attempts)
	if err != nil {
		s.Log.Warn("notify: load delivery", "id", id, "err", err)
		return
	}
	var status int
	switch channel {
	case "email":
		err = s.sendEmail(ctx, id, nid.Int64, uid.Int64, address)
	case "webhook":
		status, err = s.sendWebhook(ctx, id, nid, wid.Int64, address)
	default:
		err = fmt.Errorf("unknown channel %q", channel)
	}
	s.record(ctx, id, attempts+1, status, err)
}

// record writes the outcome of an attempt, if this node still holds the
// claim.
func (s *Service) record(ctx context.Context, id int64, attempt, status int, sendErr error) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	var err error
	switch {
	case sendErr == nil:
		_, err = s.DB.Exec(ctx, `UPDATE notify_deliveries SET status = 'sent', sent_at = ?, attempts = ?, last_status = ?, last_error = '',
			claimed_until = NULL WHERE id = ? AND claimed_by = ?`, now, attempt, status, id, s.Node())
	case errors.Is(sendErr, errGone):
		_, err = s.DB.Exec(ctx, `UPDATE notify_deliveries SET status = 'cancelled', last_error = ?, claimed_until = NULL
			WHERE id = ? AND claimed_by = ?`, sendErr.Error(), id, s.Node())
	default:
		msg := sendErr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		st := StatusPending
		if attempt >= s.maxAttempts() {
			st = StatusDead
		}
		_, err = s.DB.Exec(ctx, `UPDATE notify_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?,
			next_attempt_at = ?, claimed_until = NULL WHERE id = ? AND claimed_by = ?`,
			st, attempt, status, msg, now.Add(Backoff(attempt)), id, s.Node())
		s.Log.Info("notify: delivery failed", "id", id, "attempt", attempt, "status", st, "err", msg)
	}
	if err != nil {
		s.Log.Warn("notify: record delivery", "id", id, "err", err)
	}
}

// stored is a notification as the sender needs it.
type stored struct {
	ID        int64
	Kind      string
	Subject   errs.Msg
	Body      errs.Msg
	Link      string
	TLP       policy.TLP
	Exercise  bool
	CreatedAt time.Time
}

func (s *Service) loadNotification(ctx context.Context, id int64) (stored, error) {
	var n stored
	var subj, body, tlp string
	err := s.DB.QueryRow(ctx, "SELECT id, kind, subject, body, link, tlp, exercise, created_at FROM notifications WHERE id = ?", id).
		Scan(&n.ID, &n.Kind, &subj, &body, &n.Link, &tlp, &n.Exercise, &n.CreatedAt)
	n.Subject, n.Body, n.TLP, n.CreatedAt = decodeMsg(subj), decodeMsg(body), policy.TLP(tlp), n.CreatedAt.UTC()
	return n, err
}

// bodyAllowed: only CLEAR and GREEN content leaves certnet with its body.
func bodyAllowed(t policy.TLP) bool { return t == policy.TLPClear || t == policy.TLPGreen }

func (s *Service) sendWebhook(ctx context.Context, id int64, nid sql.NullInt64, wid int64, url string) (int, error) {
	secret, live, err := loadSecret(ctx, s.DB, wid)
	if err != nil {
		return 0, err
	}
	if !live {
		return 0, fmt.Errorf("%w: endpoint inactive or deleted", errGone)
	}
	var p Payload
	if nid.Valid {
		n, err := s.loadNotification(ctx, nid.Int64)
		if err != nil {
			return 0, err
		}
		p = Payload{ID: n.ID, Kind: n.Kind, CreatedAt: n.CreatedAt, Subject: Render(i18n.VI, n.Subject), Link: s.link(n.Link),
			TLP: string(n.TLP), Exercise: n.Exercise}
		if bodyAllowed(n.TLP) && n.Body.Key != "" {
			p.Body = Render(i18n.VI, n.Body)
		}
	} else {
		p = Payload{Kind: WebhookTestKind, CreatedAt: s.now(), Subject: i18n.T(i18n.VI, "notify.webhook.test_subject"),
			Link: s.link("/inbox"), TLP: string(policy.TLPClear)}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	return s.postWebhook(ctx, id, p.Kind, url, secret, body)
}

// labelPrefix marks a message argument that is itself a catalogue key
// (Label), translated into the recipient's language when rendered.
const labelPrefix = "\x00i18n:"

// Label is a message argument shown translated in each recipient's
// language (a status, a type, a report kind), where a plain string would
// show the code itself.
func Label(key string) string { return labelPrefix + key }

// Render renders a stored catalogue message in language l, translating
// the arguments made with Label.
func Render(l i18n.Lang, m errs.Msg) string {
	if m.Key == "" {
		return ""
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		if s, ok := a.(string); ok && strings.HasPrefix(s, labelPrefix) {
			a = i18n.T(l, strings.TrimPrefix(s, labelPrefix))
		}
		args[i] = a
	}
	return i18n.T(l, m.Key, args...)
}
