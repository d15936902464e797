// Package api is certnet's JSON REST API under /api/v1: token-authenticated,
// errors as {"error":{"code","message","fields"}} in the caller's language,
// unknown fields and oversize bodies refused. routes.go lists every route and
// openapi/*.json document them (merged into one document at start-up); a
// test keeps the two in step.
package api

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/auth"
	"certnet/internal/campaign"
	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/exercise"
	"certnet/internal/federation"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/infosys"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/notify"
	"certnet/internal/obs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/warning"
)

//go:embed openapi/*.json
var openAPIFiles embed.FS

// openAPI is the document served at /api/v1/openapi.json: the base
// (00-base.json) with each area's fragment merged in — its tags, paths and
// component schemas. A path or schema defined twice panics at start-up.
var openAPI = mergeOpenAPI(openAPIFiles)

// Server is the REST API.
type Server struct {
	Orgs      *org.Service
	Auth      *auth.Service
	Audit     *audit.Service
	Incidents *incident.Service
	Log       *slog.Logger
	MaxBody   int64
	Now       func() time.Time

	// Notify is the notification service (inbox, preferences, webhooks).
	Notify *notify.Service
	// Intel: indicators and their STIX/MISP exchange (issue 4).
	Intel *intel.Service
	// Infosys: information systems and their security levels (issue 6).
	Infosys *infosys.Service
	// Campaign: malware-cleanup campaigns (issue 5, item 5).
	Campaign *campaign.Service

	// Evidence (files of incidents) and Public (the public report queue);
	// nil in tests of other routes.
	Evidence *incident.Evidences
	Public   *incident.PublicReports

	// Readiness: response teams, people, rota, SIM3 (issue 7).
	Readiness *readiness.Service

	// Coord: coordination orders, support requests, effort; nil in tests
	// of other routes.
	Coord *coord.Service
	// Exercise: drills run on certnet, measured (issue 7).
	Exercise *exercise.Service

	// Ingest: SOC sources (issue 5); nil in tests of other routes.
	Ingest *ingest.Service
	// Warning: early warning and the 24/7 figures (issue 5).
	Warning *warning.Service

	// Federation: this instance's parent over TAXII 2.1 (issue 4).
	Federation *federation.Service

	// ClientIP is the request's client address as the web UI reads it
	// (X-Forwarded-For behind a trusted proxy); nil: the connection's.
	ClientIP func(*http.Request) string
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MaxBody <= 0 {
		s.MaxBody = 1 << 20
	}
	mux := http.NewServeMux()
	s.routes(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errs.NotFound("api: route"))
	})
	return mux
}

// OpenAPI returns the embedded OpenAPI document.
func OpenAPI() []byte { return openAPI }

// handler is an API handler that returns its result or an error.
type handler func(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error)

// authenticate reads the bearer token (or HTTP Basic with the token as
// password) and returns its actor; when there is none or it is refused it
// writes the error (with WWW-Authenticate) and ok is false. Handlers that
// answer something other than JSON (downloads, exports) call it
// themselves; the others are wrapped in authed.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (a policy.Actor, ok bool) {
	return s.authenticateWith(w, r, `Bearer realm="certnet"`, `Bearer realm="certnet", error="invalid_token"`)
}

// authenticateWith is authenticate with the WWW-Authenticate challenges to
// answer a missing and a refused token with (a calendar program, for one,
// needs a Basic challenge to ask for the token as a password).
func (s *Server) authenticateWith(w http.ResponseWriter, r *http.Request, missing, refused string) (a policy.Actor, ok bool) {
	tok := bearer(r)
	if tok == "" {
		w.Header().Set("WWW-Authenticate", missing)
		s.writeError(w, r, errs.Unauthenticated("api", "api.err.no_token"))
		return a, false
	}
	a, _, err := s.Auth.AuthenticateToken(r.Context(), tok, obs.RequestID(r.Context()))
	if err != nil {
		w.Header().Set("WWW-Authenticate", refused)
		s.writeError(w, r, err)
		return a, false
	}
	return a, true
}

// authed wraps h: it authenticates the request, limits the body, and
// writes the result as JSON.
func (s *Server) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
		}
		out, status, err := h(w, r, a)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, out)
	}
}

