// Package forward is `certnet forward`, the program a SOC runs beside its
// sensors: it follows Suricata eve.json and Wazuh alerts.json like tail -F
// (appends, rotation, truncation), cuts the lines into batches kept on disk
// (gzipped NDJSON) and sends them in order to certnet's POST
// /ingest/v1/events, retrying with backoff until they are acknowledged.
//
// Nothing is lost and nothing is counted twice across crashes: a batch is
// durable in the spool, under a number that is also its Idempotency-Key,
// before the input's offset moves past its lines; the offset is saved
// (fsync, atomic rename) in the same step that commits the batch number; a
// batch is deleted only once the server has acknowledged it, and a batch
// sent again after a crash carries the same key, so the server answers it
// from its memory and counts nothing twice.
package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"certnet/internal/ingest/decode"
)

// Input is one file to follow and the format of its lines ("" lets the
// server detect it).
type Input struct {
	Format string
	Path   string
}

// ParseInput reads an --input value: FORMAT:PATH (suricata, wazuh, generic
// or stix, and the aliases the server knows) or a bare PATH.
func ParseInput(s string) (Input, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Input{}, errors.New("empty input: give FORMAT:PATH, e.g. suricata:/var/log/suricata/eve.json")
	}
	in := Input{Path: s}
	if name, path, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(name, `/\.`) && len(name) > 1 {
		f, known := decode.ParseFormat(name)
		if !known {
			return Input{}, fmt.Errorf("input %q: unknown format %q (use suricata, wazuh, generic or stix)", s, name)
		}
		in = Input{Format: string(f), Path: path}
	}
	if in.Path == "" {
		return Input{}, fmt.Errorf("input %q names no file", s)
	}
	abs, err := filepath.Abs(in.Path)
	if err != nil {
		return Input{}, fmt.Errorf("input %q: %w", s, err)
	}
	in.Path = abs
	return in, nil
}

// Config is how a forwarder runs. URL, Token, State and Inputs are
// required; the rest have defaults.
type Config struct {
	URL    string // certnet's base URL (https://hub/) or the full endpoint
	Token  string // the source token certnet gave for this SOC
	State  string // the state folder: positions, spool, rejected batches
	Inputs []Input

	BatchLines  int           // lines per batch (5000)
	BatchBytes  int64         // uncompressed bytes per batch (16 MiB)
	Flush       time.Duration // the longest a line waits for its batch to fill (2s)
	MaxBuffer   int64         // spool size past which inputs stop being read (1 GiB)
	Poll        time.Duration // how often a quiet file is looked at (250ms)
	StatusEvery time.Duration // the status line's period (1 minute)
	FromEnd     bool          // a file never seen before starts at its end, not its start
	RetryMin    time.Duration // first backoff (500ms)
	RetryMax    time.Duration // longest backoff (2 minutes)
	UserAgent   string

	Client *http.Client // default: 60s timeout
	Log    *slog.Logger
	Now    func() time.Time

	// Test hooks: crash reports true at a point to stop the forwarder on the
	// spot, as a kill would (no flush, no cleanup); sleep replaces the
	// backoff wait.
	crash func(point string) bool
	sleep func(ctx context.Context, d time.Duration) error
}

