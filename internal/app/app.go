// Package app is certnet's composition root: it turns a Config into an open
// store, the services, and the HTTP servers, and stops them cleanly.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"certnet/internal/api"
	"certnet/internal/audit"
	"certnet/internal/auth"
	"certnet/internal/bus"
	"certnet/internal/campaign"
	"certnet/internal/config"
	"certnet/internal/coord"
	"certnet/internal/exercise"
	"certnet/internal/federation"
	"certnet/internal/incident"
	"certnet/internal/infosys"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/jobs"
	"certnet/internal/notify"
	"certnet/internal/obs"
	"certnet/internal/org"
	"certnet/internal/readiness"
	"certnet/internal/secretbox"
	"certnet/internal/store"
	"certnet/internal/taxii"
	"certnet/internal/warning"
	"certnet/internal/web"
)

// Version is set at build time with -ldflags "-X certnet/internal/app.Version=…".
var Version = ""

// BuildVersion returns the version, falling back to the module's build info.
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// App holds the open store and the services.
type App struct {
	Cfg   config.Config
	Log   *slog.Logger
	DB    *store.DB
	Orgs  *org.Service
	Auth  *auth.Service
	Audit *audit.Service
	// Incidents is the incident service (issue 3's first slice).
	Incidents *incident.Service
	// Readiness: response teams, people, rota, SIM3 (issue 7).
	Readiness *readiness.Service
	// Infosys: information systems and their security levels (issue 6).
	Infosys *infosys.Service
	// Jobs runs the background jobs (escalations, reminders, the
	// notification dispatcher); started by Serve.
	Jobs *jobs.Runner
	// Notify is the notification service (outbox dispatcher, sender,
	// inbox, preferences, webhooks).
	Notify *notify.Service
	// Evidence is the evidence file service (files in <data>/evidence);
	// Public the public report page's service.
	Evidence *incident.Evidences
	Public   *incident.PublicReports
	Metrics  *obs.Metrics
	Now      func() time.Time
	// Intel: indicators, STIX and MISP (issue 4).
	Intel *intel.Service
	// Coord: coordination orders, support requests, effort and costs.
	Coord *coord.Service
	// Campaign: malware-cleanup campaigns (issue 5, item 5).
	Campaign *campaign.Service
	// Exercise: drills run on certnet, measured (issue 7).
	Exercise *exercise.Service
	// Ingest: SOC sources and event batches (issue 5); Bus is JetStream,
	// opened by Serve (or OpenBus), and Pipeline its consumers.
	Ingest   *ingest.Service
	Bus      *bus.Bus
	Pipeline *ingest.Pipeline
	// Federation: this instance's parent over TAXII 2.1 (issue 4, item 5).
	Federation *federation.Service
	// Warning: the early warning and the 24/7 view (issue 5).
	Warning *warning.Service
}

