package federation

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/secretbox"
	"certnet/internal/store"
)

const peerCols = `id, org_id, parent_org_id, name, api_root, push_collection, pull_collections, auth_kind, username, secret,
	interval_secs, enabled, pushed_count, pulled_count, advisories_count, failures, last_attempt_at, last_success_at, last_error,
	last_error_at, next_run_at, created_at, updated_at`

func scanPeer(sc interface{ Scan(...any) error }) (Peer, error) {
	var p Peer
	var pulls string
	var secs int64
	var attempt, success, errAt, next sql.NullTime
	if err := sc.Scan(&p.ID, &p.OrgID, &p.ParentOrgID, &p.Name, &p.APIRoot, &p.PushCollection, &pulls, &p.AuthKind, &p.Username,
		&p.stored, &secs, &p.Enabled, &p.Pushed, &p.Pulled, &p.Advisories, &p.Failures, &attempt, &success, &p.LastError, &errAt,
		&next, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return Peer{}, err
	}
	p.PullCollections = strings.Fields(pulls)
	if p.PullCollections == nil {
		p.PullCollections = []string{}
	}
	p.Interval, p.IntervalSecs = time.Duration(secs)*time.Second, secs
	p.LastAttemptAt, p.LastSuccessAt, p.LastErrorAt, p.NextRunAt = store.TimeOf(attempt), store.TimeOf(success), store.TimeOf(errAt), store.TimeOf(next)
	return p, nil
}

// reveal opens the peer's stored secret.
func (s *Service) reveal(p *Peer) {
	p.secret = p.stored
	if s.Secrets != nil {
		plain, err := s.Secrets.Open(p.stored)
		p.secret, p.SecretUnreadable = plain, err != nil
	}
	p.Masked = Mask(p.secret)
}

// seal is a secret as it is stored.
func (s *Service) seal(plain string) string {
	if s.Secrets == nil {
		return plain
	}
	return s.Secrets.Seal(plain)
}

func (s *Service) loadPeer(ctx context.Context, q store.Q, id int64) (Peer, error) {
	p, err := scanPeer(q.QueryRow(ctx, "SELECT "+peerCols+" FROM federation_peers WHERE id = ?", id))
	if store.IsNoRows(err) {
		return Peer{}, errs.NotFound("federation: peer")
	}
	if err == nil {
		s.reveal(&p)
	}
	return p, err
}

// SealStored seals the secrets kept in clear by an earlier version (at
// start-up; a handful of rows).
func (s *Service) SealStored(ctx context.Context) error {
	if s.Secrets == nil {
		return nil
	}
	rows, err := s.DB.Query(ctx, "SELECT id, secret FROM federation_peers WHERE secret <> ''")
	if err != nil {
		return errs.Internal("federation: seal secrets", err)
	}
	plain := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return errs.Internal("federation: seal secrets", err)
		}
		if !secretbox.Sealed(v) {
			plain[id] = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return errs.Internal("federation: seal secrets", err)
	}
	for id, v := range plain {
		if _, err := s.DB.Exec(ctx, "UPDATE federation_peers SET secret = ? WHERE id = ? AND secret = ?", s.seal(v), id, v); err != nil {
			return errs.Internal("federation: seal secrets", err)
		}
	}
	return nil
}

// auditView is a peer in the audit log: never the secret.
func auditView(p Peer) map[string]any {
	return map[string]any{"name": p.Name, "api_root": p.APIRoot, "org_id": p.OrgID, "parent_org_id": p.ParentOrgID,
		"push_collection": p.PushCollection, "pull_collections": p.PullCollections, "auth_kind": p.AuthKind,
		"username": p.Username, "secret": p.Masked, "interval_seconds": p.IntervalSecs, "enabled": p.Enabled}
}

// List returns the peers the actor may see, by name.
func (s *Service) List(ctx context.Context, a policy.Actor) ([]Peer, error) {
	const op = "federation: list"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return nil, errs.Unauthenticated(op, "")
	}
	rows, err := s.DB.Query(ctx, "SELECT "+peerCols+" FROM federation_peers ORDER BY name, id")
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Peer{}
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		s.reveal(&p)
		if policy.Allowed(a, policy.FederationRead, p.Resource()) {
			out = append(out, p)
		}
	}
	return out, errs.Ensure(op, rows.Err())
}

// Get returns one peer.
func (s *Service) Get(ctx context.Context, a policy.Actor, id int64) (Peer, error) {
	const op = "federation: get"
	p, err := s.loadPeer(ctx, s.DB, id)
	if err != nil {
		return Peer{}, store.Wrap(op, err)
	}
	if err := policy.Check(a, policy.FederationRead, p.Resource()); err != nil {
		return Peer{}, err
	}
	return p, nil
}