func bearer(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	// The scheme name is case-insensitive (RFC 9110 §11.1).
	if scheme, v, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(v)
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// ErrorBody is the JSON error shape.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries a stable code, a message in the caller's language and
// per-field messages.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

var statusOf = map[errs.Kind]int{
	errs.KindInvalid:         http.StatusBadRequest,
	errs.KindNotFound:        http.StatusNotFound,
	errs.KindConflict:        http.StatusConflict,
	errs.KindForbidden:       http.StatusForbidden,
	errs.KindUnauthenticated: http.StatusUnauthorized,
	errs.KindTooLarge:        http.StatusRequestEntityTooLarge,
	errs.KindTooMany:         http.StatusTooManyRequests,
	errs.KindInternal:        http.StatusInternalServerError,
}

// lang picks the caller's language from Accept-Language: the supported
// language with the highest weight (the first of equal weights), Vietnamese
// when none is acceptable. "fr, en;q=0.8" is English.
func lang(r *http.Request) i18n.Lang {
	best, bestQ := i18n.VI, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		primary, _, _ := strings.Cut(tag, "-")
		var l i18n.Lang
		switch primary {
		case string(i18n.VI):
			l = i18n.VI
		case string(i18n.EN):
			l = i18n.EN
		default:
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	l := lang(r)
	rid := obs.RequestID(r.Context())
	kind := errs.KindOf(err)
	body := ErrorDetail{Code: kind.String(), RequestID: rid}
	if kind == errs.KindInternal {
		s.Log.Error("api: internal error", "err", err, "request_id", rid, "path", r.URL.Path)
		body.Message = i18n.T(l, "error.internal", rid)
	} else if e, ok := errs.As(err); ok {
		body.Message = i18n.T(l, e.Message.Key, e.Message.Args...)
		if len(e.Fields) > 0 {
			body.Fields = map[string]string{}
			for f, m := range e.Fields {
				body.Fields[f] = i18n.T(l, m.Key, m.Args...)
			}
		}
	}
	writeJSON(w, statusOf[kind], ErrorBody{Error: body})
}

// decode reads a JSON body strictly: one object, no unknown fields, within
// the size limit.
func decode(r *http.Request, v any) error {
	const op = "api: decode"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Exactly application/json, with parameters (charset) allowed:
		// not "application/jsonp" nor "application/json-seq".
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errs.Invalid(op).Field("body", "api.err.content_type")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return errs.TooLarge(op)
		case errors.Is(err, io.EOF):
			return errs.Invalid(op).Field("body", "api.err.empty_body")
		case errors.As(err, &syn):
			return errs.Invalid(op).Field("body", "error.bad_json", fmt.Sprintf("offset %d", syn.Offset))
		case errors.As(err, &typ):
			// A body that is not an object has no field to name.
			field := typ.Field
			if field == "" {
				field = "body"
			}
			return errs.Invalid(op).Field(field, "api.err.wrong_type", jsonType(typ.Type))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.Invalid(op).Field(name, "error.unknown_field", name)
		}
		return errs.Invalid(op).Field("body", "error.bad_json", err.Error())
	}
	// Exactly one value: trailing data is an error; draining also notices a
	// body over the limit.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errs.TooLarge(op)
		}
		return errs.Invalid(op).Field("body", "api.err.trailing_data")
	}
	return nil
}

// jsonType names a Go type as the JSON a client should send: the message
// must not show the server's internal type names (api.contactBody).
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.NotFound("api: " + name)
	}
	return n, nil
}

// page reads limit and offset: limit 1–500 (default 50).
func page(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	limit, offset = 50, 0
	v := errs.Invalid("api: page")
	if s := q.Get("limit"); s != "" {
		n, e := strconv.Atoi(s)
		if e != nil || n < 1 || n > 500 {
			v.Field("limit", "api.err.limit")
		}
		limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, e := strconv.Atoi(s)
		if e != nil || n < 0 {
			v.Field("offset", "api.err.offset")
		}
		offset = n
	}
	return limit, offset, v.OrNil()
}

// List is the envelope of every list answer.
type List[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func mergeOpenAPI(fsys fs.FS) []byte {
	names, err := fs.Glob(fsys, "openapi/*.json")
	if err != nil || len(names) == 0 || names[0] != "openapi/00-base.json" {
		panic("api: openapi/00-base.json missing")
	}
	var base map[string]any
	for i, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic("api: " + err.Error())
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			panic("api: " + name + ": " + err.Error())
		}
		if i == 0 {
			base = doc
			continue
		}
		if tags, ok := doc["tags"].([]any); ok {
			base["tags"] = append(base["tags"].([]any), tags...)
		}
		mergeInto(base, "paths", doc["paths"], name)
		if comp, ok := doc["components"].(map[string]any); ok {
			bc := base["components"].(map[string]any)
			for sect, v := range comp {
				if bc[sect] == nil {
					bc[sect] = map[string]any{}
				}
				mergeInto(bc, sect, v, name)
			}
		}
	}
	out, err := json.MarshalIndent(base, "", "  ")
	if err != nil {
		panic("api: " + err.Error())
	}
	return out
}

func mergeInto(dst map[string]any, key string, src any, file string) {
	m, ok := src.(map[string]any)
	if !ok {
		return
	}
	d, _ := dst[key].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[key] = d
	}
	for k, v := range m {
		if _, dup := d[k]; dup {
			panic("api: " + file + ": " + key + " " + k + " defined twice")
		}
		d[k] = v
	}
}
