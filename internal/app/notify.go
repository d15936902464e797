package app

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"certnet/internal/config"
	"certnet/internal/jobs"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/store"
)

// newNotify builds the notification service from the config and registers
// its jobs: the dispatcher every 10 s (and when kicked after an Enqueue's
// commit by the sweep that follows) and the sender every 30 s (kicked after
// each fan-out that made deliveries).
func newNotify(cfg config.Config, db *store.DB, orgs *org.Service, now func() time.Time, log *slog.Logger, r *jobs.Runner) *notify.Service {
	n := notify.NewService(db, orgs, now, log)
	n.BaseURL = cfg.BaseURL
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
		n.Host = u.Hostname()
	}
	if cfg.SMTPAddr != "" {
		n.Mailer = &notify.SMTP{Addr: cfg.SMTPAddr, User: cfg.SMTPUser, Password: cfg.SMTPPassword, StartTLS: cfg.SMTPStartTLS}
		n.From = cfg.SMTPFrom
	}
	n.Kick = r.Kick
	r.Every(notify.JobFanout, 10*time.Second, func(ctx context.Context) error {
		_, err := n.Fanout(ctx)
		return err
	})
	r.Every(notify.JobDeliver, 30*time.Second, func(ctx context.Context) error {
		_, err := n.Deliver(ctx)
		return err
	})
	return n
}
