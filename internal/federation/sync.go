package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/policy"
	"certnet/internal/secretbox"
	"certnet/internal/store"
)

// Report is what one sync of a peer did.
type Report struct {
	Pushed     int      `json:"pushed"`
	Refused    int      `json:"refused"` // objects the parent refused (kept in Problems)
	Pulled     int      `json:"pulled"`
	Rejected   int      `json:"rejected"` // pulled objects the import refused
	Skipped    int      `json:"skipped"`  // pulled objects that are this instance's own
	Advisories int      `json:"advisories"`
	Pages      int      `json:"pages"`
	Problems   []string `json:"problems,omitempty"`
}

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < 20 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

func (s *Service) client(p Peer) *Client {
	return &Client{Root: p.APIRoot, Kind: p.AuthKind, Username: p.Username, Secret: p.secret, HTTP: s.HTTP,
		Retries: s.Retries, RetryWait: s.RetryWait}
}

// SyncNow syncs one peer at once (the "sync now" button, the CLI).
func (s *Service) SyncNow(ctx context.Context, a policy.Actor, id int64) (Report, error) {
	const op = "federation: sync"
	p, err := s.loadPeer(ctx, s.DB, id)
	if err != nil {
		return Report{}, store.Wrap(op, err)
	}
	if err := policy.Check(a, policy.FederationManage, p.Resource()); err != nil {
		return Report{}, err
	}
	return s.run(ctx, p)
}

// SyncDue syncs every enabled peer whose next run is due (the job) and
// returns how many it synced. One peer's failure is recorded on it and
// does not stop the others.
func (s *Service) SyncDue(ctx context.Context) (int, error) {
	const op = "federation: sync due"
	ids, err := store.IDs(ctx, s.DB, `SELECT id FROM federation_peers WHERE enabled = TRUE AND (next_run_at IS NULL OR next_run_at <= ?)
		ORDER BY id`, s.now())
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	n := 0
	for _, id := range ids {
		p, err := s.loadPeer(ctx, s.DB, id)
		if err != nil {
			continue // removed meanwhile
		}
		if _, err := s.run(ctx, p); err != nil && ctx.Err() != nil {
			return n, ctx.Err()
		}
		n++
	}
	return n, nil
}

// errSecretUnreadable: the peer's secret was sealed under a key this
// server does not have.
var errSecretUnreadable = errors.New("the stored secret was sealed under another key (" + secretbox.KeyFile +
	" of the server that saved it): enter the secret again")

// errBusy: the peer is syncing already on this node.
var errBusy = errs.Conflict("federation: sync", "federation.err.busy")

// run syncs a peer and records the outcome on it.
func (s *Service) run(ctx context.Context, p Peer) (Report, error) {
	s.mu.Lock()
	if s.running == nil {
		s.running = map[int64]bool{}
	}
	if s.running[p.ID] {
		s.mu.Unlock()
		return Report{}, errBusy
	}
	s.running[p.ID] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, p.ID)
		s.mu.Unlock()
	}()
	start := s.now()
	if _, err := s.DB.Exec(ctx, "UPDATE federation_peers SET last_attempt_at = ? WHERE id = ?", start, p.ID); err != nil {
		return Report{}, errs.Internal("federation: sync", err)
	}
	var rep Report
	var err error
	if p.SecretUnreadable {
		err = errSecretUnreadable
	} else if err = s.push(ctx, p, &rep); err == nil {
		err = s.pull(ctx, p, &rep)
	}
	now := s.now()
	// The outcome is recorded even when the sync was cut short by
	// shutdown.
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		// Back off: twice the wait per failure in a row, from a minute,
		// never longer than the interval.
		fails := p.Failures + 1
		wait := min(p.Interval, time.Minute<<min(fails-1, 10))
		msg := errText(err)
		s.Log.Warn("federation sync failed", "peer", p.Name, "peer_id", p.ID, "err", msg, "failures", fails)
		_, uerr := s.DB.Exec(ctx, `UPDATE federation_peers SET failures = ?, last_error = ?, last_error_at = ?, next_run_at = ?,
			pushed_count = pushed_count + ?, pulled_count = pulled_count + ?, advisories_count = advisories_count + ? WHERE id = ?`,
			fails, msg, now, now.Add(wait), rep.Pushed, rep.Pulled, rep.Advisories, p.ID)
		if uerr != nil {
			s.Log.Error("federation: record failure", "peer_id", p.ID, "err", uerr)
		}
		if e, ok := errs.As(err); ok && e.Kind == errs.KindInternal {
			return rep, err
		}
		// The parent refused, was unreachable or answered nonsense: a
		// problem of the link, not of certnet.
		return rep, errs.Conflict("federation: sync", "federation.err.sync", msg)
	}
	last := ""
	if len(rep.Problems) > 0 {
		last = clip(fmt.Sprint(rep.Problems), 1000)
	}
	_, err = s.DB.Exec(ctx, `UPDATE federation_peers SET failures = 0, last_success_at = ?, next_run_at = ?,
		last_error = CASE WHEN ? = '' THEN last_error ELSE ? END, last_error_at = CASE WHEN ? = '' THEN last_error_at ELSE ? END,
		pushed_count = pushed_count + ?, pulled_count = pulled_count + ?, advisories_count = advisories_count + ? WHERE id = ?`,
		now, now.Add(p.Interval), last, last, last, now, rep.Pushed, rep.Pulled, rep.Advisories, p.ID)
	if err != nil {
		return rep, errs.Internal("federation: sync", err)
	}
	s.Log.Info("federation sync", "peer", p.Name, "pushed", rep.Pushed, "pulled", rep.Pulled, "advisories", rep.Advisories,
		"refused", rep.Refused, "rejected", rep.Rejected, "took", now.Sub(start))
	return rep, nil
}

