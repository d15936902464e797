// Package web is certnet's server-rendered user interface: Vietnamese first,
// English by a switch, every essential action usable without JavaScript.
// routes.go lists every route; each page has its own file and template.
package web

import (
	"embed"
	"log/slog"
	"net/http"
	"time"

	"certnet/internal/audit"
	"certnet/internal/auth"
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
	"certnet/internal/org"
	"certnet/internal/readiness"
	"certnet/internal/warning"
)

//go:embed all:templates static
var assets embed.FS

// Server is the web UI.
type Server struct {
	Orgs      *org.Service
	Auth      *auth.Service
	Audit     *audit.Service
	Incidents *incident.Service
	Log       *slog.Logger
	Cfg       config.Config
	Now       func() time.Time
	Version   string

	// Notify is the notification service (inbox, preferences, webhooks,
	// outbox); Jobs the background job runner (the outbox page shows its
	// last runs). Either may be nil in tests of other pages.
	Notify *notify.Service
	Jobs   *jobs.Runner

	// Evidence (files of incidents) and Public (the public report page
	// and its triage queue).
	Evidence *incident.Evidences
	Public   *incident.PublicReports

	// Readiness: response teams, people, rota, SIM3 (issue 7).
	Readiness *readiness.Service
	// Infosys: information systems and their security levels (issue 6).
	Infosys *infosys.Service
	// Campaign: malware-cleanup campaigns (issue 5, item 5).
	Campaign *campaign.Service

	// Intel: indicators, STIX and MISP imports and exports (issue 4).
	Intel *intel.Service

	// Coord: coordination orders, support requests, effort and costs.
	Coord *coord.Service

	// Exercise: drills run on certnet, measured (issue 7).
	Exercise *exercise.Service

	// Ingest: SOC sources and their health (issue 5).
	Ingest *ingest.Service

	// Federation: this instance's parent over TAXII 2.1 (issue 4).
	Federation *federation.Service

	// Warning: early warning and the 24/7 view (issue 5).
	Warning *warning.Service

	pages map[string]*pageTemplate
}

// New builds the web UI and parses its templates (a broken template fails
// at start, not on the first request).
func New(s Server) (*Server, error) {
	srv := &s
	if srv.Now == nil {
		srv.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	srv.pages = pages
	return srv, nil
}

// Handler returns the UI's routes with session, CSRF and language handling.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}
