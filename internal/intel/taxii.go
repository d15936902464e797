package intel

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// SharedObject is one STIX object as a TAXII collection serves it: its
// body (the same STIX form as the bundle export), its version and when
// certnet added that version (date_added: the indicator's, object's or
// advisory's last change, the collection's stable order).
type SharedObject struct {
	ID      string
	Type    string
	Version string // the modified timestamp (STIX form)
	Added   time.Time
	TLP     policy.TLP
	Owner   int64
	Body    map[string]any
	// Pos is the object's place in the collection's order, for a cursor.
	Pos Cursor
}

// The sources of shared objects, in the order of the collection among
// objects added at the same instant.
const (
	SourceIndicator = 1 // intel_indicators
	SourceObject    = 2 // intel_objects
	SourceAdvisory  = 3 // published advisories, as reports
)

// Cursor is a place in a collection's order (date added, source, row): a
// page starts after it. Rows only move forward (a change re-adds the
// object at a later date), so a cursor stays valid while objects arrive
// and change: nothing before it is skipped, changed objects come again.
type Cursor struct {
	Added time.Time
	Src   int
	Row   int64
}

// IsZero reports whether c is the start of the collection.
func (c Cursor) IsZero() bool { return c.Added.IsZero() && c.Src == 0 && c.Row == 0 }

// Key is the cursor's source and row as text ("1:42").
func (c Cursor) Key() string { return strconv.Itoa(c.Src) + ":" + strconv.FormatInt(c.Row, 10) }

// ParseCursorKey reads a Key back; ok is false for anything else.
func ParseCursorKey(added time.Time, key string) (Cursor, bool) {
	s, r, ok := strings.Cut(key, ":")
	src, err1 := strconv.Atoi(s)
	row, err2 := strconv.ParseInt(r, 10, 64)
	if !ok || err1 != nil || err2 != nil || src < SourceIndicator || src > SourceAdvisory || row < 1 || added.IsZero() {
		return Cursor{}, false
	}
	return Cursor{Added: added.UTC(), Src: src, Row: row}, true
}

// SharedQuery selects one page of a collection: the filters AND together,
// the values of one filter OR.
type SharedQuery struct {
	TLPs       []policy.TLP // the collection's labels (RED never)
	Limit      int
	After      Cursor    // the page starts after it
	AddedAfter time.Time // only objects added after
	// AddedBefore, when set, leaves out the objects added at or after it
	// (Horizon: what a transaction still open may yet add before).
	AddedBefore time.Time
	IDs         []string
	Types       []string
	// Versions are exact versions (STIX timestamps, to the millisecond);
	// empty: the current one, which certnet keeps only.
	Versions []time.Time
	// None: a filter no object passes (match[spec_version] without 2.1).
	None bool
}

// MaxSharedPage is the most objects one page holds.
const MaxSharedPage = 1000

