package intel

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Service is the intelligence service.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	Log *slog.Logger
	// Whois is the registry's constituency index (org.Service.WhoisIndex),
	// which advisories targeted at "the owners of these addresses" use.
	Whois func(context.Context) (*org.Index, error)
}

// NewService returns the service; now is the clock (time.Now when nil).
func NewService(db *store.DB, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Now: now, Log: log.With("component", "intel")}
}

func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Input is a new indicator (or another report of a known one).
type Input struct {
	OwnerOrgID  int64 // 0: the actor's organisation
	Kind        Kind  // "" guesses from the value
	Value       string
	Name        string
	Description string
	Confidence  int // 0 means the default 50
	ValidFrom   time.Time
	ValidUntil  time.Time
	TLP         policy.TLP // as policy.ParseTLP reads it ("amber", "TLP:WHITE"…)
	Tags        []string
	KillChain   []string
	Source      string // "" is "manual"
	Ref         string // the object id in the source
	STIXID      string // "" makes one
}

// DefaultConfidence is the confidence of an indicator given none.
const DefaultConfidence = 50

// validate checks in and returns the normalised indicator. Field errors go to e.
func validate(in Input, now time.Time, e *errs.Error) Indicator {
	ind := Indicator{OwnerOrgID: in.OwnerOrgID, Name: strings.TrimSpace(in.Name), Description: strings.TrimSpace(in.Description),
		Confidence: in.Confidence, ValidFrom: in.ValidFrom.UTC().Truncate(time.Microsecond), ValidUntil: in.ValidUntil.UTC().Truncate(time.Microsecond),
		TLP: in.TLP, STIXID: in.STIXID}
	if in.Kind != "" && !ValidKind(in.Kind) {
		e.Field("kind", "intel.error.kind")
	} else if k, v, err := Normalise(in.Kind, in.Value); err != nil {
		e.Field("value", "intel.error.value", err.Error())
	} else {
		ind.Kind, ind.Value = k, v
		ind.Pattern = PatternOf(k, v)
	}
	if len(ind.Name) > 500 {
		e.Field("name", "intel.error.too_long", 500)
	}
	if len(ind.Description) > 20000 {
		e.Field("description", "intel.error.too_long", 20000)
	}
	if ind.Confidence == 0 {
		ind.Confidence = DefaultConfidence
	}
	if ind.Confidence < 0 || ind.Confidence > 100 {
		e.Field("confidence", "intel.error.confidence")
	}
	if in.ValidFrom.IsZero() {
		ind.ValidFrom = now
	}
	if !ind.ValidUntil.IsZero() && !ind.ValidUntil.After(ind.ValidFrom) {
		e.Field("valid_until", "intel.error.valid_until")
	}
	if t, err := policy.ParseTLP(string(in.TLP)); err != nil {
		e.Field("tlp", "intel.error.tlp")
	} else {
		ind.TLP = t
	}
	for _, t := range in.Tags {
		if strings.TrimSpace(t) == "" {
			continue
		}
		n, err := NormaliseRSIT(t)
		if err != nil {
			e.Field("tags", "intel.error.tag", t)
			continue
		}
		ind.Tags = appendUnique(ind.Tags, n)
	}
	for _, k := range in.KillChain {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		chain, phase, ok := strings.Cut(k, ":")
		if !ok || chain == "" || phase == "" || strings.ContainsAny(k, " \t\r\n") {
			e.Field("kill_chain", "intel.error.kill_chain", k)
			continue
		}
		ind.KillChain = appendUnique(ind.KillChain, strings.ToLower(k))
	}
	if ind.STIXID == "" {
		ind.STIXID = "indicator--" + uuid.NewString()
	} else if !ValidSTIXID(ind.STIXID, "indicator") {
		e.Field("stix_id", "intel.error.stix_id")
	}
	return ind
}

// ValidSTIXID reports whether id is "<typ>--<uuid>".
func ValidSTIXID(id, typ string) bool {
	t, u, ok := strings.Cut(id, "--")
	if !ok || (typ != "" && t != typ) {
		return false
	}
	_, err := uuid.Parse(u)
	return err == nil && len(u) == 36
}

