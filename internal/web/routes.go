package web

import (
	"io/fs"
	"net/http"
)

// areaRoutes are the routes of the areas that register them from their own
// routes_<area>.go file (see addRoutes).
var areaRoutes []func(s *Server, mux *http.ServeMux)

// addRoutes adds an area's routes; call it from an init function in
// routes_<area>.go, where each route is one mux.Handle call with its
// "METHOD /path" pattern written out (the authorization matrix reads them).
func addRoutes(f func(s *Server, mux *http.ServeMux)) { areaRoutes = append(areaRoutes, f) }

// routes lists every route of the web UI (with routes_*.go).
func (s *Server) routes(mux *http.ServeMux) {
	for _, f := range areaRoutes {
		f(s, mux)
	}

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

	// Organisations, whois, import.
	mux.Handle("GET /orgs", s.page(s.handleOrgList))
	mux.Handle("GET /orgs.csv", s.page(s.handleOrgExportCSV))
	mux.Handle("GET /orgs.xlsx", s.page(s.handleOrgExportXLSX))
	mux.Handle("GET /orgs/new", s.page(s.handleOrgNew))
	mux.Handle("POST /orgs", s.page(s.handleOrgCreate))
	mux.Handle("GET /orgs/import", s.page(s.handleImportForm))
	mux.Handle("POST /orgs/import", s.limitUpload(maxUpload, s.page(s.handleImport)))
	mux.Handle("GET /orgs/{id}", s.page(s.handleOrg))
	mux.Handle("GET /orgs/{id}/edit", s.page(s.handleOrgEdit))
	mux.Handle("POST /orgs/{id}", s.page(s.handleOrgUpdate))
	mux.Handle("POST /orgs/{id}/contacts", s.page(s.handleContactSave))
	mux.Handle("POST /orgs/{id}/contacts/{cid}", s.page(s.handleContactSave))
	mux.Handle("POST /orgs/{id}/contacts/{cid}/delete", s.page(s.handleContactDelete))
	mux.Handle("GET /orgs/{id}/contacts/history", s.page(s.handleContactHistory))
	mux.Handle("GET /orgs/{id}/ranges", s.page(s.handleOrgRanges))
	mux.Handle("POST /orgs/{id}/ranges", s.page(s.handleRangeAdd))
	mux.Handle("POST /orgs/{id}/ranges/{rid}/delete", s.page(s.handleDeleteRange))
	mux.Handle("POST /orgs/{id}/asns/{rid}/delete", s.page(s.handleDeleteASN))
	mux.Handle("POST /orgs/{id}/domains/{rid}/delete", s.page(s.handleDeleteDomain))
	mux.Handle("GET /whois", s.page(s.handleWhois))
	mux.Handle("GET /orgs/overlaps", s.page(s.handleOverlaps))

	// Incidents.
	mux.Handle("GET /incidents", s.page(s.handleIncidentList))
	mux.Handle("GET /incidents.csv", s.page(s.handleIncidentExportCSV))
	mux.Handle("GET /incidents.xlsx", s.page(s.handleIncidentExportXLSX))
	mux.Handle("GET /incidents/new", s.page(s.handleIncidentNew))
	mux.Handle("POST /incidents", s.multipartOr(s.evidenceBodyLimit(), s.page(s.handleIncidentCreate)))
	mux.Handle("GET /incidents/{ref}", s.page(s.handleIncident))
	mux.Handle("GET /incidents/{ref}/form03", s.page(s.handleIncidentForm03))
	mux.Handle("POST /incidents/{ref}/transition", s.page(s.handleIncidentTransition))
	mux.Handle("POST /incidents/{ref}/classify", s.page(s.handleIncidentClassify))
	mux.Handle("POST /incidents/{ref}/serious/propose", s.page(s.handleIncidentPropose))
	mux.Handle("POST /incidents/{ref}/serious/decide", s.page(s.handleIncidentDecide))
	mux.Handle("POST /incidents/{ref}/comments", s.page(s.handleIncidentComment))
	mux.Handle("POST /incidents/{ref}/reports", s.page(s.handleIncidentReport))
	mux.Handle("POST /incidents/{ref}/reports/{id}/ack", s.page(s.handleIncidentAck))

	// People, profile, audit.
	mux.Handle("GET /users", s.page(s.handleUsers))
	mux.Handle("GET /users/new", s.page(s.handleUserNew))
	mux.Handle("POST /users", s.page(s.handleUserCreate))
	mux.Handle("GET /users/{id}", s.page(s.handleUser))
	mux.Handle("POST /users/{id}", s.page(s.handleUserUpdate))
	mux.Handle("POST /users/{id}/disable", s.page(s.handleUserDisable))
	mux.Handle("POST /users/{id}/enable", s.page(s.handleUserEnable))
	mux.Handle("POST /users/{id}/password", s.page(s.handleUserPassword))
	mux.Handle("POST /users/{id}/sessions/revoke", s.page(s.handleUserSessionsRevoke))
	mux.Handle("POST /users/{id}/totp/disable", s.page(s.handleUserTOTPDisable))
	mux.Handle("GET /profile", s.page(s.handleProfile))
	mux.Handle("POST /profile", s.page(s.handleProfileUpdate))
	mux.Handle("POST /profile/password", s.page(s.handleProfilePassword))
	mux.Handle("GET /profile/totp", s.page(s.handleTOTP))
	mux.Handle("POST /profile/totp", s.page(s.handleTOTPConfirm))
	mux.Handle("POST /profile/totp/disable", s.page(s.handleTOTPDisable))
	mux.Handle("POST /profile/recovery-codes", s.page(s.handleRecoveryCodes))
	mux.Handle("GET /profile/tokens", s.page(s.handleTokens))
	mux.Handle("POST /profile/tokens", s.page(s.handleTokenCreate))
	mux.Handle("POST /profile/tokens/{id}/revoke", s.page(s.handleTokenRevoke))
	mux.Handle("GET /audit", s.page(s.handleAudit))
	mux.Handle("GET /audit.csv", s.page(s.handleAuditCSV))
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
