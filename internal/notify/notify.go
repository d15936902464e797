// Package notify is certnet's transactional outbox. A feature that has
// something to tell people calls Enqueue with the transaction that makes the
// change, so the notification exists exactly when the change does: a crash
// before the commit loses both, a crash after it loses neither. A second
// Enqueue with the same Key is dropped.
//
// Two background jobs (internal/jobs, one node at a time each) carry it on:
//
//   - notify.fanout takes the notifications not yet fanned out, oldest
//     first, and for each one, in ONE transaction: marks it fanned (a
//     conditional UPDATE, so a second dispatcher finds nothing to do),
//     resolves the recipients (the active people of Orgs holding one of
//     Roles, plus Users; each must be allowed by the TLP label to see the
//     content: RED reaches the named Users only, and naming a person shares
//     AMBER content with their organisation), writes their inbox entries
//     and the deliveries: an e-mail per recipient with an address whose
//     preference for the kind is on, a call per active webhook of the
//     organisations in Orgs subscribed to the kind. Exercises and RED
//     content never leave certnet through webhooks; exercises not by
//     e-mail either. Either all of this is committed or none of it.
//   - notify.deliver claims due deliveries (claimed_until, claimed_by: a
//     conditional UPDATE that only succeeds on a free or expired claim),
//     sends them, and records the outcome under its claim: sent, or failed
//     with attempts+1 and the next attempt after 1, 2, 4 … minutes (capped
//     at an hour), dead after MaxAttempts (shown on /admin/outbox).
//
// Exactly once, with one window. Everything up to the send is
// transactional, and a claimed delivery is sent by its claimer only. The
// one gap is between the send and the commit of "sent": if the process
// dies (or the database is unreachable) after the SMTP server accepted the
// DATA or the webhook answered 2xx, and before the UPDATE that records it
// commits, the row is still pending with a claim that expires after Claim
// (5 minutes); another run then sends it again. That resend carries the
// same delivery id — the e-mail's Message-ID <certnet.delivery.{id}@{host}>
// and the webhook's X-Certnet-Delivery header — so receivers can recognise
// and drop it. A crash before the send (after the claim) sends it once,
// when the claim expires. Nothing else can send a delivery twice.
//
// E-mails and webhook calls of content above TLP:GREEN carry the subject and
// the link only, never the body.
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