func appendUnique(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

// Create records an indicator for the owner organisation, or another report
// of one it holds (one row per value: the sources grow, confidence and
// validity widen, the label only tightens).
func (s *Service) Create(ctx context.Context, a policy.Actor, in Input) (Indicator, error) {
	const op = "intel: create indicator"
	if in.OwnerOrgID == 0 {
		in.OwnerOrgID = a.OrgID
	}
	if err := policy.Check(a, policy.IntelWrite, policy.Resource{OwnerOrg: in.OwnerOrgID, TLP: policy.TLPClear}); err != nil {
		return Indicator{}, err
	}
	now := s.stamp()
	e := errs.Invalid(op)
	ind := validate(in, now, e)
	if in.OwnerOrgID == 0 {
		e.Field("owner", "intel.error.owner")
	}
	if err := e.OrNil(); err != nil {
		return Indicator{}, err
	}
	src := in.Source
	if src == "" {
		src = "manual"
	}
	var out Indicator
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		// The row's time is taken holding the write lock (SQLite), as
		// every writer of what TAXII serves does: stamps follow the order
		// of the commits, so a date-added cursor never passes a row
		// committed after it.
		now := s.stamp()
		id, created, err := upsert(ctx, tx, now, a, ind, src, in.Ref)
		if err != nil {
			return err
		}
		out, err = load(ctx, tx, id)
		if err != nil {
			return err
		}
		action := "intel.indicator.report"
		if created {
			action = "intel.indicator.create"
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: out.OwnerOrgID, Action: action, Entity: "indicator",
			EntityID: fmt.Sprint(id), After: auditView(out, src)})
	})
	if err != nil {
		return Indicator{}, errs.Wrap(op, err)
	}
	return out, nil
}

func auditView(i Indicator, source string) map[string]any {
	return map[string]any{"kind": i.Kind, "value": i.Value, "tlp": i.TLP, "confidence": i.Confidence,
		"valid_until": i.ValidUntil, "source": source, "stix_id": i.STIXID}
}

