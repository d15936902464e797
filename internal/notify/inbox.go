package notify

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Item is one entry of a person's inbox.
type Item struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Subject   errs.Msg   `json:"-"`
	Body      errs.Msg   `json:"-"`
	Link      string     `json:"link"`
	TLP       policy.TLP `json:"tlp"`
	Exercise  bool       `json:"exercise"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// InboxFilter selects inbox entries.
type InboxFilter struct {
	UnreadOnly bool
	Limit      int // 50 when 0, at most 500
	Offset     int
}

// InboxResource is what the inbox and preference actions of the actor are
// checked against: the actor's own (handlers that check before reading a
// request body use it too).
func InboxResource(a policy.Actor) policy.Resource {
	return policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber, Subject: a.UserID}
}

// Inbox lists the actor's own notifications: unread first, newest first.
// total counts every entry the filter selects.
func (s *Service) Inbox(ctx context.Context, a policy.Actor, f InboxFilter) (items []Item, total int, err error) {
	const op = "notify: inbox"
	if err := policy.Check(a, policy.NotifyInboxRead, InboxResource(a)); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	where := "i.user_id = ?"
	if f.UnreadOnly {
		where += " AND i.read_at IS NULL"
	}
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notify_inbox i WHERE "+where, a.UserID).Scan(&total); err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	rows, err := s.DB.Query(ctx, `SELECT i.id, n.kind, n.subject, n.body, n.link, n.tlp, n.exercise, i.created_at, i.read_at
		FROM notify_inbox i JOIN notifications n ON n.id = i.notification_id WHERE `+where+`
		ORDER BY CASE WHEN i.read_at IS NULL THEN 0 ELSE 1 END, i.id DESC LIMIT ? OFFSET ?`, a.UserID, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	defer rows.Close()
	items = []Item{}
	for rows.Next() {
		var it Item
		var subj, body, tlp string
		var read sql.NullTime
		if err := rows.Scan(&it.ID, &it.Kind, &subj, &body, &it.Link, &tlp, &it.Exercise, &it.CreatedAt, &read); err != nil {
			return nil, 0, errs.Internal(op, err)
		}
		it.Subject, it.Body, it.TLP, it.CreatedAt = decodeMsg(subj), decodeMsg(body), policy.TLP(tlp), it.CreatedAt.UTC()
		if read.Valid {
			t := read.Time.UTC()
			it.ReadAt = &t
		}
		items = append(items, it)
	}
	return items, total, rows.Err()
}

// Unread counts the actor's unread notifications: one indexed COUNT, for
// the header badge.
func (s *Service) Unread(ctx context.Context, a policy.Actor) (int, error) {
	if a.UserID == 0 {
		return 0, nil
	}
	if err := policy.Check(a, policy.NotifyInboxRead, InboxResource(a)); err != nil {
		return 0, err
	}
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notify_inbox WHERE user_id = ? AND read_at IS NULL", a.UserID).Scan(&n); err != nil {
		return 0, errs.Internal("notify: unread", err)
	}
	return n, nil
}

// MarkRead marks one of the actor's notifications read and returns its
// link. Someone else's entry is NotFound. Reading is not audited: it
// changes nothing but the reader's own inbox.
func (s *Service) MarkRead(ctx context.Context, a policy.Actor, id int64) (string, error) {
	const op = "notify: mark read"
	if err := policy.Check(a, policy.NotifyInboxWrite, InboxResource(a)); err != nil {
		return "", err
	}
	var link string
	err := s.DB.QueryRow(ctx, "SELECT n.link FROM notify_inbox i JOIN notifications n ON n.id = i.notification_id WHERE i.id = ? AND i.user_id = ?", id, a.UserID).Scan(&link)
	if store.IsNoRows(err) {
		return "", errs.NotFound(op)
	}
	if err != nil {
		return "", errs.Internal(op, err)
	}
	if _, err := s.DB.Exec(ctx, "UPDATE notify_inbox SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL", s.now(), id, a.UserID); err != nil {
		return "", errs.Internal(op, err)
	}
	return link, nil
}

// MarkAllRead marks every unread notification of the actor read and says
// how many.
func (s *Service) MarkAllRead(ctx context.Context, a policy.Actor) (int, error) {
	const op = "notify: mark all read"
	if err := policy.Check(a, policy.NotifyInboxWrite, InboxResource(a)); err != nil {
		return 0, err
	}
	res, err := s.DB.Exec(ctx, "UPDATE notify_inbox SET read_at = ? WHERE user_id = ? AND read_at IS NULL", s.now(), a.UserID)
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ---------------------------------------------------------------------------
// Preferences

// Pref is one kind's choice: e-mail on or off (the inbox is always on).
type Pref struct {
	Kind     string `json:"kind"`
	LabelKey string `json:"-"`
	Email    bool   `json:"email"`
}

// Prefs lists the actor's preferences: every kind of Kinds, e-mail on
// unless they turned it off.
func (s *Service) Prefs(ctx context.Context, a policy.Actor) ([]Pref, error) {
	const op = "notify: preferences"
	if err := policy.Check(a, policy.NotifyInboxRead, InboxResource(a)); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT kind, email FROM notify_prefs WHERE user_id = ? ORDER BY kind", a.UserID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	set := map[string]bool{}
	for rows.Next() {
		var k string
		var on bool
		if err := rows.Scan(&k, &on); err != nil {
			return nil, errs.Internal(op, err)
		}
		set[k] = on
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	out := []Pref{}
	for _, k := range Kinds() {
		on, chosen := set[k.Name]
		out = append(out, Pref{Kind: k.Name, LabelKey: k.LabelKey, Email: !chosen || on})
	}
	return out, nil
}

// MaxPrefs bounds one SetPrefs call.
const MaxPrefs = 200

// SetPrefs saves the actor's choices for the given kinds (others keep
// theirs) in one transaction with its audit entry.
func (s *Service) SetPrefs(ctx context.Context, a policy.Actor, prefs []Pref) error {
	const op = "notify: set preferences"
	if err := policy.Check(a, policy.NotifyInboxWrite, InboxResource(a)); err != nil {
		return err
	}
	v := errs.Invalid(op)
	if len(prefs) > MaxPrefs {
		v.Field("preferences", "notify.err.too_many_kinds", MaxPrefs)
	}
	seen := map[string]bool{}
	for i, p := range prefs {
		if !KnownKind(p.Kind) || p.Kind == WebhookTestKind {
			v.Field("preferences["+strconv.Itoa(i)+"].kind", "notify.err.unknown_kind", p.Kind)
		} else if seen[p.Kind] {
			v.Field("preferences["+strconv.Itoa(i)+"].kind", "notify.err.duplicate_kind", p.Kind)
		}
		seen[p.Kind] = true
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		after := map[string]bool{}
		for _, p := range prefs {
			if _, err := tx.Exec(ctx, `INSERT INTO notify_prefs (user_id, kind, email, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at`,
				a.UserID, p.Kind, p.Email, now); err != nil {
				return errs.Internal(op, err)
			}
			after[p.Kind] = p.Email
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "notify.preferences", Entity: "user",
			EntityID: strconv.FormatInt(a.UserID, 10), After: map[string]any{"email": after}})
	})
}
