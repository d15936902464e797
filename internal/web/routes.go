package web

import (
	"io/fs"
	"net/http"
)

// routes lists every route of the web UI.
func (s *Server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	// Signing in and out.
	mux.Handle("GET /login", s.public(s.handleLoginForm))
	mux.Handle("POST /login", s.public(s.handleLogin))
	mux.Handle("GET /login/mfa", s.public(s.handleMFAForm))
	mux.Handle("POST /login/mfa", s.public(s.handleMFA))
	mux.Handle("POST /logout", s.public(s.handleLogout))
	mux.Handle("POST /lang", s.public(s.handleLang))

	// Home.
	mux.Handle("GET /{$}", s.page(s.handleDashboard))
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