func (c *Config) defaults() error {
	if c.URL == "" {
		return errors.New("forward: the certnet URL is required (--url)")
	}
	if c.Token == "" {
		return errors.New("forward: the source token is required (--token-file)")
	}
	if c.State == "" {
		return errors.New("forward: the state folder is required (--state)")
	}
	if len(c.Inputs) == 0 {
		return errors.New("forward: give at least one --input FORMAT:PATH")
	}
	seen := map[string]bool{}
	for _, in := range c.Inputs {
		if seen[in.Path] {
			return fmt.Errorf("forward: %s is given twice", in.Path)
		}
		seen[in.Path] = true
	}
	if c.BatchLines <= 0 {
		c.BatchLines = 5000
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 16 << 20
	}
	if c.BatchBytes < 2*decode.MaxLine {
		c.BatchBytes = 2 * decode.MaxLine
	}
	if c.Flush <= 0 {
		c.Flush = 2 * time.Second
	}
	if c.MaxBuffer <= 0 {
		c.MaxBuffer = 1 << 30
	}
	if c.Poll <= 0 {
		c.Poll = 250 * time.Millisecond
	}
	if c.StatusEvery <= 0 {
		c.StatusEvery = time.Minute
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 500 * time.Millisecond
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(2*time.Minute, c.RetryMin)
	}
	if c.UserAgent == "" {
		c.UserAgent = "certnet-forward"
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return nil
}

// Endpoint is the ingest URL for a base URL: the base with
// ingest/v1/events, unless it already ends so.
func Endpoint(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("forward: --url %q is not an http(s) URL", base)
	}
	if strings.HasSuffix(u.Path, "/ingest/v1/events") {
		return u.String(), nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ingest/v1/events"
	return u.String(), nil
}

// Stats are the forwarder's counters since it started.
type Stats struct {
	Lines           int64 // lines read from the inputs
	Skipped         int64 // lines longer than the server takes, left out
	BatchesSpooled  int64
	BatchesSent     int64
	BatchesRejected int64 // kept in rejected/
	Accepted        int64 // events the server accepted
	Refused         int64 // lines the server refused (its per-line errors)
	Retries         int64
	Queued          int   // batches in the spool
	SpoolBytes      int64 // their size
	Lag             time.Duration
	Paused          bool // inputs wait for room in the spool
}

// Forwarder follows its inputs and sends their lines. Make one with New,
// then Run it.
type Forwarder struct {
	cfg      Config
	endpoint string
	log      *slog.Logger

	mu         sync.Mutex
	st         state
	queue      []spooled
	spoolBytes int64
	room       chan struct{} // closed when the spool shrinks
	wake       chan struct{} // a batch joined the queue

	lines, skipped, spooledN, sent, rejected, accepted, refused, retries atomic.Int64
	paused                                                               atomic.Int32
	crashed                                                              atomic.Bool
}

var errCrash = errors.New("forward: simulated crash")

// New checks the configuration; the state folder is opened by Run.
func New(cfg Config) (*Forwarder, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ep, err := Endpoint(cfg.URL)
	if err != nil {
		return nil, err
	}
	return &Forwarder{cfg: cfg, endpoint: ep, log: cfg.Log.With("component", "forward"),
		room: make(chan struct{}), wake: make(chan struct{}, 1)}, nil
}

// crash is the test hook: true stops everything as a kill would.
func (f *Forwarder) crash(point string) bool {
	if f.crashed.Load() {
		return true
	}
	if f.cfg.crash != nil && f.cfg.crash(point) {
		f.crashed.Store(true)
		return true
	}
	return false
}

// Stats returns the counters.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	s := Stats{Queued: len(f.queue), SpoolBytes: f.spoolBytes}
	if len(f.queue) > 0 {
		s.Lag = f.cfg.Now().Sub(f.queue[0].At)
	}
	f.mu.Unlock()
	s.Lines, s.Skipped, s.BatchesSpooled = f.lines.Load(), f.skipped.Load(), f.spooledN.Load()
	s.BatchesSent, s.BatchesRejected = f.sent.Load(), f.rejected.Load()
	s.Accepted, s.Refused, s.Retries = f.accepted.Load(), f.refused.Load(), f.retries.Load()
	s.Paused = f.paused.Load() > 0
	return s
}