// SharedPage returns one page of the objects the actor may read in a
// collection of labels, in the order (date added, source, row), and the
// cursor of the next page (zero when no more follows). Filters, the cursor and the policy (the owner's
// scope per label) are in the SQL: one query over the label's indexes
// reads at most Limit+1 positions per label and source, then the page's
// rows are read by primary key. Each organisation holds its own copy of
// an object: the copies the actor may read are all served, each at its
// version and date added (a page leaves out a second copy of the same
// version).
func (s *Service) SharedPage(ctx context.Context, a policy.Actor, q SharedQuery) ([]SharedObject, Cursor, error) {
	const op = "intel: shared page"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return nil, Cursor{}, errs.Unauthenticated(op, "")
	}
	if q.Limit < 1 || q.Limit > MaxSharedPage {
		q.Limit = MaxSharedPage
	}
	var tlps []policy.TLP
	for _, t := range q.TLPs {
		if t != policy.TLPRed && t.Valid() {
			tlps = append(tlps, t)
		}
	}
	if q.None || len(tlps) == 0 {
		return nil, Cursor{}, nil
	}
	var parts []string
	var args []any
	for _, src := range []int{SourceIndicator, SourceObject, SourceAdvisory} {
		for _, t := range tlps {
			owners := []int64{0}
			if ids := a.Scope.IDs(); src == SourceIndicator && t == policy.TLPAmber && !a.System && !a.Scope.All &&
				len(ids) > 1 && len(ids) <= maxOwnerBranches {
				// One walk of the (tlp, owner, date added) index per
				// organisation of the scope: merging them costs a few
				// thousand rows, where one walk over the scope would sort
				// every AMBER row it holds.
				owners = ids
			}
			for _, owner := range owners {
				sq, sa, ok := branch(a, q, src, t, owner, s.DB.Engine == store.SQLite)
				if ok {
					parts = append(parts, "SELECT * FROM ("+sq+") b"+strconv.Itoa(len(parts)))
					args = append(args, sa...)
				}
			}
		}
	}
	if len(parts) == 0 {
		return nil, Cursor{}, nil
	}
	query := "SELECT src, rid, added FROM (" + strings.Join(parts, " UNION ALL ") + ") u ORDER BY added, src, rid LIMIT ?"
	args = append(args, q.Limit+1)
	rows, err := s.DB.Query(ctx, query, args...)
	if err != nil {
		return nil, Cursor{}, errs.Internal(op, err)
	}
	var pos []Cursor
	for rows.Next() {
		var c Cursor
		var added any
		if err := rows.Scan(&c.Src, &c.Row, &added); err != nil {
			rows.Close()
			return nil, Cursor{}, errs.Internal(op, err)
		}
		if c.Added, err = timeOf(added); err != nil {
			rows.Close()
			return nil, Cursor{}, errs.Internal(op, err)
		}
		pos = append(pos, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, Cursor{}, errs.Internal(op, err)
	}
	var next Cursor
	if len(pos) > q.Limit {
		pos = pos[:q.Limit]
		next = pos[len(pos)-1]
	}
	objs, err := s.render(ctx, a, pos)
	if err != nil {
		return nil, Cursor{}, err
	}
	return objs, next, nil
}

// timeOf reads a timestamp column that came through a UNION: a time, or
// (SQLite, which loses the column's type there) its text.
func timeOf(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case string:
		return parseDBTime(t)
	case []byte:
		return parseDBTime(string(t))
	}
	return time.Time{}, fmt.Errorf("date added: unexpected %T", v)
}

// parseDBTime reads the text SQLite keeps a timestamp as.
func parseDBTime(s string) (time.Time, error) {
	for _, f := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date added: %q is not a time", s)
}

// SharedObject returns the object of a STIX id the actor may read in a
// collection of labels (NotFound when there is none it may know of).
func (s *Service) SharedObject(ctx context.Context, a policy.Actor, tlps []policy.TLP, stixID string) (SharedObject, error) {
	p, _, err := s.SharedPage(ctx, a, SharedQuery{TLPs: tlps, Limit: 1, IDs: []string{stixID}})
	if err != nil {
		return SharedObject{}, err
	}
	if len(p) == 0 {
		return SharedObject{}, errs.NotFound("intel: shared object")
	}
	return p[0], nil
}

// horizonMargin covers the difference between the clocks of certnet's
// nodes and PostgreSQL's.
const horizonMargin = time.Second

// Horizon is the date added before which no transaction still open can
// add an object (zero: none is open). A writer stamps its rows after its
// transaction began; on PostgreSQL writers run side by side, so one that
// began earlier can commit after a later one, and a reader paging by date
// added that went past the later one's rows would never see the earlier
// one's. Serving only what was added before the horizon closes that gap.
// It is the start of the oldest transaction open on another connection of
// this certnet (the same application_name: psql, pg_dump and other tools
// do not hold it back; one open for over an hour, stuck, is ignored), less
// a margin for the clocks. On SQLite one writer at a time stamps its rows
// holding the lock, so stamps follow commits: no horizon.
func (s *Service) Horizon(ctx context.Context) (time.Time, error) {
	if s.DB.Engine != store.Postgres {
		return time.Time{}, nil
	}
	var oldest sql.NullTime
	err := s.DB.QueryRow(ctx, `SELECT MIN(xact_start) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = current_setting('application_name')
		AND xact_start IS NOT NULL AND xact_start > now() - interval '1 hour'`).Scan(&oldest)
	if err != nil || !oldest.Valid {
		return time.Time{}, errs.Ensure("intel: horizon", err)
	}
	return oldest.Time.UTC().Add(-horizonMargin), nil
}