// upsert writes ind (already normalised) for its owner and adds the source.
func upsert(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, ind Indicator, source, ref string) (id int64, created bool, err error) {
	var cur struct {
		tlp        string
		confidence int
		until      sql.NullTime
		tags, kc   string
		name, desc string
	}
	err = tx.QueryRow(ctx, `SELECT id, tlp, confidence, valid_until, tags, kill_chain, name, description FROM intel_indicators
		WHERE owner_org_id = ? AND kind = ? AND value = ?`, ind.OwnerOrgID, string(ind.Kind), ind.Value).
		Scan(&id, &cur.tlp, &cur.confidence, &cur.until, &cur.tags, &cur.kc, &cur.name, &cur.desc)
	switch {
	case store.IsNoRows(err):
		err = tx.QueryRow(ctx, `INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, name, description, search, confidence,
			valid_from, valid_until, tlp, tags, kill_chain, stix_id, stix_hash, revoked, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?) RETURNING id`,
			ind.OwnerOrgID, string(ind.Kind), ind.Value, ind.Pattern, ind.Name, ind.Description, searchKey(ind.Value, ind.Name, ind.Description),
			ind.Confidence, ind.ValidFrom, store.NullTime(ind.ValidUntil), string(ind.TLP), strings.Join(ind.Tags, "\n"),
			strings.Join(ind.KillChain, "\n"), ind.STIXID, store.StixHash(ind.STIXID), store.NullID(a.UserID), now, now).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("insert indicator: %w", err)
		}
		created = true
	case err != nil:
		return 0, false, fmt.Errorf("find indicator: %w", err)
	default:
		tlp := stricter(policy.TLP(cur.tlp), ind.TLP)
		conf := max(cur.confidence, ind.Confidence)
		until := store.NullTime(time.Time{})
		if cur.until.Valid && !ind.ValidUntil.IsZero() {
			u := cur.until.Time
			if ind.ValidUntil.After(u) {
				u = ind.ValidUntil
			}
			until = u
		}
		tags := mergeLines(cur.tags, ind.Tags)
		kc := mergeLines(cur.kc, ind.KillChain)
		name, desc := cur.name, cur.desc
		if name == "" {
			name = ind.Name
		}
		if desc == "" {
			desc = ind.Description
		}
		if _, err := tx.Exec(ctx, `UPDATE intel_indicators SET tlp = ?, confidence = ?, valid_until = ?, tags = ?, kill_chain = ?,
			name = ?, description = ?, search = ?, revoked = FALSE, updated_at = ? WHERE id = ?`,
			string(tlp), conf, until, tags, kc, name, desc, searchKey(ind.Value, name, desc), now, id); err != nil {
			return 0, false, fmt.Errorf("update indicator: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO intel_indicator_sources (indicator_id, source, ref, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (indicator_id, source) DO UPDATE SET last_seen = excluded.last_seen, ref = excluded.ref`,
		id, source, ref, now, now); err != nil {
		return 0, false, fmt.Errorf("indicator source: %w", err)
	}
	return id, created, nil
}

func mergeLines(cur string, add []string) string {
	var l []string
	if cur != "" {
		l = strings.Split(cur, "\n")
	}
	for _, x := range add {
		l = appendUnique(l, x)
	}
	return strings.Join(l, "\n")
}

// stricter returns the more restrictive of two labels; an empty one is no
// label (a label only tightens; on import the strictest marking wins).
func stricter(cur, t policy.TLP) policy.TLP {
	if t == "" || cur != "" && t.Rank() <= cur.Rank() {
		return cur
	}
	return t
}

// searchKey is i18n.Fold of the parts; for plain ASCII (most indicator
// values) that is lower case with runs of space made one, done without the
// Unicode normalisation (a twelfth of the CPU of a large import).
func searchKey(parts ...string) string {
	s := strings.Join(parts, " ")
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i18n.Fold(s)
		}
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

const indicatorCols = `id, owner_org_id, kind, value, pattern, name, description, confidence, valid_from, valid_until, tlp,
	tags, kill_chain, stix_id, revoked, created_by, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanIndicator(sc scanner) (Indicator, error) {
	var i Indicator
	var until sql.NullTime
	var by sql.NullInt64
	var kind, tlp, tags, kc string
	if err := sc.Scan(&i.ID, &i.OwnerOrgID, &kind, &i.Value, &i.Pattern, &i.Name, &i.Description, &i.Confidence, &i.ValidFrom,
		&until, &tlp, &tags, &kc, &i.STIXID, &i.Revoked, &by, &i.CreatedAt, &i.UpdatedAt); err != nil {
		return Indicator{}, err
	}
	i.Kind, i.TLP, i.CreatedBy = Kind(kind), policy.TLP(tlp), by.Int64
	i.ValidFrom, i.CreatedAt, i.UpdatedAt = i.ValidFrom.UTC(), i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	if until.Valid {
		i.ValidUntil = until.Time.UTC()
	}
	if tags != "" {
		i.Tags = strings.Split(tags, "\n")
	}
	if kc != "" {
		i.KillChain = strings.Split(kc, "\n")
	}
	return i, nil
}

func load(ctx context.Context, q store.Q, id int64) (Indicator, error) {
	i, err := scanIndicator(q.QueryRow(ctx, `SELECT `+indicatorCols+` FROM intel_indicators WHERE id = ?`, id))
	if store.IsNoRows(err) {
		return Indicator{}, errs.NotFound("intel: indicator")
	}
	return i, err
}

// Get returns an indicator with its sources and sightings.
func (s *Service) Get(ctx context.Context, a policy.Actor, id int64) (Indicator, error) {
	const op = "intel: get indicator"
	i, err := load(ctx, s.DB, id)
	if err != nil {
		return Indicator{}, errs.Wrap(op, err)
	}
	if err := policy.Check(a, policy.IntelRead, i.Resource()); err != nil {
		return Indicator{}, err
	}
	rows, err := s.DB.Query(ctx, `SELECT source, ref, first_seen, last_seen FROM intel_indicator_sources WHERE indicator_id = ? ORDER BY first_seen, source`, id)
	if err != nil {
		return Indicator{}, errs.Internal(op, err)
	}
	for rows.Next() {
		var src Source
		if err := rows.Scan(&src.Source, &src.Ref, &src.FirstSeen, &src.LastSeen); err != nil {
			rows.Close()
			return Indicator{}, errs.Internal(op, err)
		}
		i.Sources = append(i.Sources, src)
	}
	rows.Close()
	rows, err = s.DB.Query(ctx, `SELECT stix_id, first_seen, last_seen, count, source, org_id FROM intel_sightings WHERE indicator_id = ? ORDER BY last_seen DESC, id`, id)
	if err != nil {
		return Indicator{}, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sg Sighting
		var org sql.NullInt64
		if err := rows.Scan(&sg.STIXID, &sg.FirstSeen, &sg.LastSeen, &sg.Count, &sg.Source, &org); err != nil {
			return Indicator{}, errs.Internal(op, err)
		}
		sg.OrgID = org.Int64
		i.Sightings = append(i.Sightings, sg)
	}
	return i, rows.Err()
}

// SightingInput is a sighting of an indicator.
type SightingInput struct {
	FirstSeen, LastSeen time.Time
	Count               int
	Source              string
	STIXID              string // "" makes one
}

// own is the resource of what the actor's organisation adds to its own
// store: an import, a sighting it records.
func own(a policy.Actor) policy.Resource {
	return policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPClear}
}

// MayImport returns nil when the actor may import into its organisation's
// store (ImportSTIX and ImportMISP decide the same; pages ask first).
func MayImport(a policy.Actor) error { return policy.Check(a, policy.IntelImport, own(a)) }

// MaySight reports whether the actor may record sightings for its
// organisation (AddSighting decides the same; pages ask to show the form).
func MaySight(a policy.Actor) bool {
	return a.System || a.OrgID != 0 && policy.Allowed(a, policy.IntelWrite, own(a))
}

// AddSighting records that the actor's organisation saw an indicator.
func (s *Service) AddSighting(ctx context.Context, a policy.Actor, id int64, in SightingInput) error {
	const op = "intel: add sighting"
	i, err := load(ctx, s.DB, id)
	if err != nil {
		return errs.Wrap(op, err)
	}
	if err := policy.Check(a, policy.IntelRead, i.Resource()); err != nil {
		return err
	}
	if !MaySight(a) {
		return errs.Forbidden(op)
	}
	now := s.stamp()
	e := errs.Invalid(op)
	if in.Count == 0 {
		in.Count = 1
	}
	if in.Count < 0 || in.Count > 1_000_000_000 {
		e.Field("count", "intel.error.count")
	}
	if in.FirstSeen.IsZero() {
		in.FirstSeen = now
	}
	if in.LastSeen.IsZero() {
		in.LastSeen = in.FirstSeen
	}
	if in.LastSeen.Before(in.FirstSeen) {
		e.Field("last_seen", "intel.error.last_seen")
	}
	if in.FirstSeen.After(now.Add(time.Hour)) {
		e.Field("first_seen", "intel.error.future")
	}
	if in.STIXID == "" {
		in.STIXID = "sighting--" + uuid.NewString()
	} else if !ValidSTIXID(in.STIXID, "sighting") {
		e.Field("stix_id", "intel.error.stix_id")
	}
	if err := e.OrNil(); err != nil {
		return err
	}
	return errs.Wrap(op, s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := addSighting(ctx, tx, now, id, a.OrgID, in); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: i.OwnerOrgID, Action: "intel.sighting.add", Entity: "indicator",
			EntityID: fmt.Sprint(id), After: map[string]any{"count": in.Count, "first_seen": in.FirstSeen, "last_seen": in.LastSeen, "source": in.Source}})
	}))
}

func addSighting(ctx context.Context, tx *store.Tx, now time.Time, id, org int64, in SightingInput) error {
	_, err := tx.Exec(ctx, `INSERT INTO intel_sightings (indicator_id, stix_id, first_seen, last_seen, count, source, org_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (indicator_id, stix_id) DO UPDATE SET last_seen = excluded.last_seen, count = excluded.count`,
		id, in.STIXID, in.FirstSeen.UTC(), in.LastSeen.UTC(), in.Count, in.Source, store.NullID(org), now)
	if err != nil {
		return fmt.Errorf("sighting: %w", err)
	}
	return nil
}

// Expire ends an indicator's validity now; Revoke withdraws it.
func (s *Service) Expire(ctx context.Context, a policy.Actor, id int64) error {
	return s.change(ctx, a, id, "intel.indicator.expire", `UPDATE intel_indicators SET valid_until = ?, updated_at = ? WHERE id = ?`)
}

// Revoke withdraws an indicator (it stays, marked revoked, and is exported
// as revoked).
func (s *Service) Revoke(ctx context.Context, a policy.Actor, id int64) error {
	return s.change(ctx, a, id, "intel.indicator.revoke", `UPDATE intel_indicators SET revoked = TRUE, valid_until = COALESCE(valid_until, ?), updated_at = ? WHERE id = ?`)
}

func (s *Service) change(ctx context.Context, a policy.Actor, id int64, action, q string) error {
	op := "intel: " + action
	i, err := load(ctx, s.DB, id)
	if err != nil {
		return errs.Wrap(op, err)
	}
	if err := policy.Check(a, policy.IntelWrite, i.Resource()); err != nil {
		return err
	}
	return errs.Wrap(op, s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp() // holding the write lock, as in Create
		if _, err := tx.Exec(ctx, q, now, now, id); err != nil {
			return err
		}
		after, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: i.OwnerOrgID, Action: action, Entity: "indicator",
			EntityID: fmt.Sprint(id), Before: auditView(i, ""), After: auditView(after, "")})
	}))
}