// Create adds a peer.
func (s *Service) Create(ctx context.Context, a policy.Actor, in PeerInput) (Peer, error) {
	const op = "federation: create"
	if err := policy.Check(a, policy.FederationManage, policy.Resource{OwnerOrg: in.OrgID, TLP: policy.TLPAmber}); err != nil {
		return Peer{}, err
	}
	if err := s.normalise(ctx, &in, true); err != nil {
		return Peer{}, err
	}
	var out Peer
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO federation_peers (org_id, parent_org_id, name, api_root, push_collection, pull_collections,
			auth_kind, username, secret, interval_secs, enabled, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.ParentOrgID, in.Name, in.APIRoot, in.PushCollection,
			strings.Join(in.PullCollections, "\n"), in.AuthKind, in.Username, s.seal(in.Secret), int64(in.Interval/time.Second), in.Enabled,
			store.NullID(a.UserID), now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.Invalid(op).Field("name", "federation.err.name_taken")
		}
		if err != nil {
			return err
		}
		if out, err = s.loadPeer(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: in.OrgID, Action: "federation.peer.create", Entity: "federation_peer",
			EntityID: strconv.FormatInt(id, 10), After: auditView(out)})
	})
	if err != nil {
		return Peer{}, store.Wrap(op, err)
	}
	return out, nil
}

// Update changes a peer; an empty secret keeps the stored one. Changing
// the address or a collection starts that direction over (its cursors
// are dropped): another server's positions mean nothing here.
func (s *Service) Update(ctx context.Context, a policy.Actor, id int64, in PeerInput) (Peer, error) {
	const op = "federation: update"
	var out Peer
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.loadPeer(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.FederationManage, before.Resource()); err != nil {
			return err
		}
		if in.OrgID == 0 {
			in.OrgID = before.OrgID
		}
		if err := policy.Check(a, policy.FederationManage, policy.Resource{OwnerOrg: in.OrgID, TLP: policy.TLPAmber}); err != nil {
			return err
		}
		if err := s.normalise(ctx, &in, false); err != nil {
			return err
		}
		stored := before.stored // an empty secret keeps the stored one
		if in.Secret != "" {
			stored = s.seal(in.Secret)
		}
		now := s.now()
		_, err = tx.Exec(ctx, `UPDATE federation_peers SET org_id = ?, parent_org_id = ?, name = ?, api_root = ?, push_collection = ?,
			pull_collections = ?, auth_kind = ?, username = ?, secret = ?, interval_secs = ?, enabled = ?, next_run_at = NULL, updated_at = ?
			WHERE id = ?`, in.OrgID, in.ParentOrgID, in.Name, in.APIRoot, in.PushCollection, strings.Join(in.PullCollections, "\n"),
			in.AuthKind, in.Username, stored, int64(in.Interval/time.Second), in.Enabled, now, id)
		if store.IsUniqueViolation(err) {
			return errs.Invalid(op).Field("name", "federation.err.name_taken")
		}
		if err != nil {
			return err
		}
		if before.APIRoot != in.APIRoot || before.OrgID != in.OrgID || before.ParentOrgID != in.ParentOrgID {
			if _, err := tx.Exec(ctx, "DELETE FROM federation_cursors WHERE peer_id = ?", id); err != nil {
				return err
			}
		} else {
			if before.PushCollection != in.PushCollection {
				if _, err := tx.Exec(ctx, "DELETE FROM federation_cursors WHERE peer_id = ? AND direction LIKE 'push:%'", id); err != nil {
					return err
				}
			}
			for _, c := range before.PullCollections {
				keep := false
				for _, n := range in.PullCollections {
					keep = keep || n == c
				}
				if !keep {
					if _, err := tx.Exec(ctx, "DELETE FROM federation_cursors WHERE peer_id = ? AND direction = ?", id, "pull:"+c); err != nil {
						return err
					}
				}
			}
		}
		if out, err = s.loadPeer(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: out.OrgID, Action: "federation.peer.update", Entity: "federation_peer",
			EntityID: strconv.FormatInt(id, 10), Before: auditView(before), After: auditView(out)})
	})
	if err != nil {
		return Peer{}, store.Wrap(op, err)
	}
	return out, nil
}

// Delete removes a peer with its cursors; what it brought stays.
func (s *Service) Delete(ctx context.Context, a policy.Actor, id int64) error {
	const op = "federation: delete"
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.loadPeer(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.FederationManage, before.Resource()); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM federation_advisories WHERE peer_id = ?", "DELETE FROM federation_cursors WHERE peer_id = ?",
			"DELETE FROM federation_peers WHERE id = ?"} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, s.now(), a, audit.Change{OrgID: before.OrgID, Action: "federation.peer.delete", Entity: "federation_peer",
			EntityID: strconv.FormatInt(id, 10), Before: auditView(before)})
	})
	return store.Wrap(op, err)
}

// cursor is one direction's position.
type cursor struct {
	Pos    string
	At     time.Time
	LastID int64
}

func (s *Service) cursor(ctx context.Context, peer int64, dir string) (cursor, error) {
	var c cursor
	var at sql.NullTime
	err := s.DB.QueryRow(ctx, "SELECT pos, pos_at, last_id FROM federation_cursors WHERE peer_id = ? AND direction = ?", peer, dir).
		Scan(&c.Pos, &at, &c.LastID)
	if store.IsNoRows(err) {
		return cursor{}, nil
	}
	c.At = store.TimeOf(at)
	return c, err
}

func (s *Service) saveCursor(ctx context.Context, peer int64, dir string, c cursor) error {
	_, err := s.DB.Exec(ctx, `INSERT INTO federation_cursors (peer_id, direction, pos, pos_at, last_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (peer_id, direction) DO UPDATE SET pos = excluded.pos, pos_at = excluded.pos_at, last_id = excluded.last_id,
		updated_at = excluded.updated_at`, peer, dir, c.Pos, store.NullTime(c.At), c.LastID, s.now())
	return err
}