// maxOwnerBranches is the largest scope whose AMBER indicators are read
// one organisation at a time.
const maxOwnerBranches = 16

// source describes where a source's rows live.
type source struct {
	table, added, version, typ string
}

var sources = map[int]source{
	SourceIndicator: {table: "intel_indicators", added: "updated_at", version: "updated_at", typ: "indicator"},
	SourceObject:    {table: "intel_objects", added: "updated_at", version: "modified"},
	SourceAdvisory:  {table: "advisories", added: "updated_at", version: "updated_at", typ: "report"},
}

// branch is the SQL of one source and label (and owner, when not 0): the
// positions (src, rid, added) of at most Limit+1 rows after the cursor
// that pass the filters and the policy, in the collection's order, from
// the (tlp, added, id) or (tlp, owner, added, id) index. ok is false when
// no row of it can pass.
func branch(a policy.Actor, q SharedQuery, src int, t policy.TLP, owner int64, sqlite bool) (string, []any, bool) {
	so := sources[src]
	if len(q.Types) > 0 && so.typ != "" && !contains(q.Types, so.typ) {
		return "", nil, false
	}
	vis, vargs := visibleSQL(a, src, "x", t)
	if vis == "" {
		return "", nil, false
	}
	if owner != 0 {
		// One organisation of the scope visibleSQL allows.
		vis, vargs = "x.owner_org_id = ?", []any{owner}
	}
	if src == SourceIndicator && (t == policy.TLPAmber || t == policy.TLPAmberStrict) && vis != "1=1" {
		// Rows read by owner: the (tlp, owner, added, id) index holds
		// only these two labels, and the engines use it when the query
		// names its condition as it is written there.
		vis = "x.tlp IN ('AMBER', 'AMBER+STRICT') AND " + vis
	}
	added := "x." + so.added
	var b strings.Builder
	args := []any{string(t)}
	tlp := "x.tlp"
	if sqlite && src == SourceObject && vis != "1=1" && len(vargs) == 1 {
		// One owner's objects: SQLite reads them from the (owner, stix_id)
		// index and sorts them (a few thousand) rather than walk every
		// object of the label ("+" keeps it off the label's index).
		tlp = "+x.tlp"
	}
	fmt.Fprintf(&b, "SELECT %d AS src, x.id AS rid, %s AS added FROM %s x WHERE %s = ?", src, added, so.table, tlp)
	if vis != "1=1" {
		b.WriteString(" AND " + vis)
		args = append(args, vargs...)
	}
	if src == SourceAdvisory {
		b.WriteString(" AND x.status IN (?, ?) AND x.exercise_id IS NULL")
		args = append(args, AdvisoryPublished, AdvisoryClosed)
	}
	if c := q.After; !c.IsZero() {
		switch {
		case src < c.Src:
			b.WriteString(" AND " + added + " > ?")
			args = append(args, c.Added.UTC())
		case src == c.Src:
			// The range on its own first, so that the index walk starts
			// at the cursor (an OR alone makes SQLite scan from the start).
			b.WriteString(" AND " + added + " >= ? AND (" + added + " > ? OR x.id > ?)")
			args = append(args, c.Added.UTC(), c.Added.UTC(), c.Row)
		default:
			b.WriteString(" AND " + added + " >= ?")
			args = append(args, c.Added.UTC())
		}
	}
	if !q.AddedAfter.IsZero() {
		b.WriteString(" AND " + added + " > ?")
		args = append(args, q.AddedAfter.UTC())
	}
	if !q.AddedBefore.IsZero() {
		b.WriteString(" AND " + added + " < ?")
		args = append(args, q.AddedBefore.UTC())
	}
	if len(q.IDs) > 0 {
		if src == SourceIndicator {
			// An indicator's STIX id is found by its hash (store.StixHash).
			b.WriteString(" AND x.stix_hash IN " + strList(len(q.IDs)))
			for _, id := range q.IDs {
				args = append(args, store.StixHash(id))
			}
		}
		b.WriteString(" AND x.stix_id IN " + strList(len(q.IDs)))
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	if len(q.Types) > 0 && so.typ == "" {
		b.WriteString(" AND x.stix_type IN " + strList(len(q.Types)))
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if len(q.Versions) > 0 {
		var or []string
		for _, v := range q.Versions {
			// A version is a STIX timestamp to the millisecond; certnet
			// keeps microseconds.
			v = v.UTC().Truncate(time.Millisecond)
			or = append(or, "(x."+so.version+" >= ? AND x."+so.version+" < ?)")
			args = append(args, v, v.Add(time.Millisecond))
		}
		b.WriteString(" AND (" + strings.Join(or, " OR ") + ")")
	}
	fmt.Fprintf(&b, " ORDER BY %s, x.id LIMIT ?", added)
	args = append(args, q.Limit+1)
	return b.String(), args, true
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func strList(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")" }

// visibleSQL is policy.CanSee for a row of the source under label t, as
// SQL over the alias: "1=1" for every row, "" for none. An indicator or
// STIX object is read against its owner and label; an advisory against
// AdvisoryResources (its publisher, and its recipients as the
// organisations it was shared with).
func visibleSQL(a policy.Actor, src int, x string, t policy.TLP) (string, []any) {
	if a.System {
		return "1=1", nil
	}
	switch t {
	case policy.TLPClear:
		return "1=1", nil
	case policy.TLPGreen:
		if a.OrgID == 0 {
			return "", nil
		}
		return "1=1", nil
	case policy.TLPAmber:
		if a.Scope.All {
			return "1=1", nil
		}
		ids := a.Scope.IDs()
		if src != SourceAdvisory {
			if len(ids) == 0 {
				return "", nil
			}
			in, args := store.InList(ids)
			return x + ".owner_org_id IN " + in, args
		}
		orgs := ids
		if a.OrgID != 0 && !contains64(orgs, a.OrgID) {
			orgs = append(orgs, a.OrgID)
		}
		if len(orgs) == 0 {
			return "", nil
		}
		in, args := store.InList(orgs)
		cond := "EXISTS (SELECT 1 FROM advisory_recipients r WHERE r.advisory_id = " + x + ".id AND r.org_id IN " + in + ")"
		if len(ids) > 0 {
			in2, args2 := store.InList(ids)
			cond = "(" + x + ".owner_org_id IN " + in2 + " OR " + cond + ")"
			args = append(args2, args...)
		}
		return cond, args
	case policy.TLPAmberStrict:
		if a.OrgID == 0 {
			return "", nil
		}
		if src != SourceAdvisory {
			return x + ".owner_org_id = ?", []any{a.OrgID}
		}
		return "(" + x + ".owner_org_id = ? OR EXISTS (SELECT 1 FROM advisory_recipients r WHERE r.advisory_id = " + x + ".id AND r.org_id = ?))",
			[]any{a.OrgID, a.OrgID}
	}
	return "", nil
}

func contains64(l []int64, v int64) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// render reads the rows of a page by primary key and makes their STIX
// objects, in the page's order (each with its place in it). Policy checks each once more; a row it
// refuses (the SQL and the policy disagreeing) is left out and logged.
func (s *Service) render(ctx context.Context, a policy.Actor, pos []Cursor) ([]SharedObject, error) {
	const op = "intel: shared page"
	bySrc := map[int][]int64{}
	for _, p := range pos {
		bySrc[p.Src] = append(bySrc[p.Src], p.Row)
	}
	type key struct {
		src int
		row int64
	}
	got := map[key]SharedObject{}
	if ids := bySrc[SourceIndicator]; len(ids) > 0 {
		in, args := store.InList(ids)
		rows, err := s.DB.Query(ctx, "SELECT "+indicatorCols+" FROM intel_indicators WHERE id IN "+in, args...)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		for rows.Next() {
			i, err := scanIndicator(rows)
			if err != nil {
				rows.Close()
				return nil, errs.Internal(op, err)
			}
			if policy.Check(a, policy.IntelRead, i.Resource()) != nil {
				s.refused(i.STIXID)
				continue
			}
			o := indicatorObject(i)
			got[key{SourceIndicator, i.ID}] = SharedObject{ID: i.STIXID, Type: "indicator", Version: o["modified"].(string),
				Added: i.UpdatedAt.UTC(), TLP: i.TLP, Owner: i.OwnerOrgID, Body: o}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, errs.Internal(op, err)
		}
	}
	if ids := bySrc[SourceObject]; len(ids) > 0 {
		in, args := store.InList(ids)
		rows, err := s.DB.Query(ctx, "SELECT id, owner_org_id, stix_id, stix_type, tlp, body, updated_at FROM intel_objects WHERE id IN "+in, args...)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		for rows.Next() {
			var rid, owner int64
			var id, typ, t, body string
			var added time.Time
			if err := rows.Scan(&rid, &owner, &id, &typ, &t, &body, &added); err != nil {
				rows.Close()
				return nil, errs.Internal(op, err)
			}
			if policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner, TLP: policy.TLP(t)}) != nil {
				s.refused(id)
				continue
			}
			m, err := stix.Decode([]byte(body))
			if err != nil {
				rows.Close()
				return nil, errs.Internal(op, fmt.Errorf("object %s: %w", id, err))
			}
			m["object_marking_refs"] = []string{stix.TLPMarkingID(t)}
			delete(m, "granular_markings")
			v, _ := m["modified"].(string)
			if v == "" {
				v, _ = m["created"].(string)
			}
			got[key{SourceObject, rid}] = SharedObject{ID: id, Type: typ, Version: v, Added: added.UTC(),
				TLP: policy.TLP(t), Owner: owner, Body: m}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, errs.Internal(op, err)
		}
	}
	for _, id := range bySrc[SourceAdvisory] {
		v, err := loadAdvisory(ctx, s.DB, id)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		r, err := s.advisoryReport(ctx, a, id)
		if k := errs.KindOf(err); k == errs.KindNotFound || k == errs.KindConflict {
			s.refused(v.STIXID)
			continue
		}
		if err != nil {
			return nil, err
		}
		ver, _ := r["modified"].(string)
		got[key{SourceAdvisory, id}] = SharedObject{ID: v.STIXID, Type: "report", Version: ver, Added: v.UpdatedAt.UTC(),
			TLP: v.TLP, Owner: v.OwnerOrgID, Body: r}
	}
	out := make([]SharedObject, 0, len(pos))
	seen := map[string]bool{}
	for _, p := range pos {
		o, ok := got[key{p.Src, p.Row}]
		if !ok {
			continue // deleted between the two reads, or refused
		}
		if seen[o.ID+"|"+o.Version] {
			continue // another organisation's copy of the same version
		}
		seen[o.ID+"|"+o.Version] = true
		o.Pos = p
		out = append(out, o)
	}
	return out, nil
}

func (s *Service) refused(id string) {
	if s.Log != nil {
		s.Log.Warn("intel: shared page: policy refused a row the SQL selected", "stix_id", id)
	}
}

// advisoryReport is the report object of the advisory's STIX export.
func (s *Service) advisoryReport(ctx context.Context, a policy.Actor, id int64) (map[string]any, error) {
	b, err := s.AdvisorySTIX(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, errs.Internal("intel: advisory report", err)
	}
	for _, o := range bundle.Objects {
		if o["type"] == "report" {
			return o, nil
		}
	}
	return nil, errs.Internal("intel: advisory report", fmt.Errorf("advisory %d: no report in its bundle", id))
}

// DeleteShared removes the actor's organisation's copy of a STIX object:
// an indicator is revoked (its sightings and history stay), another object
// is deleted. NotFound when the organisation holds no such object.
func (s *Service) DeleteShared(ctx context.Context, a policy.Actor, stixID string) error {
	const op = "intel: delete shared"
	var id int64
	err := s.DB.QueryRow(ctx, `SELECT id FROM intel_indicators WHERE owner_org_id = ? AND stix_hash = ? AND stix_id = ?`,
		a.OrgID, store.StixHash(stixID), stixID).Scan(&id)
	if err == nil {
		return s.Revoke(ctx, a, id)
	}
	var oid int64
	var t string
	if err := s.DB.QueryRow(ctx, `SELECT id, tlp FROM intel_objects WHERE owner_org_id = ? AND stix_id = ?`, a.OrgID, stixID).Scan(&oid, &t); err != nil {
		return store.Wrap(op, err)
	}
	if err := policy.Check(a, policy.IntelWrite, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLP(t)}); err != nil {
		return err
	}
	now := s.stamp()
	return errs.Wrap(op, s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM intel_objects WHERE id = ?`, oid); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "intel.object.delete", Entity: "intel_object",
			EntityID: stixID, Before: map[string]any{"stix_id": stixID, "tlp": t}})
	}))
}
