package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"certnet/internal/bus"
	"certnet/internal/ingest/decode"
	"certnet/internal/ingest/match"
	"certnet/internal/org"
	"certnet/internal/store"
)

// MatcherLoader builds the in-memory indicator index from the store's
// active indicators as of now, in one streaming read.
type MatcherLoader func(ctx context.Context, q store.Q, now time.Time) (*match.Index, error)

// Pipeline consumes the ingest stream and turns batches into sightings.
type Pipeline struct {
	Svc *Service
	// Load builds the indicator matcher; Workers is how many batches are
	// processed at once; Poll how often the indicators' generation is
	// checked (a rebuild follows a change, and happens at least every
	// Refresh, for indicators that expired).
	Load    MatcherLoader
	Workers int
	Poll    time.Duration
	Refresh time.Duration
	// Consumer is the durable consumer's name; AckWait how long a batch
	// may take before it is delivered again.
	Consumer string
	AckWait  time.Duration

	matcher  atomic.Pointer[matcherState]
	consumer atomic.Pointer[bus.Consumer]
	// orgOf caches each source's organisation (it never changes).
	orgOf sync.Map
	// processed counts batches processed by this node (for tests and
	// metrics).
	processed atomic.Int64
}

type matcherState struct {
	m     *match.Index
	sig   string
	built time.Time
}

// Backlog returns how many batches wait in the stream for the pipeline and
// how many are being processed (delivered, not yet acknowledged); an error
// when the pipeline is not running.
func (p *Pipeline) Backlog(ctx context.Context) (waiting uint64, inFlight int, err error) {
	c := p.consumer.Load()
	if c == nil {
		return 0, 0, errors.New("ingest: pipeline not running")
	}
	return c.Pending(ctx)
}

// Indicators returns how many indicators the current matcher holds (-1
// before the first build).
func (p *Pipeline) Indicators() int {
	ms := p.matcher.Load()
	if ms == nil {
		return -1
	}
	return ms.m.Len()
}

// Processed returns how many batches this pipeline counted.
func (p *Pipeline) Processed() int64 { return p.processed.Load() }

// Run consumes until ctx ends. It returns an error only when it cannot
// start (no bus, no consumer); the first matcher build is retried.
func (p *Pipeline) Run(ctx context.Context) error {
	s := p.Svc
	if s.Bus == nil {
		return errors.New("ingest: pipeline without a bus")
	}
	if p.Load == nil {
		p.Load = match.Load
	}
	if p.Workers <= 0 {
		p.Workers = 2
	}
	if p.Poll <= 0 {
		p.Poll = 5 * time.Second
	}
	if p.Refresh <= 0 {
		p.Refresh = 10 * time.Minute
	}
	if p.Consumer == "" {
		p.Consumer = "pipeline"
	}
	if p.AckWait <= 0 {
		p.AckWait = 2 * time.Minute
	}
	c, err := s.Bus.Consumer(ctx, p.Consumer, s.Bus.Filter(), p.AckWait)
	if err != nil {
		return err
	}
	p.consumer.Store(c)
	// The first matcher: retried (the store may be briefly unreachable at
	// start) rather than leaving the node without a pipeline.
	for delay := time.Second; ; delay = min(2*delay, time.Minute) {
		err := p.reload(ctx, true)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.Log.Warn("ingest: indicator matcher not built; retrying", "err", err, "in", delay)
		sleep(ctx, delay)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(p.Poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := p.reload(ctx, false); err != nil && ctx.Err() == nil {
					s.Log.Warn("ingest: indicator matcher rebuild failed; keeping the current one", "err", err)
				}
			}
		}
	}()
	for i := 0; i < p.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(ctx, c)
		}()
	}
	wg.Wait()
	return nil
}

// signature is a cheap summary of the indicator table that changes when
// an indicator is added, changed or removed.
func signature(ctx context.Context, q store.Q) (string, error) {
	var n int64
	var maxUpd, maxID any
	if err := q.QueryRow(ctx, "SELECT COUNT(*), MAX(updated_at), MAX(id) FROM intel_indicators").Scan(&n, &maxUpd, &maxID); err != nil {
		return "", err
	}
	return fmt.Sprint(n, "|", maxUpd, "|", maxID), nil
}

// reload brings the matcher up to date when the indicators changed: it
// patches the current one with what changed since it was built
// (match.Refresh, milliseconds), and builds it whole only when forced or
// when the whole build is older than Refresh (9M indicators take about
// 20 s and twice the memory while both exist).
func (p *Pipeline) reload(ctx context.Context, force bool) error {
	s := p.Svc
	sig, err := signature(ctx, s.DB)
	if err != nil {
		return fmt.Errorf("ingest: indicator generation: %w", err)
	}
	now := s.now()
	cur := p.matcher.Load()
	if !force && cur != nil && cur.sig == sig && now.Sub(cur.built) < p.Refresh {
		return nil
	}
	start := time.Now()
	var m *match.Index
	built := now
	if !force && cur != nil && now.Sub(cur.built) < p.Refresh {
		m, err = match.Refresh(ctx, s.DB, cur.m, now)
		built = cur.built // the next whole build stays due at the same time
	} else {
		m, err = p.Load(ctx, s.DB, now)
	}
	if err != nil {
		return fmt.Errorf("ingest: load indicators: %w", err)
	}
	p.matcher.Store(&matcherState{m: m, sig: sig, built: built})
	s.Log.Debug("ingest: indicator matcher built", "indicators", m.Len(), "took", time.Since(start))
	return nil
}

