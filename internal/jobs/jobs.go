// Package jobs runs certnet's background jobs: periodic sweeps (escalating
// unacknowledged orders, reminders, the notification dispatcher) that must
// run on exactly one node at a time when several share the database. Each
// job holds a lease row in job_leases while it runs; a node that dies
// leaves a lease that expires. Jobs must be idempotent and decide from the
// database what is still to do (the state a sweep changes is its own
// record that it ran), because a lease can expire under a slow run.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"certnet/internal/store"
)

// Func is one run of a job.
type Func func(ctx context.Context) error

type job struct {
	name  string
	every time.Duration
	fn    Func
	kick  chan struct{}
}

// Runner runs the registered jobs.
type Runner struct {
	DB  *store.DB
	Log *slog.Logger
	// Now is the clock of the leases (time.Now when nil). The ticks use
	// real time.
	Now func() time.Time
	// Lease is how long a run may hold its job (default 2 minutes).
	Lease time.Duration

	holder string
	mu     sync.Mutex
	jobs   map[string]*job
}

// New returns a runner.
func New(db *store.DB, now func() time.Time, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := make([]byte, 8)
	rand.Read(b)
	return &Runner{DB: db, Log: log, Now: now, holder: hex.EncodeToString(b), jobs: map[string]*job{}}
}

// Every registers a job run every period (and when kicked). It panics on a
// duplicate name, at start-up.
func (r *Runner) Every(name string, period time.Duration, fn Func) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.jobs[name]; dup {
		panic("jobs: registered twice: " + name)
	}
	r.jobs[name] = &job{name: name, every: period, fn: fn, kick: make(chan struct{}, 1)}
}

// Kick asks for a run of the job soon (after a commit that gave it work),
// without waiting for its period. Unknown names are ignored.
func (r *Runner) Kick(name string) {
	r.mu.Lock()
	j := r.jobs[name]
	r.mu.Unlock()
	if j == nil {
		return
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

func (r *Runner) lease() time.Duration {
	if r.Lease <= 0 {
		return 2 * time.Minute
	}
	return r.Lease
}

// Run runs every job on its period until ctx is cancelled.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	var wg sync.WaitGroup
	for _, j := range r.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, j)
		}()
	}
	r.mu.Unlock()
	wg.Wait()
}

func (r *Runner) loop(ctx context.Context, j *job) {
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		if _, err := r.RunNow(ctx, j.name); err != nil && ctx.Err() == nil {
			r.Log.Warn("job failed", "job", j.name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-j.kick:
		}
	}
}

// RunNow runs the job once if this node can take its lease; ran says
// whether it did. Tests call it to run a sweep at a chosen clock.
func (r *Runner) RunNow(ctx context.Context, name string) (ran bool, err error) {
	r.mu.Lock()
	j := r.jobs[name]
	r.mu.Unlock()
	if j == nil {
		return false, fmt.Errorf("jobs: unknown job %q", name)
	}
	ok, err := r.acquire(ctx, name)
	if err != nil || !ok {
		return false, err
	}
	runErr := safeRun(ctx, j.fn)
	if err := r.release(ctx, name, runErr); err != nil && runErr == nil {
		runErr = err
	}
	return true, runErr
}

func safeRun(ctx context.Context, fn Func) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: panic: %v", p)
		}
	}()
	return fn(ctx)
}

func (r *Runner) acquire(ctx context.Context, name string) (bool, error) {
	now := r.now()
	until := now.Add(r.lease())
	res, err := r.DB.Exec(ctx, `INSERT INTO job_leases (name, holder, lease_until, last_run_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until, last_run_at = excluded.last_run_at
		WHERE job_leases.lease_until <= ? OR job_leases.holder = excluded.holder`,
		name, r.holder, until, now, now)
	if err != nil {
		return false, fmt.Errorf("jobs: lease %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (r *Runner) release(ctx context.Context, name string, runErr error) error {
	now := r.now()
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
	}
	q := `UPDATE job_leases SET lease_until = ?, last_error = ?, last_ok_at = CASE WHEN ? = '' THEN ? ELSE last_ok_at END WHERE name = ? AND holder = ?`
	_, err := r.DB.Exec(context.WithoutCancel(ctx), q, now, msg, msg, now, name, r.holder)
	return err
}

// Status is a job's last run, for the operations page.
type Status struct {
	Name      string
	LastRun   time.Time
	LastOK    time.Time
	LastError string
}

// Statuses lists the jobs' last runs.
func (r *Runner) Statuses(ctx context.Context) ([]Status, error) {
	rows, err := r.DB.Query(ctx, `SELECT name, last_run_at, last_ok_at, last_error FROM job_leases ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		var s Status
		var run, ok sql.NullTime
		if err := rows.Scan(&s.Name, &run, &ok, &s.LastError); err != nil {
			return nil, err
		}
		s.LastRun, s.LastOK = store.TimeOf(run), store.TimeOf(ok)
		out = append(out, s)
	}
	return out, rows.Err()
}
