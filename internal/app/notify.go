package app

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"certnet/internal/config"
	"certnet/internal/jobs"
	"certnet/internal/notify"
	"certnet/internal/obs"
	"certnet/internal/org"
	"certnet/internal/store"
)

// newNotify builds the notification service from the config and registers
// its jobs: the dispatcher every 10 s (and when kicked after an Enqueue's
// commit by the sweep that follows) and the sender every 30 s (kicked after
// each fan-out that made deliveries).
func newNotify(cfg config.Config, db *store.DB, orgs *org.Service, now func() time.Time, log *slog.Logger, r *jobs.Runner, m *obs.Metrics) *notify.Service {
	n := notify.NewService(db, orgs, now, log)
	n.BaseURL = cfg.BaseURL
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
		n.Host = u.Hostname()
	}
	if cfg.SMTPAddr != "" {
		n.Mailer = &notify.SMTP{Addr: cfg.SMTPAddr, User: cfg.SMTPUser, Password: cfg.SMTPPassword, StartTLS: cfg.SMTPStartTLS}
		n.From = cfg.SMTPFrom
	}
	n.AllowPrivateWebhooks = cfg.WebhookAllowPrivate
	n.Kick = r.Kick
	r.Every(notify.JobFanout, 10*time.Second, func(ctx context.Context) error {
		_, err := n.Fanout(ctx)
		return err
	})
	r.Every(notify.JobDeliver, 30*time.Second, func(ctx context.Context) error {
		_, err := n.Deliver(ctx)
		return err
	})
	if m != nil && m.Registry != nil {
		m.Registry.MustRegister(outboxCollector{n: n, log: log})
	}
	return n
}

// outboxCollector exposes the outbox's state as Prometheus gauges, read
// when scraped (a few indexed COUNTs).
type outboxCollector struct {
	n   *notify.Service
	log *slog.Logger
}

var outboxDesc = prometheus.NewDesc("certnet_notify_outbox", "Notifications waiting for fan-out (state=fanout) and deliveries by state.", []string{"state"}, nil)

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxDesc }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.n.Counts(ctx)
	if err != nil {
		c.log.Warn("notify: outbox metrics", "err", err)
		return
	}
	for state, v := range map[string]int{"fanout": st.PendingFanout, "pending": st.Pending, "failing": st.Failing, "dead": st.Dead, "sent": st.Sent} {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(v), state)
	}
}
