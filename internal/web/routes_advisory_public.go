package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// Published TLP:CLEAR advisories for everyone (no sign-in):
		// the list, one advisory, and the Atom 1.0 feed (issue 4, item 8).
		mux.Handle("GET /public/advisories", s.public(s.handlePublicAdvisories))
		mux.Handle("GET /public/advisories/feed.atom", s.public(s.handlePublicAdvisoryFeed))
		mux.Handle("GET /public/advisories/{id}", s.public(s.handlePublicAdvisory))
	})
}
