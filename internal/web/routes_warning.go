package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Early warning (issue 5): the national warnings with filters, one
		// warning (acknowledge, close, turn into an advisory), the
		// thresholds; the duty officer's 24/7 view, refreshing itself.
		mux.Handle("GET /warnings", s.page(s.handleWarnings))
		mux.Handle("GET /warnings/{id}", s.page(s.handleWarning))
		mux.Handle("POST /warnings/{id}/acknowledge", s.page(s.handleWarningAck))
		mux.Handle("POST /warnings/{id}/close", s.page(s.handleWarningClose))
		mux.Handle("POST /warnings/{id}/advisory", s.page(s.handleWarningAdvisory))
		mux.Handle("GET /warnings/settings", s.page(s.handleWarningSettings))
		mux.Handle("POST /warnings/settings", s.page(s.handleWarningSettingsSave))
		mux.Handle("GET /watch", s.page(s.handleWatch))
	})
}
