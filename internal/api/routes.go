package api

import "net/http"

// Route is one documented API route.
type Route struct {
	Method, Pattern string
}

// Routes lists every API route; the OpenAPI test compares it with the
// document.
var Routes = []Route{
	{"GET", "/api/v1/openapi.json"},
	{"GET", "/api/v1/me"},
	{"GET", "/api/v1/orgs"},
	{"POST", "/api/v1/orgs"},
	{"GET", "/api/v1/orgs/{id}"},
	{"PUT", "/api/v1/orgs/{id}"},
	{"GET", "/api/v1/orgs/{id}/children"},
	{"GET", "/api/v1/orgs/{id}/contacts"},
	{"POST", "/api/v1/orgs/{id}/contacts"},
	{"PUT", "/api/v1/orgs/{id}/contacts/{cid}"},
	{"DELETE", "/api/v1/orgs/{id}/contacts/{cid}"},
	{"GET", "/api/v1/orgs/{id}/contacts/history"},
	{"GET", "/api/v1/orgs/{id}/ranges"},
	{"POST", "/api/v1/orgs/{id}/ranges"},
	{"DELETE", "/api/v1/orgs/{id}/ranges/{rid}"},
	{"GET", "/api/v1/orgs/{id}/asns"},
	{"POST", "/api/v1/orgs/{id}/asns"},
	{"DELETE", "/api/v1/orgs/{id}/asns/{rid}"},
	{"GET", "/api/v1/orgs/{id}/domains"},
	{"POST", "/api/v1/orgs/{id}/domains"},
	{"DELETE", "/api/v1/orgs/{id}/domains/{rid}"},
	{"GET", "/api/v1/whois"},
	{"GET", "/api/v1/users"},
	{"POST", "/api/v1/users"},
	{"GET", "/api/v1/users/{id}"},
	{"PUT", "/api/v1/users/{id}"},
	{"GET", "/api/v1/users/{id}/tokens"},
	{"POST", "/api/v1/users/{id}/tokens"},
	{"DELETE", "/api/v1/users/{id}/tokens/{tid}"},
	{"GET", "/api/v1/incidents"},
	{"POST", "/api/v1/incidents"},
	{"GET", "/api/v1/incidents/{ref}"},
	{"POST", "/api/v1/incidents/{ref}/transition"},
	{"POST", "/api/v1/incidents/{ref}/classify"},
	{"POST", "/api/v1/incidents/{ref}/serious/propose"},
	{"POST", "/api/v1/incidents/{ref}/serious/decide"},
	{"GET", "/api/v1/incidents/{ref}/events"},
	{"POST", "/api/v1/incidents/{ref}/comments"},
	{"GET", "/api/v1/incidents/{ref}/reports"},
	{"POST", "/api/v1/incidents/{ref}/reports"},
	{"POST", "/api/v1/incidents/{ref}/reports/{id}/ack"},
	{"GET", "/api/v1/incidents/{ref}/observables"},
	{"POST", "/api/v1/incidents/{ref}/observables"},
}

// extraHandlers are the handlers of the areas that register their routes
// from their own files (see register).
var extraHandlers []func(s *Server) map[string]http.HandlerFunc

// register adds an area's routes and handlers; call it from an init
// function in the area's file, with the area's OpenAPI fragment in
// openapi/. A route listed twice panics at start-up (and in every test).
func register(routes []Route, handlers func(s *Server) map[string]http.HandlerFunc) {
	Routes = append(Routes, routes...)
	extraHandlers = append(extraHandlers, handlers)
}