// NewLogger builds the process logger from the config.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open opens the store, applies migrations and builds the services.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, cfg.Data, cfg.DB)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, err
	}
	a := build(cfg, log, db, time.Now)
	if err := a.openSecrets(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// openSecrets loads the key that seals the credentials certnet keeps
// (federation peers' secrets) from the data folder — made on first start
// — and seals those an earlier version kept in clear.
func (a *App) openSecrets(ctx context.Context) error {
	box, err := secretbox.Open(a.Cfg.SealingKeyFile())
	if err != nil {
		return err
	}
	a.Federation.Secrets = box
	return a.Federation.SealStored(ctx)
}

func build(cfg config.Config, log *slog.Logger, db *store.DB, now func() time.Time) *App {
	a := &App{Cfg: cfg, Log: log, DB: db, Now: now, Metrics: obs.NewMetrics()}
	a.Orgs = org.NewService(db, now, log.With("component", "org"))
	a.Auth = auth.NewService(db, a.Orgs, now, log.With("component", "auth"))
	a.Auth.SessionTTL = cfg.SessionTTL
	a.Auth.IdleTimeout = cfg.IdleTimeout
	a.Audit = &audit.Service{DB: db, OrgLabel: a.Orgs.Label}
	a.Incidents = incident.NewService(db, a.Orgs, now, log.With("component", "incident"))
	a.Evidence = incident.NewEvidences(a.Incidents, incident.NewEvidenceStore(cfg.Data, cfg.MaxEvidence))
	a.Public = incident.NewPublicReports(a.Incidents)
	a.Intel = intel.NewService(db, now, log.With("component", "intel"))
	a.Intel.Whois = a.Orgs.WhoisIndex
	if cfg.PublicPerAddress > 0 {
		a.Public.PerAddress = cfg.PublicPerAddress
	}
	if cfg.PublicPerHour > 0 {
		a.Public.Global = cfg.PublicPerHour
	}
	a.Jobs = jobs.New(db, now, log.With("component", "jobs"))
	// Evidence files a crash or a failed transaction left without a row.
	a.Jobs.Every(incident.JobEvidenceSweep, 6*time.Hour, func(ctx context.Context) error {
		_, err := a.Evidence.Sweep(ctx, time.Hour)
		return err
	})
	a.Notify = newNotify(cfg, db, a.Orgs, now, log.With("component", "notify"), a.Jobs, a.Metrics)
	a.Readiness = readiness.NewService(db, now, log.With("component", "readiness"))
	a.Jobs.Every(readiness.JobReminders, time.Hour, func(ctx context.Context) error {
		_, err := a.Readiness.Remind(ctx)
		return err
	})
	// Information systems: reminders of assessments, scans, hunts and drills due.
	a.Infosys = infosys.NewService(db, now, log.With("component", "infosys"))
	a.Jobs.Every(infosys.JobReminders, time.Hour, func(ctx context.Context) error {
		_, err := a.Infosys.Remind(ctx)
		return err
	})
	// Information systems: the day's KPI snapshot behind the trend charts.
	a.Jobs.Every(infosys.JobSnapshot, time.Hour, func(ctx context.Context) error {
		_, err := a.Infosys.Snapshot(ctx)
		return err
	})
	// Advisories: reminders and escalations of recipients that have not
	// acknowledged or reported in time.
	a.Jobs.Every(intel.JobAdvisoryEscalate, time.Minute, func(ctx context.Context) error {
		_, err := a.Intel.EscalateAdvisories(ctx)
		return err
	})
	a.Ingest = ingest.NewService(db, nil, a.Orgs, now, log.With("component", "ingest"))
	a.Ingest.MaxBatch = cfg.IngestMaxBatch
	a.Pipeline = &ingest.Pipeline{Svc: a.Ingest, Workers: cfg.IngestWorkers}
	// Batch records (idempotency keys) live as long as the stream keeps
	// the batches: the retention window of raw events.
	a.Jobs.Every(ingest.JobPrune, time.Hour, func(ctx context.Context) error {
		_, err := a.Ingest.Prune(ctx, now().Add(-cfg.IngestRetention))
		return err
	})
	// Early warning: thresholds evaluated every minute on the pipeline's
	// counters; the per-minute counters kept 2 days, the hourly 9 (the
	// baselines need the previous 7 days).
	a.Warning = warning.NewService(db, a.Orgs, a.Intel, a.Incidents, a.Ingest, now, log.With("component", "warning"))
	a.Jobs.Every(warning.JobEvaluate, time.Minute, func(ctx context.Context) error {
		_, err := a.Warning.Evaluate(ctx)
		return err
	})
	a.Jobs.Every(warning.JobPrune, time.Hour, func(ctx context.Context) error {
		_, err := a.Ingest.PruneActivity(ctx, now().Add(-48*time.Hour), now().Add(-9*24*time.Hour))
		return err
	})
	a.Coord = coord.NewService(db, a.Incidents, now, log.With("component", "coord"))
	a.Jobs.Every(coord.JobEscalate, time.Minute, func(ctx context.Context) error {
		_, err := a.Coord.Escalate(ctx)
		return err
	})
	// Malware-cleanup campaigns: one reminder to members that have not
	// acknowledged their part in time.
	a.Campaign = campaign.NewService(db, now, a.Orgs.WhoisIndex, log.With("component", "campaign"))
	a.Jobs.Every(campaign.JobRemind, time.Hour, func(ctx context.Context) error {
		_, err := a.Campaign.Remind(ctx)
		return err
	})
	// Exercises: injects of running drills fall due by the minute.
	a.Exercise = exercise.NewService(db, a.Incidents, a.Readiness, now, log.With("component", "exercise"))
	a.Exercise.Coord, a.Exercise.Intel = a.Coord, a.Intel // order and advisory injects
	a.Jobs.Every(exercise.JobDeliver, time.Minute, func(ctx context.Context) error {
		_, err := a.Exercise.Deliver(ctx)
		return err
	})
	// Federation: push to and pull from the parent instance, each peer on
	// its own interval (the job looks every minute for the peers due).
	a.Federation = federation.NewService(db, a.Intel, a.Orgs.ScopeOf, now, log.With("component", "federation"))
	a.Jobs.Every(federation.JobSync, time.Minute, func(ctx context.Context) error {
		_, err := a.Federation.SyncDue(ctx)
		return err
	})
	return a
}

// Close releases the bus and the store.
func (a *App) Close() error {
	if a.Bus != nil {
		a.Bus.Close()
		a.Bus = nil
	}
	return a.DB.Close()
}

// OpenBus opens JetStream (embedded in the data folder, or the --nats
// server) and hands it to the ingest service.
func (a *App) OpenBus(ctx context.Context) error {
	if a.Bus != nil {
		return nil
	}
	b, err := bus.Open(ctx, bus.Config{URL: a.Cfg.NATS, Dir: bus.DirIn(a.Cfg.Data), MaxBytes: a.Cfg.IngestStreamMaxBytes,
		MaxAge: a.Cfg.IngestRetention, MaxMsgSize: int32(min(a.Cfg.IngestMaxBatch+(1<<20), 1<<30))}, a.Log.With("component", "bus"))
	if err != nil {
		return err
	}
	a.Bus = b
	a.Ingest.Bus = b
	return nil
}

// Handler is the whole HTTP surface: operations endpoints, the REST API and
// the web UI, wrapped with request ids, access logs, recovery and metrics.
func (a *App) Handler() (http.Handler, error) {
	ui, err := web.New(web.Server{Orgs: a.Orgs, Readiness: a.Readiness, Auth: a.Auth, Audit: a.Audit, Incidents: a.Incidents, Notify: a.Notify, Jobs: a.Jobs, Log: a.Log.With("component", "web"),
		Evidence: a.Evidence, Public: a.Public, Intel: a.Intel, Coord: a.Coord, Infosys: a.Infosys, Ingest: a.Ingest, Campaign: a.Campaign, Exercise: a.Exercise,
		Federation: a.Federation, Warning: a.Warning, Cfg: a.Cfg, Now: a.Now, Version: BuildVersion()})
	if err != nil {
		return nil, err
	}
	rest := &api.Server{Orgs: a.Orgs, Readiness: a.Readiness, Auth: a.Auth, Audit: a.Audit, Incidents: a.Incidents, Notify: a.Notify, Log: a.Log.With("component", "api"),
		MaxBody: a.Cfg.MaxBody, Now: a.Now, Evidence: a.Evidence, Public: a.Public, Coord: a.Coord,
		Intel: a.Intel, Infosys: a.Infosys, Campaign: a.Campaign, ClientIP: ui.ClientIP, Ingest: a.Ingest, Exercise: a.Exercise,
		Federation: a.Federation, Warning: a.Warning}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", a.handleReady)
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.Handle("/api/", rest.Handler())
	mux.Handle("/ingest/v1/", a.Ingest.Handler())
	mux.Handle("/taxii2/", (&taxii.Server{Auth: a.Auth, Intel: a.Intel, DB: a.DB, MaxBody: a.Cfg.MaxBody, Now: a.Now, Log: a.Log.With("component", "taxii"),
		TrustProxy: a.Cfg.TrustProxy}).Handler())
	mux.Handle("/", ui.Handler())
	return obs.Wrap(mux, a.Log.With("component", "http"), a.Metrics), nil
}

func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.DB.SQL.PingContext(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "database unreachable: %v\n", err)
		return
	}
	pending, err := a.DB.Pending(ctx)
	if err != nil || pending {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "migrations not current (pending=%v, err=%v)\n", pending, err)
		return
	}
	io.WriteString(w, "ready\n")
}

