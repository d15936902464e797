// Package notify is certnet's transactional outbox. A feature that has
// something to tell people calls Enqueue with the transaction that makes the
// change, so the notification exists exactly when the change does: a crash
// before the commit loses both, a crash after it loses neither. The
// dispatcher (a background job) later fans each notification out to the
// recipients' in-app inboxes, e-mails and the organisations' webhooks,
// according to each person's preferences, and marks it fanned; deliveries
// carry a stable id so that a retried delivery is recognisable as the same.
package notify

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Message is one thing to tell people.
type Message struct {
	// Kind names what happened, e.g. "order.issued", "incident.overdue";
	// people choose per kind how they are told (preferences).
	Kind string
	// Key makes Enqueue idempotent: a second message with a key already
	// queued is dropped. Build it from what the message is about, e.g.
	// "order:42:target:7:escalate:1".
	Key string
	// Orgs: the people of these organisations (those holding one of Roles,
	// everyone when Roles is empty) and the organisations' webhooks.
	Orgs  []int64
	Roles []policy.Role
	// Users: these people, whatever their organisation.
	Users []int64
	// Subject and Body are catalogue messages, rendered in each
	// recipient's language when delivered.
	Subject errs.Msg
	Body    errs.Msg
	// Link is the path in the web UI the message is about
	// (e.g. /incidents/SC-2026-000001).
	Link string
	// TLP of the content: e-mails and webhooks of anything above GREEN
	// carry the subject and the link only, never the body.
	TLP policy.TLP
	// Exercise marks a drill's message (issue 7): shown as exercise and
	// never sent outside the drill's participants.
	Exercise bool
}

// Limits of a message's fields.
const (
	MaxKindLen = 64
	MaxKeyLen  = 200
	MaxLinkLen = 500
)

// msgJSON is how a catalogue message is stored.
type msgJSON struct {
	Key  string `json:"key"`
	Args []any  `json:"args,omitempty"`
}

// Enqueue writes the message into the outbox inside the caller's
// transaction. A message whose Key is already queued is dropped silently.
func Enqueue(ctx context.Context, q store.Q, now time.Time, m Message) error {
	const op = "notify: enqueue"
	if m.Kind == "" || len(m.Kind) > MaxKindLen || m.Key == "" || len(m.Key) > MaxKeyLen ||
		m.Subject.Key == "" || len(m.Link) > MaxLinkLen || (len(m.Orgs) == 0 && len(m.Users) == 0) {
		// A programming error of the caller, not bad input of a user.
		return errs.Internal(op, errBadMessage)
	}
	if m.Link != "" && !strings.HasPrefix(m.Link, "/") {
		return errs.Internal(op, errBadMessage)
	}
	tlp := m.TLP
	if tlp == "" {
		tlp = policy.TLPAmber
	}
	enc := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}
	orgs, err := enc(nonNil(m.Orgs))
	if err != nil {
		return errs.Internal(op, err)
	}
	roles, _ := enc(nonNil(m.Roles))
	users, _ := enc(nonNil(m.Users))
	subj, err := enc(msgJSON{m.Subject.Key, m.Subject.Args})
	if err != nil {
		return errs.Internal(op, err)
	}
	body := "{}"
	if m.Body.Key != "" {
		if body, err = enc(msgJSON{m.Body.Key, m.Body.Args}); err != nil {
			return errs.Internal(op, err)
		}
	}
	_, err = q.Exec(ctx, `INSERT INTO notifications (kind, dedupe_key, org_ids, roles, user_ids, subject, body, link, tlp, exercise, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		m.Kind, m.Key, orgs, roles, users, subj, body, m.Link, string(tlp), m.Exercise, now.UTC())
	if err != nil {
		return errs.Internal(op, err)
	}
	return nil
}

type badMessage struct{}

func (badMessage) Error() string { return "message without kind, key, subject or recipients" }

var errBadMessage error = badMessage{}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
