package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Federation: this instance's parent over TAXII 2.1 — the peers
		// with their sync state, a new peer, sync now, pause, remove.
		mux.Handle("GET /federation", s.page(s.handleFederation))
		mux.Handle("POST /federation", s.page(s.handleFederationCreate))
		mux.Handle("POST /federation/{id}/sync", s.page(s.handleFederationSync))
		mux.Handle("POST /federation/{id}/enabled", s.page(s.handleFederationEnabled))
		mux.Handle("POST /federation/{id}/delete", s.page(s.handleFederationDelete))
	})
}
