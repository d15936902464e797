package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// ImportOptions tune an import.
type ImportOptions struct {
	// Name names the import in its record (a file name).
	Name string
	// DefaultTLP labels objects that carry no TLP marking (AMBER when empty:
	// an unmarked object is not assumed shareable).
	DefaultTLP policy.TLP
	// Progress, when set, is called every so many objects with the count.
	Progress func(n int)
}

// ImportResult is what an import did.
type ImportResult struct {
	ID         int64              `json:"id"`
	Format     string             `json:"format"`
	Name       string             `json:"name"`
	Total      int                `json:"total"`
	Accepted   int                `json:"accepted"`
	Rejected   int                `json:"rejected"`
	Indicators int                `json:"indicators"` // indicator rows created or reported again
	Objects    int                `json:"objects"`    // other STIX objects kept
	Sightings  int                `json:"sightings"`
	Errors     []stix.ObjectError `json:"errors"`
	CreatedAt  time.Time          `json:"created_at"`
}

// MaxImportErrors bounds the per-object errors kept with an import record.
const MaxImportErrors = 1000

// importer holds one import's transaction.
type importer struct {
	s      *Service
	tx     *store.Tx
	a      policy.Actor
	owner  int64
	now    time.Time
	source string
	def    policy.TLP
	res    *ImportResult
	// indicator rows per STIX id seen in this import (for sightings).
	byStix map[string][]int64
	// indicators waiting for the next batch write.
	pending []pendingIndicator
}

func (im *importer) fail(i int, id, typ string, err error) {
	im.res.Rejected++
	if len(im.res.Errors) < MaxImportErrors {
		im.res.Errors = append(im.res.Errors, stix.ObjectError{Index: i, ID: id, Type: typ, Error: err.Error()})
	}
}

// tlpOf reads an object's label from its object_marking_refs (TLP 2.0 or
// 1.0); the most restrictive wins, none gives the default.
func (im *importer) tlpOf(o map[string]any) policy.TLP {
	var out policy.TLP
	if refs, ok := o["object_marking_refs"].([]any); ok {
		for _, r := range refs {
			s, _ := r.(string)
			out = stricter(out, policy.TLP(stix.TLPOfMarking(s)))
		}
	}
	if out == "" {
		return im.def
	}
	return out
}

// ImportSTIX imports a STIX 2.1 bundle (or one object) into the actor's
// organisation: every object is checked against the schemas and the
// semantic rules; the faulty ones are reported and the valid rest kept, in
// one transaction with one audit entry and an import record.
func (s *Service) ImportSTIX(ctx context.Context, a policy.Actor, r io.Reader, opt ImportOptions) (ImportResult, error) {
	const op = "intel: import stix"
	v, err := stix.DefaultValidator()
	if err != nil {
		return ImportResult{}, errs.Internal(op, err)
	}
	var res ImportResult
	err = s.runImport(ctx, a, "stix", opt, &res, func(im *importer) error {
		_, err := stix.ReadObjects(r, func(i int, raw json.RawMessage) error {
			res.Total++
			if opt.Progress != nil && res.Total%1000 == 0 {
				opt.Progress(res.Total)
			}
			o, err := stix.Decode(raw)
			if err != nil {
				im.fail(i, "", "", err)
				return nil
			}
			id, _ := o["id"].(string)
			typ, _ := o["type"].(string)
			if err := v.Validate(o); err != nil {
				im.fail(i, id, typ, err)
				return nil
			}
			if err := im.object(ctx, o, raw); err != nil {
				if errs.KindOf(err) == errs.KindInternal || !isObjectFault(err) {
					return err
				}
				im.fail(i, id, typ, err)
				return nil
			}
			res.Accepted++
			return nil
		})
		if err != nil {
			if isObjectFault(err) || !isStoreErr(err) {
				return errs.Invalid(op).Field("file", "intel.error.file", err.Error())
			}
			return err
		}
		return im.flush(ctx)
	})
	return res, err
}

// objectFault is a per-object problem found after the schema check.
type objectFault struct{ msg string }

func (e objectFault) Error() string { return e.msg }

func isObjectFault(err error) bool { _, ok := err.(objectFault); return ok }

// storeErr marks a database failure inside the streaming callback.
type storeErr struct{ err error }

func (e storeErr) Error() string { return e.err.Error() }
func (e storeErr) Unwrap() error { return e.err }

func isStoreErr(err error) bool { _, ok := err.(storeErr); return ok }

