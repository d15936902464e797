package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// SOC sources: every source in scope with its health, and an
		// organisation's sources with their management.
		mux.Handle("GET /ingest/sources", s.page(s.handleIngestSources))
		mux.Handle("GET /orgs/{id}/ingest", s.page(s.handleOrgIngest))
		mux.Handle("POST /orgs/{id}/ingest", s.page(s.handleIngestCreate))
		mux.Handle("POST /orgs/{id}/ingest/{sid}/disable", s.page(s.handleIngestDisable))
		mux.Handle("POST /orgs/{id}/ingest/{sid}/enable", s.page(s.handleIngestEnable))
		mux.Handle("POST /orgs/{id}/ingest/{sid}/rotate", s.page(s.handleIngestRotate))
	})
}