// Run forwards until ctx ends, then puts the batch being filled into the
// spool and returns nil. An error is returned only when the forwarder
// cannot go on (state folder unusable).
func (f *Forwarder) Run(ctx context.Context) error {
	dir := f.cfg.State
	for _, d := range []string{dir, filepath.Join(dir, spoolDir), filepath.Join(dir, rejectedDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("forward: state folder: %w", err)
		}
	}
	unlock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		if errors.Is(err, errLocked) {
			return fmt.Errorf("%w (%s)", errLocked, dir)
		}
		return fmt.Errorf("forward: lock %s: %w", dir, err)
	}
	defer unlock()
	st, err := loadState(dir)
	if err != nil {
		return err
	}
	removeStaleTemp(dir)
	q, removed, err := scanSpool(filepath.Join(dir, spoolDir), st.NextSeq)
	if err != nil {
		return fmt.Errorf("forward: spool: %w", err)
	}
	for _, name := range removed {
		f.log.Info("forward: removed a batch never committed; its lines are read again", "file", name)
	}
	var size int64
	for _, b := range q {
		size += b.Size
	}
	f.mu.Lock()
	f.st, f.queue, f.spoolBytes = st, q, size
	f.mu.Unlock()
	f.log.Info("forward: started", "url", f.endpoint, "state", dir, "inputs", len(f.cfg.Inputs),
		"queued_batches", len(q), "spool_bytes", size, "instance", st.Instance)

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(f.cfg.Inputs)+2)
	for _, in := range f.cfg.Inputs {
		t := newTailer(f, in)
		pos, ok := st.Inputs[in.Path]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.run(rctx, pos, ok); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	// The sender runs on its own context: on a clean stop it is cancelled
	// after the inputs have flushed (nothing is waiting on it then).
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		if err := f.sendLoop(sctx); err != nil {
			errc <- err
			cancel()
		}
	}()
	go func() {
		<-rctx.Done()
		if f.crashed.Load() {
			scancel()
		}
	}()
	tick := time.NewTicker(f.cfg.StatusEvery)
	defer tick.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
loop:
	for {
		select {
		case <-tick.C:
			f.status()
		case <-done:
			break loop
		}
	}
	scancel()
	<-sdone
	close(errc)
	var first error
	for err := range errc {
		if first == nil && !errors.Is(err, errCrash) {
			first = err
		}
	}
	if f.crashed.Load() {
		return errCrash
	}
	f.status()
	f.log.Info("forward: stopped")
	return first
}

func (f *Forwarder) status() {
	s := f.Stats()
	f.log.Info("forward: status", "read", s.Lines, "batches_sent", s.BatchesSent, "queued", s.Queued,
		"spool_bytes", s.SpoolBytes, "lag", s.Lag.Round(time.Second), "accepted", s.Accepted,
		"refused_lines", s.Refused, "rejected_batches", s.BatchesRejected, "retries", s.Retries, "paused", s.Paused)
}

// full reports whether the spool has reached --max-buffer, and the channel
// closed when it shrinks.
func (f *Forwarder) full() (bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.spoolBytes >= f.cfg.MaxBuffer, f.room
}

// commit makes a written batch part of the spool: the temporary file is
// renamed to its numbered name, then forward.json records the next number
// and the input's position past the batch's lines, then the sender is told.
func (f *Forwarder) commit(tmp, format, path string, pos position, lines int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := f.st.NextSeq
	name := spoolName(seq, format)
	dir := filepath.Join(f.cfg.State, spoolDir)
	fi, err := os.Stat(tmp)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if f.crash("spooled") {
		return errCrash
	}
	next := f.st.clone()
	next.NextSeq = seq + 1
	pos.Format = format
	next.Inputs[path] = pos
	if err := saveState(f.cfg.State, next); err != nil {
		// The batch stays numbered past the commit point; take it back so
		// the lines are read again rather than sent twice.
		os.Remove(filepath.Join(dir, name))
		return err
	}
	f.st = next
	if f.crash("saved") {
		return errCrash
	}
	f.queue = append(f.queue, spooled{Seq: seq, Format: format, Name: name, Size: fi.Size(), Lines: lines, At: f.cfg.Now()})
	f.spoolBytes += fi.Size()
	f.spooledN.Add(1)
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return nil
}

// savePosition records an input's position when it moved without a batch
// (a rotated file finished with no line left to send).
func (f *Forwarder) savePosition(path, format string, pos position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	pos.Format = format
	if old, ok := f.st.Inputs[path]; ok && old == pos {
		return nil
	}
	next := f.st.clone()
	next.Inputs[path] = pos
	if err := saveState(f.cfg.State, next); err != nil {
		return err
	}
	f.st = next
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