func (s *Service) runImport(ctx context.Context, a policy.Actor, format string, opt ImportOptions, res *ImportResult, body func(*importer) error) error {
	op := "intel: import " + format
	if err := MayImport(a); err != nil {
		return err
	}
	if a.OrgID == 0 {
		return errs.Invalid(op).Field("owner", "intel.error.owner")
	}
	def := opt.DefaultTLP
	if def == "" {
		def = policy.TLPAmber
	}
	if !def.Valid() {
		return errs.Invalid(op).Field("tlp", "intel.error.tlp")
	}
	name := strings.TrimSpace(opt.Name)
	if name == "" {
		name = format
	}
	if len(name) > 300 {
		name = name[:300]
	}
	now := s.stamp()
	*res = ImportResult{Format: format, Name: name, CreatedAt: now, Errors: []stix.ObjectError{}}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		im := &importer{s: s, tx: tx, a: a, owner: a.OrgID, now: now, def: def, res: res, byStix: map[string][]int64{},
			source: format + ":" + name}
		if err := body(im); err != nil {
			return err
		}
		ej, _ := json.Marshal(res.Errors)
		if err := tx.QueryRow(ctx, `INSERT INTO intel_imports (owner_org_id, format, name, total, accepted, rejected, errors, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.OrgID, format, name, res.Total, res.Accepted, res.Rejected, string(ej),
			store.NullID(a.UserID), now).Scan(&res.ID); err != nil {
			return fmt.Errorf("import record: %w", err)
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "intel.import." + format, Entity: "intel_import",
			EntityID: strconv.FormatInt(res.ID, 10), After: map[string]any{"name": name, "total": res.Total, "accepted": res.Accepted,
				"rejected": res.Rejected, "indicators": res.Indicators, "objects": res.Objects, "sightings": res.Sightings}})
	})
	if opt.Progress != nil {
		opt.Progress(res.Total)
	}
	return errs.Ensure(op, err)
}

// object stores one valid STIX object.
func (im *importer) object(ctx context.Context, o map[string]any, raw json.RawMessage) error {
	typ, _ := o["type"].(string)
	id, _ := o["id"].(string)
	switch typ {
	case "marking-definition", "extension-definition", "language-content":
		return nil // TLP markings are read from the objects; others are not modelled
	case "indicator":
		return im.indicator(ctx, o)
	case "sighting":
		if err := im.sighting(ctx, o); err != nil {
			return err
		}
	}
	// Every other object (and the sighting itself) is kept as it came.
	mod := str(o, "modified")
	if mod == "" {
		mod = str(o, "created")
	}
	modified := im.now
	if mod != "" {
		if t, err := stix.ParseTime(mod); err == nil {
			modified = t
		}
	}
	name := str(o, "name")
	if name == "" {
		name = str(o, "value")
	}
	if len(name) > 500 {
		name = name[:500]
	}
	body, err := json.Marshal(o)
	if err != nil {
		return objectFault{err.Error()}
	}
	_, err = im.tx.Exec(ctx, `INSERT INTO intel_objects (owner_org_id, stix_id, stix_type, name, tlp, modified, body, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner_org_id, stix_id) DO UPDATE SET name = excluded.name, tlp = excluded.tlp, modified = excluded.modified,
			body = excluded.body, updated_at = excluded.updated_at
		WHERE excluded.modified >= intel_objects.modified`,
		im.owner, id, typ, name, string(im.tlpOf(o)), modified, string(body), im.now, im.now)
	if err != nil {
		return storeErr{fmt.Errorf("store %s: %w", id, err)}
	}
	im.res.Objects++
	return nil
}

func str(o map[string]any, k string) string { s, _ := o[k].(string); return s }

func (im *importer) indicator(ctx context.Context, o map[string]any) error {
	id := str(o, "id")
	if pt := str(o, "pattern_type"); pt != "stix" {
		return objectFault{fmt.Sprintf("pattern_type %q: certnet matches STIX patterns only", pt)}
	}
	p, err := stix.ParsePattern(str(o, "pattern"))
	if err != nil {
		return objectFault{"pattern: " + err.Error()}
	}
	base := Input{OwnerOrgID: im.owner, Name: str(o, "name"), Description: str(o, "description"), TLP: im.tlpOf(o),
		Source: im.source, Ref: id}
	if c, ok := o["confidence"].(json.Number); ok {
		n, _ := c.Int64()
		base.Confidence = int(n)
		if n == 0 {
			base.Confidence = 1 // 0 would mean "default"; keep it lowest
		}
	}
	base.ValidFrom, _ = stix.ParseTime(str(o, "valid_from"))
	if u := str(o, "valid_until"); u != "" {
		base.ValidUntil, _ = stix.ParseTime(u)
	}
	if labels, ok := o["labels"].([]any); ok {
		for _, l := range labels {
			if s, _ := l.(string); strings.HasPrefix(strings.ToLower(s), "rsit:") {
				if _, err := NormaliseRSIT(s); err == nil {
					base.Tags = append(base.Tags, s)
				}
			}
		}
	}
	if kc, ok := o["kill_chain_phases"].([]any); ok {
		for _, k := range kc {
			if m, ok := k.(map[string]any); ok {
				base.KillChain = append(base.KillChain, str(m, "kill_chain_name")+":"+str(m, "phase_name"))
			}
		}
	}
	var values []Input
	if terms, ok := p.SimpleTerms(); ok {
		for i, t := range terms {
			k, v, err := FromTerm(t)
			if err != nil {
				return objectFault{fmt.Sprintf("pattern term %s:%s: %v", t.Type, t.Property, err)}
			}
			in := base
			in.Kind, in.Value = k, v
			in.STIXID = id
			if i > 0 {
				in.STIXID = "indicator--" + uuidFrom(id, string(k), v)
			}
			values = append(values, in)
		}
	} else {
		in := base
		in.Kind, in.Value, in.STIXID = KindSTIX, str(o, "pattern"), id
		values = append(values, in)
	}
	revoked, _ := o["revoked"].(bool)
	// Every term must be valid before any is kept: the object is one.
	var inds []Indicator
	for _, in := range values {
		e := errs.Invalid("intel: import indicator")
		ind := validate(in, im.now, e)
		ind.OwnerOrgID = im.owner
		if e.OrNil() != nil {
			return objectFault{fieldMessage(e)}
		}
		inds = append(inds, ind)
	}
	for _, ind := range inds {
		im.pending = append(im.pending, pendingIndicator{ind: ind, source: im.source, ref: id, revoked: revoked})
	}
	if len(im.pending) >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

// importBatch is how many indicators an import writes per statement.
const importBatch = 400

type pendingIndicator struct {
	ind     Indicator
	source  string
	ref     string
	revoked bool
	// sightings to record on the indicator's row once it is written.
	sightings []SightingInput
}

// flush writes the pending indicators: the values the owner does not hold
// yet in one INSERT (and their sources in another), the others (and
// repeats inside the batch) one by one through upsert, which merges; then
// the sightings that came with them.
func (im *importer) flush(ctx context.Context) error {
	batch := im.pending
	im.pending = im.pending[:0]
	if len(batch) == 0 {
		return nil
	}
	key := func(i Indicator) string { return string(i.Kind) + "\x00" + i.Value }
	// The values the owner already holds, one query per kind so that the
	// unique index (owner, kind, value) answers it.
	held := map[string]bool{}
	byKind := map[Kind][]any{}
	for _, p := range batch {
		byKind[p.ind.Kind] = append(byKind[p.ind.Kind], p.ind.Value)
	}
	for k, values := range byKind {
		args := append([]any{im.owner, string(k)}, values...)
		ph := strings.Repeat(",?", len(values))[1:]
		rows, err := im.tx.Query(ctx, `SELECT value FROM intel_indicators WHERE owner_org_id = ? AND kind = ? AND value IN (`+ph+`)`, args...)
		if err != nil {
			return storeErr{err}
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return storeErr{err}
			}
			held[string(k)+"\x00"+v] = true
		}
		rows.Close()
	}
	var args []any
	var fresh, slow []pendingIndicator
	seen := map[string]bool{}
	for _, p := range batch {
		k := key(p.ind)
		if held[k] || seen[k] {
			slow = append(slow, p)
			continue
		}
		seen[k] = true
		fresh = append(fresh, p)
	}
	ids := map[string]int64{}
	if len(fresh) > 0 {
		var b strings.Builder
		b.WriteString(`INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, name, description, search, confidence,
			valid_from, valid_until, tlp, tags, kill_chain, stix_id, revoked, created_by, created_at, updated_at) VALUES `)
		args = args[:0]
		for i, p := range fresh {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			ind := p.ind
			args = append(args, im.owner, string(ind.Kind), ind.Value, ind.Pattern, ind.Name, ind.Description,
				searchKey(ind.Value, ind.Name, ind.Description), ind.Confidence, ind.ValidFrom, store.NullTime(ind.ValidUntil), string(ind.TLP),
				strings.Join(ind.Tags, "\n"), strings.Join(ind.KillChain, "\n"), ind.STIXID, p.revoked, store.NullID(im.a.UserID), im.now, im.now)
		}
		b.WriteString(" RETURNING id, kind, value")
		rows, err := im.tx.Query(ctx, b.String(), args...)
		if err != nil {
			return storeErr{fmt.Errorf("insert indicators: %w", err)}
		}
		for rows.Next() {
			var id int64
			var k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return storeErr{err}
			}
			ids[k+"\x00"+v] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return storeErr{err}
		}
		b.Reset()
		b.WriteString(`INSERT INTO intel_indicator_sources (indicator_id, source, ref, first_seen, last_seen) VALUES `)
		args = args[:0]
		for i, p := range fresh {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?)")
			args = append(args, ids[key(p.ind)], p.source, p.ref, im.now, im.now)
		}
		if _, err := im.tx.Exec(ctx, b.String(), args...); err != nil {
			return storeErr{fmt.Errorf("indicator sources: %w", err)}
		}
		for _, p := range fresh {
			if err := im.written(ctx, p, ids[key(p.ind)]); err != nil {
				return err
			}
		}
	}
	for _, p := range slow {
		rowID, _, err := upsert(ctx, im.tx, im.now, im.a, p.ind, p.source, p.ref)
		if err != nil {
			return storeErr{err}
		}
		if p.revoked {
			if _, err := im.tx.Exec(ctx, `UPDATE intel_indicators SET revoked = TRUE WHERE id = ?`, rowID); err != nil {
				return storeErr{err}
			}
		}
		if err := im.written(ctx, p, rowID); err != nil {
			return err
		}
	}
	return nil
}

// written notes that p is stored in row id and records its sightings.
func (im *importer) written(ctx context.Context, p pendingIndicator, id int64) error {
	im.byStix[p.ref] = append(im.byStix[p.ref], id)
	im.res.Indicators++
	for _, sg := range p.sightings {
		if err := addSighting(ctx, im.tx, im.now, id, im.owner, sg); err != nil {
			return storeErr{err}
		}
		im.res.Sightings++
	}
	return nil
}

func fieldMessage(e *errs.Error) string {
	var parts []string
	for name, m := range e.Fields {
		s := name + ": " + m.Key
		if len(m.Args) > 0 {
			s += fmt.Sprintf(" %v", m.Args)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (im *importer) sighting(ctx context.Context, o map[string]any) error {
	ref := str(o, "sighting_of_ref")
	if !strings.HasPrefix(ref, "indicator--") {
		return nil // sightings of other objects are kept as objects only
	}
	if err := im.flush(ctx); err != nil {
		return err
	}
	rows := im.byStix[ref]
	if len(rows) == 0 {
		var err error
		if rows, err = store.IDs(ctx, im.tx, `SELECT id FROM intel_indicators WHERE owner_org_id = ? AND stix_id = ?`, im.owner, ref); err != nil {
			return storeErr{err}
		}
	}
	in := SightingInput{Count: 1, Source: im.source, STIXID: str(o, "id")}
	if c, ok := o["count"].(json.Number); ok {
		n, _ := c.Int64()
		in.Count = int(n)
	}
	in.FirstSeen, _ = stix.ParseTime(str(o, "first_seen"))
	in.LastSeen, _ = stix.ParseTime(str(o, "last_seen"))
	if in.FirstSeen.IsZero() {
		in.FirstSeen, _ = stix.ParseTime(str(o, "created"))
	}
	if in.LastSeen.IsZero() {
		in.LastSeen = in.FirstSeen
	}
	for _, id := range rows {
		if err := addSighting(ctx, im.tx, im.now, id, im.owner, in); err != nil {
			return storeErr{err}
		}
		im.res.Sightings++
	}
	return nil
}

// GetImport returns an import record with its per-object errors.
func (s *Service) GetImport(ctx context.Context, a policy.Actor, id int64) (ImportResult, error) {
	const op = "intel: get import"
	var res ImportResult
	var owner int64
	var ej string
	err := s.DB.QueryRow(ctx, `SELECT id, owner_org_id, format, name, total, accepted, rejected, errors, created_at FROM intel_imports WHERE id = ?`, id).
		Scan(&res.ID, &owner, &res.Format, &res.Name, &res.Total, &res.Accepted, &res.Rejected, &ej, &res.CreatedAt)
	if store.IsNoRows(err) {
		return ImportResult{}, errs.NotFound(op)
	}
	if err != nil {
		return ImportResult{}, errs.Internal(op, err)
	}
	// An import record is the organisation's own business (AMBER+STRICT).
	if err := policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner, TLP: policy.TLPAmberStrict}); err != nil {
		return ImportResult{}, err
	}
	json.Unmarshal([]byte(ej), &res.Errors)
	res.CreatedAt = res.CreatedAt.UTC()
	return res, nil
}

// Imports lists the latest imports of the actor's organisation.
func (s *Service) Imports(ctx context.Context, a policy.Actor, limit int) ([]ImportResult, error) {
	const op = "intel: list imports"
	if err := policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmberStrict}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.DB.Query(ctx, `SELECT id, format, name, total, accepted, rejected, created_at FROM intel_imports WHERE owner_org_id = ? ORDER BY id DESC LIMIT ?`, a.OrgID, limit)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []ImportResult
	for rows.Next() {
		var r ImportResult
		if err := rows.Scan(&r.ID, &r.Format, &r.Name, &r.Total, &r.Accepted, &r.Rejected, &r.CreatedAt); err != nil {
			return nil, errs.Internal(op, err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// uuidFrom makes a stable UUID from parts (so a re-import finds the same row).
func uuidFrom(parts ...string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.Join(parts, "|"))).String()
}
