package match

import (
	"context"
	"database/sql"
	"maps"
	"net/netip"
	"strings"
	"time"

	"certnet/internal/store"
)

// Change is an indicator whose state changed after an index was built:
// Active says whether it is in force now; the other fields are its current
// values.
type Change struct {
	Indicator
	Active bool
}

// Patch returns x with every changed indicator taken out and the active ones
// put back with their current values, without rebuilding x: the new index
// shares x's tables, masks the changed indicators in them and indexes the
// active ones in a small delta index. x itself is unchanged (readers of it
// go on undisturbed). Patches pile up in the delta; Refresh rebuilds from
// scratch when they grow large.
func (x *Index) Patch(changes []Change) *Index {
	nx := &Index{post: x.post, orgs: x.orgs, v4: x.v4, v6: x.v6, cidr: x.cidr, domain: x.domain, url: x.url,
		email: x.email, md5: x.md5, sha1: x.sha1, sha256: x.sha256, n: x.n, at: x.at, lastID: x.lastID, nRemoved: x.nRemoved}
	if x.removed != nil {
		nx.removed = maps.Clone(x.removed)
	} else {
		nx.removed = make(map[int64]struct{}, len(changes))
	}
	last := make(map[int64]Change, len(changes))
	for _, c := range changes {
		last[c.ID] = c
	}
	for id, c := range last {
		if _, done := nx.removed[id]; done {
			continue
		}
		nx.removed[id] = struct{}{}
		if x.baseHas(c.Indicator) {
			nx.nRemoved++
		}
	}
	for _, in := range x.deltaInds {
		if _, changed := last[in.ID]; !changed {
			nx.deltaInds = append(nx.deltaInds, in)
		}
	}
	for _, c := range changes {
		if c.Active && last[c.ID] == c {
			nx.deltaInds = append(nx.deltaInds, c.Indicator)
			delete(last, c.ID) // once, even if listed twice
		}
	}
	if len(nx.deltaInds) > 0 {
		nx.delta = Build(nx.deltaInds)
		nx.deltaInds = nx.delta.keepOnly(nx.deltaInds)
	}
	return nx
}

// keepOnly drops from inds the indicators Build left out (unreadable), so
// that they are not carried from patch to patch.
func (x *Index) keepOnly(inds []Indicator) []Indicator {
	out := inds[:0]
	for _, in := range inds {
		if x.baseHas(in) {
			out = append(out, in)
		}
	}
	return out
}

// baseHas reports whether the tables of x (not its delta) hold in.
func (x *Index) baseHas(in Indicator) bool {
	var h uint32
	v := in.Value
	switch in.Kind {
	case "ipv4", "ipv6":
		if a, err := netip.ParseAddr(v); err == nil {
			if a = a.Unmap(); a.Is4() {
				h = x.v4[a.As4()]
			} else {
				h = x.v6[a.As16()]
			}
		}
	case "cidr":
		if p, err := netip.ParsePrefix(v); err == nil {
			if p = p.Masked(); p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			h, _ = x.cidr.Get(p)
		}
	case "domain":
		h = x.domain[strings.ToLower(strings.TrimSuffix(v, "."))]
	case "url":
		h = x.url[v]
	case "email":
		h = x.email[v]
	case "md5":
		var k [16]byte
		if hexKey(k[:], v) {
			h = x.md5[k]
		}
	case "sha1":
		var k [20]byte
		if hexKey(k[:], v) {
			h = x.sha1[k]
		}
	case "sha256":
		var k [32]byte
		if hexKey(k[:], v) {
			h = x.sha256[k]
		}
	}
	for ; h != 0; h = x.post[h].next {
		if x.post[h].id == in.ID {
			return true
		}
	}
	return false
}

// RefreshMargin is how far before an index's load time Refresh looks for
// changes: a transaction stamps updated_at before it commits, and servers'
// clocks differ a little. Reading a change twice is harmless.
const RefreshMargin = 5 * time.Minute

// LoadChanges reads the indicators that are new (an id after afterID),
// changed (updated_at), came into force (valid_from) or expired
// (valid_until) after since and up to now, in one query, each with whether
// it is in force at now. The id catches the rows of a transaction that
// stamped updated_at longer than RefreshMargin before its commit (a large
// import).
func LoadChanges(ctx context.Context, q store.Q, since, now time.Time, afterID int64) ([]Change, error) {
	since, now = since.UTC(), now.UTC()
	rows, err := q.Query(ctx, `SELECT id, owner_org_id, kind, value, confidence, revoked, valid_from, valid_until
		FROM intel_indicators
		WHERE id > ? OR updated_at > ? OR (valid_from > ? AND valid_from <= ?) OR (valid_until > ? AND valid_until <= ?)`,
		afterID, since, since, now, since, now)
	if err != nil {
		return nil, store.Wrap("match: load changes", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var revoked bool
		var from time.Time
		var until sql.NullTime
		if err := rows.Scan(&c.ID, &c.OrgID, &c.Kind, &c.Value, &c.Confidence, &revoked, &from, &until); err != nil {
			return nil, store.Wrap("match: load changes", err)
		}
		c.Active = !revoked && !from.After(now) && (!until.Valid || until.Time.After(now)) && matchable(c.Kind)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Wrap("match: load changes", err)
	}
	return out, nil
}

func matchable(kind string) bool {
	switch kind {
	case "ipv4", "ipv6", "cidr", "domain", "url", "md5", "sha1", "sha256", "email":
		return true
	}
	return false
}

// Refresh brings x up to now: it patches x with the changes since x was
// loaded (less RefreshMargin), or loads the index afresh when x was not
// loaded (nil, or made by Build) or when the patches would pass a tenth of
// the index (at least 10 000), so matching never slows down for long.
func Refresh(ctx context.Context, q store.Q, x *Index, now time.Time) (*Index, error) {
	if x == nil || x.at.IsZero() {
		return Load(ctx, q, now)
	}
	lastID, err := maxID(ctx, q) // before the changes, as in Load
	if err != nil {
		return nil, err
	}
	changes, err := LoadChanges(ctx, q, x.at.Add(-RefreshMargin), now, x.lastID)
	if err != nil {
		return nil, err
	}
	nx := x.Patch(changes)
	if len(nx.removed)+len(nx.deltaInds) > max(10_000, x.n/10) {
		return Load(ctx, q, now)
	}
	nx.at, nx.lastID = now, lastID
	return nx, nil
}
