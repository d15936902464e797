package notify

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"certnet/internal/policy"
	"certnet/internal/store"
)

// pending is a notification waiting for its fan-out.
type pending struct {
	id       int64
	kind     string
	orgs     []int64
	roles    []string
	users    []int64
	tlp      policy.TLP
	exercise bool
}

type recipient struct {
	id     int64
	orgID  int64
	email  string
	listed bool
}

// Fanout is one run of the dispatcher: it takes the notifications not yet
// fanned out, oldest first, and writes each one's inbox entries and
// deliveries in one transaction with the mark that it was fanned. It
// returns how many it fanned; it kicks the sender when it made deliveries.
func (s *Service) Fanout(ctx context.Context) (int, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, org_ids, roles, user_ids, tlp, exercise FROM notifications
		WHERE fanned_at IS NULL ORDER BY id LIMIT ?`, s.batch())
	if err != nil {
		return 0, fmt.Errorf("notify: fan-out: %w", err)
	}
	var todo []pending
	for rows.Next() {
		var p pending
		var orgs, roles, users, tlp string
		if err := rows.Scan(&p.id, &p.kind, &orgs, &roles, &users, &tlp, &p.exercise); err != nil {
			rows.Close()
			return 0, fmt.Errorf("notify: fan-out: %w", err)
		}
		p.orgs, p.roles, p.users, p.tlp = decodeIDs(orgs), decodeStrings(roles), decodeIDs(users), policy.TLP(tlp)
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("notify: fan-out: %w", err)
	}
	n, deliveries := 0, 0
	scopes := map[int64]policy.Scope{}
	for _, p := range todo {
		d, done, err := s.fanOne(ctx, p, scopes)
		if err != nil {
			return n, err
		}
		if done {
			n++
			deliveries += d
		}
	}
	if deliveries > 0 {
		s.kick(JobDeliver)
	}
	return n, nil
}

// recipients resolves who a notification is for: the active people of Orgs
// holding one of Roles (everyone when empty) plus Users, deduplicated,
// each of whom the TLP label lets see the content.
func (s *Service) recipients(ctx context.Context, q store.Q, p pending, scopes map[int64]policy.Scope) ([]recipient, error) {
	seen := map[int64]*recipient{}
	var order []int64
	add := func(rows *sql.Rows, listed bool) error {
		defer rows.Close()
		for rows.Next() {
			var r recipient
			if err := rows.Scan(&r.id, &r.orgID, &r.email); err != nil {
				return err
			}
			if prev, ok := seen[r.id]; ok {
				prev.listed = prev.listed || listed
				continue
			}
			r.listed = listed
			seen[r.id] = &r
			order = append(order, r.id)
		}
		return rows.Err()
	}
	const base = `SELECT u.id, u.org_id, u.email FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE u.disabled = ? AND o.active = ? AND `
	if len(p.orgs) > 0 {
		q1 := base + "u.org_id IN (" + placeholders(len(p.orgs)) + ")"
		args := append([]any{false, true}, int64Args(p.orgs)...)
		if len(p.roles) > 0 {
			q1 += " AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role IN (" + placeholders(len(p.roles)) + "))"
			for _, r := range p.roles {
				args = append(args, r)
			}
		}
		rows, err := q.Query(ctx, q1+" ORDER BY u.id", args...)
		if err != nil {
			return nil, err
		}
		if err := add(rows, false); err != nil {
			return nil, err
		}
	}
	if len(p.users) > 0 {
		rows, err := q.Query(ctx, base+"u.id IN ("+placeholders(len(p.users))+") ORDER BY u.id",
			append([]any{false, true}, int64Args(p.users)...)...)
		if err != nil {
			return nil, err
		}
		if err := add(rows, true); err != nil {
			return nil, err
		}
	}
	// Naming a person shares the message with their organisation (AMBER,
	// AMBER+STRICT); RED goes to the named people only.
	res := policy.Resource{TLP: p.tlp, Recipients: p.users, SharedOrgs: slices.Clone(p.orgs)}
	if len(p.orgs) > 0 {
		res.OwnerOrg = p.orgs[0]
	}
	for _, id := range order {
		if r := seen[id]; r.listed && !slices.Contains(res.SharedOrgs, r.orgID) {
			res.SharedOrgs = append(res.SharedOrgs, r.orgID)
		}
	}
	var out []recipient
	for _, id := range order {
		r := seen[id]
		sc, ok := scopes[r.orgID]
		if !ok {
			var err error
			if sc, err = s.Orgs.ScopeOf(ctx, r.orgID); err != nil {
				// An organisation the registry cannot place sees only
				// what anyone in the network sees; the message is not
				// held up for everyone else.
				s.Log.Warn("notify: scope of recipient", "user", r.id, "org", r.orgID, "err", err)
				sc = policy.Scope{}
			}
			scopes[r.orgID] = sc
		}
		if policy.CanSee(policy.Actor{UserID: r.id, OrgID: r.orgID, Scope: sc}, res) {
			out = append(out, *r)
		}
	}
	return out, nil
}

// fanOne fans one notification out in one transaction. done is false when
// another dispatcher fanned it first.
func (s *Service) fanOne(ctx context.Context, p pending, scopes map[int64]policy.Scope) (deliveries int, done bool, err error) {
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		// Claim the notification first: a second dispatcher blocks here (or
		// finds it fanned) and writes nothing.
		res, err := tx.Exec(ctx, "UPDATE notifications SET fanned_at = ? WHERE id = ? AND fanned_at IS NULL", now, p.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		done = true
		rcpts, err := s.recipients(ctx, tx, p, scopes)
		if err != nil {
			return err
		}
		emailOff := map[int64]bool{}
		if len(rcpts) > 0 && !p.exercise && s.Mailer != nil {
			ids := make([]any, 0, len(rcpts)+1)
			ids = append(ids, p.kind)
			for _, r := range rcpts {
				ids = append(ids, r.id)
			}
			rows, err := tx.Query(ctx, "SELECT user_id, email FROM notify_prefs WHERE kind = ? AND user_id IN ("+placeholders(len(rcpts))+")", ids...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				var on bool
				if err := rows.Scan(&id, &on); err != nil {
					rows.Close()
					return err
				}
				emailOff[id] = !on
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, r := range rcpts {
			if _, err := tx.Exec(ctx, `INSERT INTO notify_inbox (user_id, notification_id, created_at) VALUES (?, ?, ?)
				ON CONFLICT (user_id, notification_id) DO NOTHING`, r.id, p.id, now); err != nil {
				return err
			}
			// Exercise messages stay inside certnet.
			if p.exercise || s.Mailer == nil || r.email == "" || emailOff[r.id] {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_deliveries (notification_id, channel, user_id, address, next_attempt_at, created_at)
				VALUES (?, 'email', ?, ?, ?, ?)`, p.id, r.id, r.email, now, now); err != nil {
				return err
			}
			deliveries++
		}
		// Webhooks belong to organisations, never to named people: RED
		// content and exercises do not leave certnet through them.
		if p.exercise || p.tlp == policy.TLPRed || !p.tlp.Valid() || len(p.orgs) == 0 {
			return nil
		}
		hooks, err := activeWebhooks(ctx, tx, p.orgs)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			if !h.Subscribed(p.kind) {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_deliveries (notification_id, channel, webhook_id, address, next_attempt_at, created_at)
				VALUES (?, 'webhook', ?, ?, ?, ?)`, p.id, h.ID, h.URL, now, now); err != nil {
				return err
			}
			deliveries++
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("notify: fan-out %d: %w", p.id, err)
	}
	return deliveries, done, nil
}

func activeWebhooks(ctx context.Context, q store.Q, orgs []int64) ([]Webhook, error) {
	rows, err := q.Query(ctx, "SELECT "+webhookCols+" FROM notify_webhooks WHERE active = ? AND deleted_at IS NULL AND org_id IN ("+
		placeholders(len(orgs))+") ORDER BY id", append([]any{true}, int64Args(orgs)...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		h, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