func (s *Server) routes(mux *http.ServeMux) {
	h := map[string]http.HandlerFunc{
		"GET /api/v1/openapi.json":                      s.handleOpenAPI,
		"GET /api/v1/me":                                s.authed(s.me),
		"GET /api/v1/orgs":                              s.authed(s.listOrgs),
		"POST /api/v1/orgs":                             s.authed(s.createOrg),
		"GET /api/v1/orgs/{id}":                         s.authed(s.getOrg),
		"PUT /api/v1/orgs/{id}":                         s.authed(s.updateOrg),
		"GET /api/v1/orgs/{id}/children":                s.authed(s.orgChildren),
		"GET /api/v1/orgs/{id}/contacts":                s.authed(s.listContacts),
		"POST /api/v1/orgs/{id}/contacts":               s.authed(s.saveContact),
		"PUT /api/v1/orgs/{id}/contacts/{cid}":          s.authed(s.saveContact),
		"DELETE /api/v1/orgs/{id}/contacts/{cid}":       s.authed(s.deleteContact),
		"GET /api/v1/orgs/{id}/contacts/history":        s.authed(s.contactHistory),
		"GET /api/v1/orgs/{id}/ranges":                  s.authed(s.constituencyOf("ranges")),
		"POST /api/v1/orgs/{id}/ranges":                 s.authed(s.constituencyOf("ranges")),
		"DELETE /api/v1/orgs/{id}/ranges/{rid}":         s.authed(s.constituencyOf("ranges")),
		"GET /api/v1/orgs/{id}/asns":                    s.authed(s.constituencyOf("asns")),
		"POST /api/v1/orgs/{id}/asns":                   s.authed(s.constituencyOf("asns")),
		"DELETE /api/v1/orgs/{id}/asns/{rid}":           s.authed(s.constituencyOf("asns")),
		"GET /api/v1/orgs/{id}/domains":                 s.authed(s.constituencyOf("domains")),
		"POST /api/v1/orgs/{id}/domains":                s.authed(s.constituencyOf("domains")),
		"DELETE /api/v1/orgs/{id}/domains/{rid}":        s.authed(s.constituencyOf("domains")),
		"GET /api/v1/whois":                             s.authed(s.whois),
		"GET /api/v1/users":                             s.authed(s.listUsers),
		"POST /api/v1/users":                            s.authed(s.createUser),
		"GET /api/v1/users/{id}":                        s.authed(s.getUser),
		"PUT /api/v1/users/{id}":                        s.authed(s.updateUser),
		"GET /api/v1/users/{id}/tokens":                 s.authed(s.listTokens),
		"POST /api/v1/users/{id}/tokens":                s.authed(s.createToken),
		"DELETE /api/v1/users/{id}/tokens/{tid}":        s.authed(s.revokeToken),
		"GET /api/v1/incidents":                         s.authed(s.listIncidents),
		"POST /api/v1/incidents":                        s.authed(s.createIncident),
		"GET /api/v1/incidents/{ref}":                   s.authed(s.getIncident),
		"POST /api/v1/incidents/{ref}/transition":       s.authed(s.transitionIncident),
		"POST /api/v1/incidents/{ref}/classify":         s.authed(s.classifyIncident),
		"POST /api/v1/incidents/{ref}/serious/propose":  s.authed(s.proposeSerious),
		"POST /api/v1/incidents/{ref}/serious/decide":   s.authed(s.decideSerious),
		"GET /api/v1/incidents/{ref}/events":            s.authed(s.incidentEvents),
		"POST /api/v1/incidents/{ref}/comments":         s.authed(s.addComment),
		"GET /api/v1/incidents/{ref}/reports":           s.authed(s.listReports),
		"POST /api/v1/incidents/{ref}/reports":          s.authed(s.addReport),
		"POST /api/v1/incidents/{ref}/reports/{id}/ack": s.authed(s.ackReport),
		"GET /api/v1/incidents/{ref}/observables":       s.authed(s.listObservables),
		"POST /api/v1/incidents/{ref}/observables":      s.authed(s.addObservable),
	}
	for _, more := range extraHandlers {
		for k, fn := range more(s) {
			if _, dup := h[k]; dup {
				panic("api: handler registered twice: " + k)
			}
			h[k] = fn
		}
	}
	for _, rt := range Routes {
		fn, ok := h[rt.Method+" "+rt.Pattern]
		if !ok {
			panic("api: route without handler: " + rt.Method + " " + rt.Pattern)
		}
		mux.HandleFunc(rt.Method+" "+rt.Pattern, fn)
	}
	if len(h) != len(Routes) {
		panic("api: handler without a listed route")
	}
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