// pushQuery is what a peer may push: its organisations' objects (not the
// parent's, which came down from it) under the labels that may leave.
func (s *Service) pushQuery(ctx context.Context, p Peer, kind string) (intel.OutboundQuery, error) {
	q := intel.OutboundQuery{Kind: kind, Except: []int64{p.ParentOrgID}, TLPs: policy.FederationTLPs}
	sc, err := s.ScopeOf(ctx, p.OrgID)
	if err != nil {
		return q, err
	}
	if !sc.All {
		q.Owners = sc.IDs()
		if q.Owners == nil {
			q.Owners = []int64{}
		}
	}
	return q, nil
}

// push sends, per kind, the rows changed since the cursor in batches; the
// cursor moves after the parent's status is complete.
func (s *Service) push(ctx context.Context, p Peer, rep *Report) error {
	if p.PushCollection == "" {
		return nil
	}
	c := s.client(p)
	batch := s.PushBatch
	if batch <= 0 {
		batch = 500
	}
	for _, kind := range []string{intel.OutboundIndicators, intel.OutboundObjects} {
		dir := "push:" + kind
		cur, err := s.cursor(ctx, p.ID, dir)
		if err != nil {
			return errs.Internal("federation: push", err)
		}
		q, err := s.pushQuery(ctx, p, kind)
		if err != nil {
			return err
		}
		// Rows changed within Settle of now go up, but the stored cursor
		// stays before them: a transaction still open with an earlier
		// timestamp is not passed over, and they go again next time (the
		// parent's import is idempotent).
		settled := s.now().Add(-s.Settle)
		saved := cur
		for {
			q.After, q.AfterID, q.Limit = cur.At, cur.LastID, batch
			rows, err := s.Intel.Outbound(ctx, q)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				break
			}
			objs := make([]map[string]any, 0, len(rows))
			for _, o := range rows {
				if !policy.MayFederate(o.TLP) || o.Owner == p.ParentOrgID {
					continue // never: Outbound already leaves them out
				}
				objs = append(objs, o.Body)
			}
			if len(objs) > 0 {
				st, err := c.Add(ctx, p.PushCollection, objs, s.StatusWait)
				if err != nil {
					return fmt.Errorf("push %s: %w", p.PushCollection, err)
				}
				rep.Pushed += st.SuccessCount
				rep.Refused += st.FailureCount
				for _, f := range st.Failures {
					rep.problem("%s: %s", f.ID, clip(f.Message, 200))
				}
				rep.Pages++
			}
			next := saved
			for _, o := range rows {
				if !o.Updated.After(settled) {
					next = cursor{Pos: o.STIXID, At: o.Updated, LastID: o.RowID}
				}
			}
			if next != saved {
				if err := s.saveCursor(ctx, p.ID, dir, next); err != nil {
					return errs.Internal("federation: push", err)
				}
				saved = next
			}
			last := rows[len(rows)-1]
			cur = cursor{Pos: last.STIXID, At: last.Updated, LastID: last.RowID}
			if len(rows) < batch {
				break
			}
		}
	}
	return nil
}