// Serve listens until ctx is cancelled, then shuts down gracefully. ready,
// when not nil, receives the URL once listening.
func (a *App) Serve(ctx context.Context, ready func(url string)) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	if err := a.OpenBus(ctx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: listen %s: %w", a.Cfg.Addr, err)
	}
	pctx, stopPipeline := context.WithCancel(context.Background())
	pipelineDone := make(chan struct{})
	go func() {
		defer close(pipelineDone)
		if a.Cfg.IngestWorkers == 0 {
			return
		}
		if err := a.Pipeline.Run(pctx); err != nil {
			a.Log.Error("ingest pipeline did not start; batches wait in the stream", "err", err)
		}
	}()
	defer func() {
		stopPipeline()
		<-pipelineDone
	}()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if a.Cfg.TLSCert != "" {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String() + "/"
	errc := make(chan error, 1)
	go func() {
		if a.Cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, a.Cfg.TLSCert, a.Cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	a.Log.Info("certnet listening", "url", url, "database", a.DB.Where, "engine", a.DB.Engine, "version", BuildVersion())
	if ready != nil {
		ready(url)
	}
	go a.housekeeping(ctx)
	go a.Jobs.Run(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "grace", a.Cfg.ShutdownWait)
	sctx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.Log.Info("stopped")
	return nil
}

// housekeeping prunes expired sessions and throttle rows every few minutes.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Auth.PruneExpired(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("prune sessions", "err", err)
			}
		}
	}
}

// stderrIsTerminal reports whether progress bars make sense.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
