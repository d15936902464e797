package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
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
	// rows of an object of this import that its STIX id does not find
	// (for its sightings): the second and later values of a pattern, which
	// carry derived ids, and values merged into a row the owner held
	// already, which keeps its own. The others are found by their id.
	alsoRows map[uuid.UUID][]int64
	// indicator rows written by kind and by label, for the audit entry.
	kinds map[Kind]int
	tlps  map[policy.TLP]int
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
// one transaction with one audit entry (the import's summary) and an import
// record.
//
// The bundle is streamed: one goroutine reads the objects, workers (one per
// CPU) decode, check and normalise them a chunk at a time, and this
// goroutine writes them in their order, a batch of indicators per
// statement. The common indicator object takes a fast path
// (stix.ReadIndicator) that accepts only what the schemas accept; any other
// object is decoded and checked in full.
func (s *Service) ImportSTIX(ctx context.Context, a policy.Actor, r io.Reader, opt ImportOptions) (ImportResult, error) {
	const op = "intel: import stix"
	v, err := stix.DefaultValidator()
	if err != nil {
		return ImportResult{}, errs.Internal(op, err)
	}
	var res ImportResult
	err = s.runImport(ctx, a, "stix", opt, &res, func(im *importer) error {
		if err := im.stream(ctx, r, v, opt.Progress); err != nil {
			if isObjectFault(err) || !isStoreErr(err) {
				return errs.Invalid(op).Field("file", "intel.error.file", err.Error())
			}
			return err
		}
		return im.flush(ctx)
	})
	return res, err
}

// chunkSize is how many objects a worker prepares at a time.
const chunkSize = 256

// chunk is a run of a bundle's objects on their way through the workers.
type chunk struct {
	start int
	raws  []json.RawMessage
	out   []prepared
	done  chan struct{}
}

// prepared is one object made ready for the writer.
type prepared struct {
	index   int
	id, typ string
	err     error          // the object's fault
	skip    bool           // valid, not stored (marking definitions…)
	obj     map[string]any // another object to keep
	inds    []pendingIndicator
}

// stream reads the objects of r, prepares them on the workers and writes
// them in order. A JSON syntax error comes back as a plain error (the file
// is refused), a database error as a storeErr.
func (im *importer) stream(ctx context.Context, r io.Reader, v *stix.Validator, progress func(int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk, 4)
	order := make(chan *chunk, 8)
	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		cur := &chunk{}
		send := func() error {
			cur.done = make(chan struct{})
			select {
			case order <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case work <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			cur = &chunk{}
			return nil
		}
		_, err := stix.ReadObjects(r, func(i int, raw json.RawMessage) error {
			if len(cur.raws) == 0 {
				cur.start = i
				cur.raws = make([]json.RawMessage, 0, chunkSize)
			}
			cur.raws = append(cur.raws, raw)
			if len(cur.raws) == chunkSize {
				return send()
			}
			return nil
		})
		if err == nil && len(cur.raws) > 0 {
			err = send()
		}
		readErr = err // seen by the writer once order is closed
	}()
	for range max(1, runtime.GOMAXPROCS(0)) {
		go func() {
			for c := range work {
				im.prepareChunk(c, v)
				close(c.done)
			}
		}()
	}
	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			return storeErr{ctx.Err()}
		}
		for i := range c.out {
			if err := im.take(ctx, &c.out[i], progress); err != nil {
				return err
			}
		}
	}
	if readErr != nil && ctx.Err() == nil {
		return readErr
	}
	if err := ctx.Err(); err != nil {
		return storeErr{err}
	}
	return nil
}

// prepareChunk decodes, checks and normalises a chunk's objects (on a
// worker: nothing here writes to the importer).
func (im *importer) prepareChunk(c *chunk, v *stix.Validator) {
	c.out = make([]prepared, len(c.raws))
	var tc stix.TimeCache
	for j, raw := range c.raws {
		p := &c.out[j]
		p.index = c.start + j
		if fi, ok := stix.ReadIndicator(raw, &tc); ok {
			p.id, p.typ = fi.ID, "indicator"
			p.inds, p.err = im.prepareIndicator(fastFields(fi))
			continue
		}
		o, err := stix.Decode(raw)
		if err != nil {
			p.err = err
			continue
		}
		p.id, _ = o["id"].(string)
		p.typ, _ = o["type"].(string)
		if err := v.Validate(o); err != nil {
			p.err = err
			continue
		}
		switch p.typ {
		case "marking-definition", "extension-definition", "language-content":
			p.skip = true // TLP markings are read from the objects; others are not modelled
		case "indicator":
			f, err := im.mapFields(o)
			if err == nil {
				p.inds, err = im.prepareIndicator(f)
			}
			p.err = err
		default:
			p.obj = o
		}
	}
	c.raws = nil
}