// pull walks each collection from the last date added seen, following
// next; every page is imported (one transaction) before its cursor moves.
// The cursor's LastID is 1 while a walk is under way: a walk resumed after
// a crash starts a microsecond before the last page's end, so that
// objects added in the same instant as that page's last one are fetched
// (again: the import is idempotent) rather than skipped.
func (s *Service) pull(ctx context.Context, p Peer, rep *Report) error {
	c := s.client(p)
	limit := s.PullLimit
	if limit <= 0 {
		limit = 1000
	}
	actor := policy.Actor{System: true, OrgID: p.ParentOrgID, Username: "federation:" + p.Name, Scope: policy.Scope{All: true}}
	for _, coll := range p.PullCollections {
		dir := "pull:" + coll
		cur, err := s.cursor(ctx, p.ID, dir)
		if err != nil {
			return errs.Internal("federation: pull", err)
		}
		after := cur.Pos
		if after != "" && cur.LastID == 1 {
			if t, err := time.Parse(time.RFC3339Nano, after); err == nil {
				after = t.Add(-time.Microsecond).Format(time.RFC3339Nano)
			}
		}
		next := ""
		for {
			page, err := c.Objects(ctx, coll, after, next, limit)
			if err != nil {
				return fmt.Errorf("pull %s: %w", coll, err)
			}
			rep.Pages++
			if len(page.Objects) > 0 {
				if err := s.importPage(ctx, p, actor, coll, page, rep); err != nil {
					return err
				}
			}
			if page.AddedLast != "" {
				t, _ := time.Parse(time.RFC3339Nano, page.AddedLast)
				walking := int64(0)
				if page.More {
					walking = 1
				}
				if err := s.saveCursor(ctx, p.ID, dir, cursor{Pos: page.AddedLast, At: t.UTC(), LastID: walking}); err != nil {
					return errs.Internal("federation: pull", err)
				}
			}
			if !page.More {
				break
			}
			next = page.Next
		}
	}
	return nil
}

// importPage imports a page's objects for the parent's organisation,
// leaving out those this instance holds under another owner (its own,
// come back down), then turns the parent's advisories into local ones.
func (s *Service) importPage(ctx context.Context, p Peer, actor policy.Actor, coll string, page Page, rep *Report) error {
	keep := make([]json.RawMessage, 0, len(page.Objects))
	var reports []map[string]any
	for _, raw := range page.Objects {
		var head struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			rep.Rejected++
			rep.problem("%s: %s", coll, clip(err.Error(), 200))
			continue
		}
		owners, err := s.Intel.StoredSTIXOwners(ctx, head.ID)
		if err != nil {
			return err
		}
		own := false
		for _, o := range owners {
			own = own || o != p.ParentOrgID
		}
		if own {
			rep.Skipped++
			continue
		}
		keep = append(keep, raw)
		if head.Type == "report" {
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil {
				reports = append(reports, m)
			}
		}
	}
	if len(keep) == 0 {
		return nil
	}
	bundle, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": keep})
	if err != nil {
		return errs.Internal("federation: pull", err)
	}
	res, err := s.Intel.ImportSTIX(ctx, actor, bytes.NewReader(bundle), intel.ImportOptions{Name: "federation:" + p.Name + ":" + coll,
		DefaultTLP: policy.TLPAmber})
	if err != nil {
		return fmt.Errorf("pull %s: import: %w", coll, err)
	}
	rep.Pulled += res.Accepted
	rep.Rejected += res.Rejected
	for _, e := range res.Errors {
		rep.problem("%s %s: %s", coll, e.ID, clip(e.Error, 200))
	}
	for _, r := range reports {
		made, err := s.advisory(ctx, p, actor, r)
		if err != nil {
			if errs.KindOf(err) == errs.KindInternal {
				return err
			}
			id, _ := r["id"].(string)
			rep.problem("advisory %s: %s", id, clip(err.Error(), 200))
			continue
		}
		if made {
			rep.Advisories++
		}
	}
	return nil
}