// Reload rebuilds the matcher now (after a bulk indicator import, say).
func (p *Pipeline) Reload(ctx context.Context) error { return p.reload(ctx, true) }

func (p *Pipeline) work(ctx context.Context, c *bus.Consumer) {
	s := p.Svc
	var w worker
	for ctx.Err() == nil {
		msgs, err := c.Fetch(ctx, 4, time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.Log.Warn("ingest: fetch failed", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		for _, m := range msgs {
			if err := p.process(ctx, &w, m); err != nil {
				if ctx.Err() != nil {
					return
				}
				var poison *poisonError
				if errors.As(err, &poison) {
					s.Log.Error("ingest: batch cannot be processed; dropped", "seq", m.Seq, "err", err)
					m.Term(err.Error())
					continue
				}
				s.Log.Warn("ingest: batch processing failed; it will be delivered again", "seq", m.Seq, "err", err)
				m.Nak(5 * time.Second)
				continue
			}
			if err := m.Ack(ctx); err != nil && ctx.Err() == nil {
				// Processed and recorded: a redelivery counts nothing.
				s.Log.Warn("ingest: ack failed", "seq", m.Seq, "err", err)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// poisonError is a message that no retry can process.
type poisonError struct{ err error }

func (e *poisonError) Error() string { return e.err.Error() }

// worker holds one worker's reusable buffers.
type worker struct {
	events []decode.Event
	hits   []match.Hit
	ids    []int64
	orgs   []int64
	agg    map[aggKey]*aggVal
	act    activity
}

type aggKey struct {
	indicator, org int64
	hour           int64 // unix seconds of the hour
}

type aggVal struct {
	count       int64
	first, last time.Time
}

// SightingID is the deterministic STIX id of the sighting of an indicator
// in an organisation during an hour (UTC).
func SightingID(indicator, orgID int64, hour time.Time) string {
	name := strconv.FormatInt(indicator, 10) + "|" + strconv.FormatInt(orgID, 10) + "|" + hour.UTC().Truncate(time.Hour).Format(time.RFC3339)
	return "sighting--" + uuid.NewSHA1(sightingNS, []byte(name)).String()
}

// sightingNS is the UUID v5 namespace of ingest sightings.
var sightingNS = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://certnet/ingest/sighting"))

// eventTime is when an event counts: its own time, unless it is missing or
// implausible (more than an hour ahead of its arrival, or before 2000).
func eventTime(e *decode.Event, arrived time.Time) time.Time {
	t := e.Time
	if t.IsZero() || t.After(arrived.Add(time.Hour)) || t.Year() < 2000 {
		return arrived
	}
	return t.UTC()
}

// sourceOrg returns a source's organisation (cached).
func (p *Pipeline) sourceOrg(ctx context.Context, id int64) (int64, error) {
	if v, ok := p.orgOf.Load(id); ok {
		return v.(int64), nil
	}
	var org int64
	err := p.Svc.DB.QueryRow(ctx, "SELECT org_id FROM ingest_sources WHERE id = ?", id).Scan(&org)
	if err != nil {
		return 0, err
	}
	p.orgOf.Store(id, org)
	return org, nil
}

// route appends the organisations an event concerns: the owners of its
// addresses in the constituency, or else the source's own organisation.
func route(x *org.Index, e *decode.Event, srcOrg int64, dst []int64) []int64 {
	add := func(a netip.Addr) {
		if !a.IsValid() {
			return
		}
		if id, _, ok := x.Lookup(a); ok {
			for _, o := range dst {
				if o == id {
					return
				}
			}
			dst = append(dst, id)
		}
	}
	add(e.Src)
	add(e.Dst)
	for _, a := range e.IPs {
		add(a)
	}
	if len(dst) == 0 {
		dst = append(dst, srcOrg)
	}
	return dst
}

// process counts one batch: match, route, aggregate, store in one
// transaction that also marks the batch processed (a batch already marked
// is skipped), so a redelivery counts nothing twice.
func (p *Pipeline) process(ctx context.Context, w *worker, m *bus.Msg) error {
	s := p.Svc
	sourceID, key, err := keyOf(m)
	if err != nil {
		return &poisonError{err}
	}
	w.events, err = decodeEvents(m.Data, w.events[:0])
	if err != nil {
		return &poisonError{fmt.Errorf("ingest: batch %d: %w", m.Seq, err)}
	}
	srcOrg, err := p.sourceOrg(ctx, sourceID)
	if store.IsNoRows(err) {
		return &poisonError{fmt.Errorf("ingest: batch %d: source %d is gone", m.Seq, sourceID)}
	}
	if err != nil {
		return err
	}
	ms := p.matcher.Load()
	x, err := s.Orgs.WhoisIndex(ctx)
	if err != nil {
		return err
	}
	if w.agg == nil {
		w.agg = map[aggKey]*aggVal{}
	}
	clear(w.agg)
	w.act.reset()
	arrived := m.Time.UTC()
	if arrived.IsZero() {
		arrived = s.now()
	}
	var matches int64
	for i := range w.events {
		e := &w.events[i]
		if e.SignatureID != 0 || len(e.CVEs) > 0 {
			w.act.signal(e, eventTime(e, arrived), max(int64(e.Count), 1), srcOrg)
		}
		w.hits = ms.m.Match(e, w.hits[:0])
		if len(w.hits) == 0 {
			continue
		}
		// An indicator counts once per event, whichever fields it hit.
		w.ids = w.ids[:0]
	hits:
		for _, h := range w.hits {
			for _, id := range w.ids {
				if id == h.IndicatorID {
					continue hits
				}
			}
			w.ids = append(w.ids, h.IndicatorID)
		}
		n := int64(e.Count)
		if n < 1 {
			n = 1
		}
		matches += int64(len(w.ids))
		t := eventTime(e, arrived)
		hour := t.Truncate(time.Hour).Unix()
		w.orgs = route(x, e, srcOrg, w.orgs[:0])
		w.act.matched(n, w.orgs)
		for _, ind := range w.ids {
			for _, o := range w.orgs {
				k := aggKey{indicator: ind, org: o, hour: hour}
				v := w.agg[k]
				if v == nil {
					w.agg[k] = &aggVal{count: n, first: t, last: t}
					continue
				}
				v.count += n
				if t.Before(v.first) {
					v.first = t
				}
				if t.After(v.last) {
					v.last = t
				}
			}
		}
	}
	now := s.now()
	done := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO ingest_batches (source_id, idem_key, stream_seq, processed_at, matches) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (source_id, idem_key) DO UPDATE SET processed_at = excluded.processed_at, matches = excluded.matches
			WHERE ingest_batches.processed_at IS NULL
			RETURNING id`, sourceID, key, int64(m.Seq), now, matches).Scan(&id)
		if store.IsNoRows(err) {
			done = true // counted already
			return nil
		}
		if err != nil {
			return err
		}
		if len(w.agg) > 0 {
			if err := p.storeSightings(ctx, tx, w.agg, now); err != nil {
				return err
			}
		}
		if err := w.act.store(ctx, tx, sourceID, arrived, int64(len(w.events)), matches); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE ingest_sources SET processed_batches = processed_batches + 1, processed_events = processed_events + ?,
			matches = matches + ?, last_processed_at = ? WHERE id = ?`, len(w.events), matches, now, sourceID)
		return err
	})
	if err != nil {
		return err
	}
	if !done {
		p.processed.Add(1)
	}
	return nil
}

// storeSightings upserts the aggregated sightings of indicators that still
// exist (one may have been deleted since the matcher was built).
func (p *Pipeline) storeSightings(ctx context.Context, tx *store.Tx, agg map[aggKey]*aggVal, now time.Time) error {
	ids := make([]int64, 0, len(agg))
	seen := map[int64]bool{}
	for k := range agg {
		if !seen[k.indicator] {
			seen[k.indicator] = true
			ids = append(ids, k.indicator)
		}
	}
	alive := map[int64]bool{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		in, args := store.InList(chunk)
		got, err := store.IDs(ctx, tx, "SELECT id FROM intel_indicators WHERE id IN "+in, args...)
		if err != nil {
			return err
		}
		for _, id := range got {
			alive[id] = true
		}
	}
	for k, v := range agg {
		if !alive[k.indicator] {
			continue
		}
		hour := time.Unix(k.hour, 0).UTC()
		_, err := tx.Exec(ctx, `INSERT INTO intel_sightings (indicator_id, stix_id, first_seen, last_seen, count, source, org_id, created_at)
			VALUES (?, ?, ?, ?, ?, 'ingest', ?, ?)
			ON CONFLICT (indicator_id, stix_id) DO UPDATE SET count = intel_sightings.count + excluded.count,
				first_seen = CASE WHEN excluded.first_seen < intel_sightings.first_seen THEN excluded.first_seen ELSE intel_sightings.first_seen END,
				last_seen = CASE WHEN excluded.last_seen > intel_sightings.last_seen THEN excluded.last_seen ELSE intel_sightings.last_seen END`,
			k.indicator, SightingID(k.indicator, k.org, hour), v.first, v.last, v.count, k.org, now)
		if err != nil {
			return fmt.Errorf("ingest: sighting: %w", err)
		}
	}
	return nil
}

// Prune forgets the batches (their idempotency keys and answers) received
// before t: the stream no longer holds them either (retention window).
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.DB.Exec(ctx, "DELETE FROM ingest_batches WHERE received_at < ? AND processed_at IS NOT NULL", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("ingest: prune batches: %w", err)
	}
	return res.RowsAffected()
}