// take writes one prepared object (on the writer).
func (im *importer) take(ctx context.Context, p *prepared, progress func(int)) error {
	im.res.Total++
	if progress != nil && im.res.Total%1000 == 0 {
		progress(im.res.Total)
	}
	switch {
	case p.err != nil:
		im.fail(p.index, p.id, p.typ, p.err)
		return nil
	case p.skip:
	case p.obj != nil:
		if err := im.object(ctx, p.obj); err != nil {
			if !isObjectFault(err) {
				return err
			}
			im.fail(p.index, p.id, p.typ, err)
			return nil
		}
	default:
		im.pending = append(im.pending, p.inds...)
		if len(im.pending) >= importBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
	im.res.Accepted++
	return nil
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
	*res = ImportResult{Format: format, Name: name, Errors: []stix.ObjectError{}}
	// A bulk transaction: SQLite does not enforce the foreign keys in it, so
	// the parents of what the import writes are checked here, once: every
	// row it writes refers to the owner or to a row it wrote itself or read
	// in the same transaction.
	err := s.DB.InBulkTx(ctx, func(tx *store.Tx) error {
		// Stamped once the transaction holds the write lock (SQLite): a
		// writer that went before it has an earlier stamp, so a TAXII
		// reader's date-added cursor never passes rows committed later.
		now := s.stamp()
		res.CreatedAt = now
		if err := importOwner(ctx, tx, a); err != nil {
			return err
		}
		im := &importer{s: s, tx: tx, a: a, owner: a.OrgID, now: now, def: def, res: res, alsoRows: map[uuid.UUID][]int64{},
			kinds: map[Kind]int{}, tlps: map[policy.TLP]int{},
			source: format + ":" + name}
		if tx.Dialect() == store.SQLite {
			// A large import touches index pages all over: a larger page
			// cache for this connection while it runs spills fewer of them
			// to the WAL before the commit (back to the default after).
			if _, err := tx.Exec(ctx, "PRAGMA cache_size = -262144"); err != nil {
				return fmt.Errorf("import: cache size: %w", err)
			}
			defer tx.Exec(ctx, "PRAGMA cache_size = -32768")
		}
		if err := body(im); err != nil {
			return err
		}
		ej, _ := json.Marshal(res.Errors)
		if err := tx.QueryRow(ctx, `INSERT INTO intel_imports (owner_org_id, format, name, total, accepted, rejected, errors, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.OrgID, format, name, res.Total, res.Accepted, res.Rejected, string(ej),
			store.NullID(a.UserID), now).Scan(&res.ID); err != nil {
			return fmt.Errorf("import record: %w", err)
		}
		// One entry sums the import up: what it held, what was kept by
		// kind and label (the rows themselves carry the import's source).
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "intel.import." + format, Entity: "intel_import",
			EntityID: strconv.FormatInt(res.ID, 10), After: map[string]any{"name": name, "total": res.Total, "accepted": res.Accepted,
				"rejected": res.Rejected, "indicators": res.Indicators, "objects": res.Objects, "sightings": res.Sightings,
				"source": im.source, "kinds": im.kinds, "tlp": im.tlps}})
	})
	if opt.Progress != nil {
		opt.Progress(res.Total)
	}
	return errs.Ensure(op, err)
}

// importOwner checks, in the import's transaction, that the organisation
// every imported row belongs to is there (created_by is a plain number).
func importOwner(ctx context.Context, tx *store.Tx, a policy.Actor) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM organisations WHERE id = ?`, a.OrgID).Scan(&n); err != nil {
		return fmt.Errorf("import: owner: %w", err)
	}
	if n == 0 {
		return errs.Invalid("intel: import").Field("owner", "intel.error.owner")
	}
	return nil
}

// object stores one valid STIX object other than an indicator or a
// marking definition.
func (im *importer) object(ctx context.Context, o map[string]any) error {
	typ, _ := o["type"].(string)
	id, _ := o["id"].(string)
	if typ == "sighting" {
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

// indicatorFields is an indicator object as the importer reads it, from
// either path.
type indicatorFields struct {
	id, name, description, pattern, patternType string
	confidence                                  int64
	hasConfidence                               bool
	validFrom, validUntil                       time.Time
	labels                                      []string
	killChain                                   []string
	tlp                                         policy.TLP
	revoked                                     bool
	// terms of a simple pattern when simple is set by the fast path.
	terms  []stix.Term
	simple bool
}

// fastFields takes what stix.ReadIndicator read.
func fastFields(fi stix.Indicator) indicatorFields {
	f := indicatorFields{id: fi.ID, name: fi.Name, description: fi.Description, pattern: fi.Pattern, patternType: fi.PatternType,
		confidence: fi.Confidence, hasConfidence: fi.HasConfidence, validFrom: fi.ValidFrom, validUntil: fi.ValidUntil,
		labels: fi.Labels, revoked: fi.Revoked, tlp: "", simple: fi.Simple}
	for _, k := range fi.KillChain {
		f.killChain = append(f.killChain, k.Chain+":"+k.Phase)
	}
	for _, r := range fi.MarkingRefs {
		f.tlp = stricter(f.tlp, policy.TLP(stix.TLPOfMarking(r)))
	}
	if fi.Simple {
		f.terms = []stix.Term{fi.Term}
	}
	return f
}

// mapFields reads an indicator decoded in full.
func (im *importer) mapFields(o map[string]any) (indicatorFields, error) {
	f := indicatorFields{id: str(o, "id"), name: str(o, "name"), description: str(o, "description"), pattern: str(o, "pattern"),
		patternType: str(o, "pattern_type"), tlp: im.tlpOf(o)}
	if c, ok := o["confidence"].(json.Number); ok {
		f.confidence, _ = c.Int64()
		f.hasConfidence = true
	}
	f.validFrom, _ = stix.ParseTime(str(o, "valid_from"))
	if u := str(o, "valid_until"); u != "" {
		f.validUntil, _ = stix.ParseTime(u)
	}
	if labels, ok := o["labels"].([]any); ok {
		for _, l := range labels {
			if s, ok := l.(string); ok {
				f.labels = append(f.labels, s)
			}
		}
	}
	if kc, ok := o["kill_chain_phases"].([]any); ok {
		for _, k := range kc {
			if m, ok := k.(map[string]any); ok {
				f.killChain = append(f.killChain, str(m, "kill_chain_name")+":"+str(m, "phase_name"))
			}
		}
	}
	f.revoked, _ = o["revoked"].(bool)
	return f, nil
}

// prepareIndicator turns an indicator object into the rows it makes (one
// per value of a simple pattern, or the pattern itself), normalised and
// checked; a fault is an objectFault. It only reads the importer.
func (im *importer) prepareIndicator(f indicatorFields) ([]pendingIndicator, error) {
	if f.patternType != "stix" {
		return nil, objectFault{fmt.Sprintf("pattern_type %q: certnet matches STIX patterns only", f.patternType)}
	}
	terms, simple := f.terms, f.simple
	if !simple {
		p, err := stix.ParsePattern(f.pattern)
		if err != nil {
			return nil, objectFault{"pattern: " + err.Error()}
		}
		terms, simple = p.SimpleTerms()
	}
	tlp := f.tlp
	if tlp == "" {
		tlp = im.def
	}
	base := Input{OwnerOrgID: im.owner, Name: f.name, Description: f.description, TLP: tlp, Source: im.source, Ref: f.id,
		ValidFrom: f.validFrom, ValidUntil: f.validUntil, KillChain: f.killChain}
	if f.hasConfidence {
		base.Confidence = int(f.confidence)
		if f.confidence == 0 {
			base.Confidence = 1 // 0 would mean "default"; keep it lowest
		}
	}
	for _, s := range f.labels {
		if strings.HasPrefix(strings.ToLower(s), "rsit:") {
			if _, err := NormaliseRSIT(s); err == nil {
				base.Tags = append(base.Tags, s)
			}
		}
	}
	values := make([]Input, 0, max(1, len(terms)))
	if simple {
		for i, t := range terms {
			k, v, err := FromTerm(t)
			if err != nil {
				return nil, objectFault{fmt.Sprintf("pattern term %s:%s: %v", t.Type, t.Property, err)}
			}
			in := base
			in.Kind, in.Value = k, v
			in.STIXID = f.id
			if i > 0 {
				in.STIXID = "indicator--" + uuidFrom(f.id, string(k), v)
			}
			values = append(values, in)
		}
	} else {
		in := base
		in.Kind, in.Value, in.STIXID = KindSTIX, f.pattern, f.id
		values = append(values, in)
	}
	// Every term must be valid before any is kept: the object is one.
	out := make([]pendingIndicator, 0, len(values))
	for _, in := range values {
		e := errs.Invalid("intel: import indicator")
		ind := validate(in, im.now, e)
		ind.OwnerOrgID = im.owner
		if e.OrNil() != nil {
			return nil, objectFault{fieldMessage(e)}
		}
		p := pendingIndicator{ind: ind, source: im.source, ref: f.id, revoked: f.revoked}
		p.prep()
		out = append(out, p)
	}
	return out, nil
}

// importBatch is how many indicators an import writes per statement.
const importBatch = 1000

type pendingIndicator struct {
	ind     Indicator
	source  string
	ref     string
	revoked bool
	// sightings to record on the indicator's row once it is written.
	sightings []SightingInput
	// the derived columns, made by prep (on a worker when streaming), and
	// the times as SQLite stores them (store.SQLiteTime; "" for none).
	search, tags, killChain string
	fromText, untilText     string
	stixHash                int64
	refKey                  uuid.UUID // stixKey(ref)
	refIsSTIX               bool
	prepped                 bool
}

// prep computes the derived columns of the row.
func (p *pendingIndicator) prep() {
	if p.prepped {
		return
	}
	p.search = searchKey(p.ind.Value, p.ind.Name, p.ind.Description)
	p.tags, p.killChain = strings.Join(p.ind.Tags, "\n"), strings.Join(p.ind.KillChain, "\n")
	p.stixHash = store.StixHash(p.ind.STIXID)
	p.refKey, p.refIsSTIX = stixKey(p.ref)
	p.fromText = store.SQLiteTime(p.ind.ValidFrom)
	if !p.ind.ValidUntil.IsZero() {
		p.untilText = store.SQLiteTime(p.ind.ValidUntil.UTC())
	}
	p.prepped = true
}

// flush writes the pending indicators: the values new to the owner in one
// multi-row INSERT that skips the values it holds already (and their
// sources in another), the ones it held (and repeats inside the batch) one
// by one through upsert, which merges; then the sightings that came with
// them. On SQLite the INSERT is OR IGNORE in a transaction that does not
// enforce foreign keys (store.InBulkTx; runImport checks the parents): no
// row of it can fail the statement, so SQLite keeps no statement journal of
// the pages it changes (a quarter of the time of a large import).
func (im *importer) flush(ctx context.Context) error {
	batch := im.pending
	im.pending = im.pending[:0]
	if len(batch) == 0 {
		return nil
	}
	// In key order (stable: repeats keep their order), the rows go into the
	// unique index's pages (and the value index's) together rather than all
	// over.
	order := make([]int32, len(batch))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(x, y int32) int {
		a, b := &batch[x].ind, &batch[y].ind
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	// A value twice in the batch (adjacent, in key order) goes the slow
	// way the second time, merging into the row the first one makes.
	var fresh, slow []int32
	for _, i := range order {
		if n := len(fresh); n > 0 {
			if a, b := &batch[fresh[n-1]].ind, &batch[i].ind; a.Kind == b.Kind && a.Value == b.Value {
				slow = append(slow, i)
				continue
			}
		}
		fresh = append(fresh, i)
	}
	sqlite := im.tx.Dialect() == store.SQLite
	var b strings.Builder
	b.Grow(100 + 40*len(fresh))
	if sqlite {
		b.WriteString(`INSERT OR IGNORE INTO`)
	} else {
		b.WriteString(`INSERT INTO`)
	}
	b.WriteString(` intel_indicators (owner_org_id, kind, value, pattern, name, description, search, confidence,
			valid_from, valid_until, tlp, tags, kill_chain, stix_id, stix_hash, revoked, created_by, created_at, updated_at) VALUES `)
	args := make([]any, 0, 19*len(fresh))
	// The values every row shares, boxed once; on SQLite the times go as
	// the text the driver would make of them, made once (now) or on the
	// workers (prep).
	owner, createdBy, now := any(im.owner), store.NullID(im.a.UserID), any(im.now)
	if sqlite {
		now = store.SQLiteTime(im.now)
	}
	for n, i := range fresh {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
		p := &batch[i]
		p.prep()
		ind := &p.ind
		from, until := any(ind.ValidFrom), store.NullTime(ind.ValidUntil)
		if sqlite {
			from, until = p.fromText, nil
			if p.untilText != "" {
				until = p.untilText
			}
		}
		args = append(args, owner, string(ind.Kind), ind.Value, ind.Pattern, ind.Name, ind.Description,
			p.search, int64(ind.Confidence), from, until, string(ind.TLP),
			p.tags, p.killChain, ind.STIXID, p.stixHash, p.revoked, createdBy, now, now)
	}
	if !sqlite {
		b.WriteString(" ON CONFLICT (owner_org_id, kind, value) DO NOTHING")
	}
	b.WriteString(" RETURNING id")
	got, err := store.IDs(ctx, im.tx, b.String(), args...)
	if err != nil {
		return storeErr{fmt.Errorf("insert indicators: %w", err)}
	}
	ids, err := im.rowsOf(ctx, batch, fresh, got)
	if err != nil {
		return storeErr{err}
	}
	// The values the owner held already merge through upsert.
	created := 0
	for n, i := range fresh {
		if ids[n] == 0 {
			slow = append(slow, i)
		} else {
			created++
		}
	}
	if created > 0 {
		b.Reset()
		if sqlite {
			b.WriteString(`INSERT OR IGNORE INTO`)
		} else {
			b.WriteString(`INSERT INTO`)
		}
		b.WriteString(` intel_indicator_sources (indicator_id, source, ref, first_seen, last_seen) VALUES `)
		args = args[:0]
		first := true
		for n, i := range fresh {
			if ids[n] == 0 {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString("(?,?,?,?,?)")
			args = append(args, ids[n], batch[i].source, batch[i].ref, now, now)
		}
		if _, err := im.tx.Exec(ctx, b.String(), args...); err != nil {
			return storeErr{fmt.Errorf("indicator sources: %w", err)}
		}
		for n, i := range fresh {
			if ids[n] != 0 {
				if err := im.written(ctx, &batch[i], ids[n], true); err != nil {
					return err
				}
			}
		}
	}
	for _, i := range slow {
		p := &batch[i]
		rowID, _, err := upsert(ctx, im.tx, im.now, im.a, p.ind, p.source, p.ref)
		if err != nil {
			return storeErr{err}
		}
		if p.revoked {
			if _, err := im.tx.Exec(ctx, `UPDATE intel_indicators SET revoked = TRUE WHERE id = ?`, rowID); err != nil {
				return storeErr{err}
			}
		}
		if err := im.written(ctx, p, rowID, false); err != nil {
			return err
		}
	}
	return nil
}

// rowsOf matches the ids an INSERT returned to the rows it was given
// (fresh, in the VALUES order): 0 for a value the owner held already.
// The ids of one statement grow in the order its rows are inserted, the
// order of VALUES, so when every row went in the k-th smallest id is the
// k-th row's; otherwise the rows' values say which went in.
func (im *importer) rowsOf(ctx context.Context, batch []pendingIndicator, fresh []int32, got []int64) ([]int64, error) {
	ids := make([]int64, len(fresh))
	slices.Sort(got)
	if len(got) == len(fresh) {
		copy(ids, got)
		return ids, nil
	}
	if len(got) == 0 {
		return ids, nil
	}
	at := make(map[string]int, len(fresh))
	for n, i := range fresh {
		at[string(batch[i].ind.Kind)+"\x00"+batch[i].ind.Value] = n
	}
	in, args := store.InList(got)
	rows, err := im.tx.Query(ctx, "SELECT id, kind, value FROM intel_indicators WHERE id IN "+in, args...)
	if err != nil {
		return nil, fmt.Errorf("inserted indicators: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return nil, err
		}
		if n, ok := at[k+"\x00"+v]; ok {
			ids[n] = id
		}
	}
	return ids, rows.Err()
}

// stixKey is the key of an indicator's STIX id in alsoRows (its UUID), ok
// false for a reference that is not one (a MISP attribute's).
func stixKey(ref string) (uuid.UUID, bool) {
	u, ok := strings.CutPrefix(ref, "indicator--")
	if !ok {
		return uuid.UUID{}, false
	}
	id, err := uuid.Parse(u)
	return id, err == nil
}

// written notes that p is stored in row id — a row it made (fresh) or
// one it merged into — and records its sightings.
func (im *importer) written(ctx context.Context, p *pendingIndicator, id int64, fresh bool) error {
	p.prep()
	if p.refIsSTIX && (!fresh || p.ind.STIXID != p.ref) {
		im.alsoRows[p.refKey] = append(im.alsoRows[p.refKey], id)
	}
	im.res.Indicators++
	im.kinds[p.ind.Kind]++
	im.tlps[p.ind.TLP]++
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
	// The rows of the indicator: those its id finds (this import's and
	// earlier ones') and those it does not.
	rows, err := store.IDs(ctx, im.tx, `SELECT id FROM intel_indicators WHERE owner_org_id = ? AND stix_hash = ? AND stix_id = ? ORDER BY id`,
		im.owner, store.StixHash(ref), ref)
	if err != nil {
		return storeErr{err}
	}
	if k, ok := stixKey(ref); ok {
		for _, id := range im.alsoRows[k] {
			if !slices.Contains(rows, id) {
				rows = append(rows, id)
			}
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
