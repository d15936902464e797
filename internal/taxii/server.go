// Package taxii is certnet's TAXII 2.1 server: the transport that serves
// what internal/intel stores (indicators and the other STIX objects) to
// TAXII clients, per collection of TLP labels and per caller's policy, and
// takes STIX objects in through intel's import.
package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/obs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// MediaType is the TAXII 2.1 media type, on Accept and Content-Type.
const MediaType = "application/taxii+json;version=2.1"

// stixMediaType names the objects in a manifest.
const stixMediaType = "application/stix+json;version=2.1"

// Root is the name of certnet's one API root.
const Root = "api"

// MaxLimit is the most objects one page holds (and the default).
const MaxLimit = 1000

// Server holds what the TAXII transport needs.
type Server struct {
	Auth    *auth.Service
	Intel   *intel.Service
	DB      *store.DB
	MaxBody int64
	Now     func() time.Time
	Log     *slog.Logger
	// TrustProxy takes the client's address from X-Forwarded-For (for
	// the sign-in counters of HTTP Basic with a password).
	TrustProxy bool
}

// Collection is one TAXII collection: the objects of some TLP labels.
type Collection struct {
	ID    string
	Alias string
	Title string
	Desc  string
	TLPs  []policy.TLP
}

// Collections are certnet's collections; RED never travels by TAXII.
var Collections = []Collection{
	{ID: "5f0e7c1a-3c5e-5b8e-9d1a-6c1f2a4b0001", Alias: "indicators-clear", Title: "TLP:CLEAR",
		Desc: "Indicators and STIX objects labelled TLP:CLEAR.", TLPs: []policy.TLP{policy.TLPClear}},
	{ID: "5f0e7c1a-3c5e-5b8e-9d1a-6c1f2a4b0002", Alias: "indicators-green", Title: "TLP:GREEN",
		Desc: "Indicators and STIX objects labelled TLP:GREEN, for the community's members.", TLPs: []policy.TLP{policy.TLPGreen}},
	{ID: "5f0e7c1a-3c5e-5b8e-9d1a-6c1f2a4b0003", Alias: "amber", Title: "TLP:AMBER",
		Desc: "Indicators and STIX objects labelled TLP:AMBER or TLP:AMBER+STRICT that the caller's organisation may read.",
		TLPs: []policy.TLP{policy.TLPAmber, policy.TLPAmberStrict}},
}

func collection(id string) (Collection, bool) {
	for _, c := range Collections {
		if c.ID == id || c.Alias == id {
			return c, true
		}
	}
	return Collection{}, false
}

// Handler returns the TAXII routes, all under /taxii2/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /taxii2/{$}", s.authed(s.discovery))
	mux.HandleFunc("GET /taxii2/{root}/{$}", s.authed(s.apiRoot))
	mux.HandleFunc("GET /taxii2/{root}/status/{id}/{$}", s.authed(s.status))
	mux.HandleFunc("GET /taxii2/{root}/collections/{$}", s.authed(s.collections))
	mux.HandleFunc("GET /taxii2/{root}/collections/{cid}/{$}", s.authed(s.collection))
	mux.HandleFunc("GET /taxii2/{root}/collections/{cid}/manifest/{$}", s.authed(s.manifest))
	mux.HandleFunc("GET /taxii2/{root}/collections/{cid}/objects/{$}", s.authed(s.objects))
	mux.HandleFunc("POST /taxii2/{root}/collections/{cid}/objects/{$}", s.authed(s.addObjects))
	mux.HandleFunc("GET /taxii2/{root}/collections/{cid}/objects/{oid}/{$}", s.authed(s.object))
	mux.HandleFunc("DELETE /taxii2/{root}/collections/{cid}/objects/{oid}/{$}", s.authed(s.deleteObject))
	mux.HandleFunc("GET /taxii2/{root}/collections/{cid}/objects/{oid}/versions/{$}", s.authed(s.versions))
	return mux
}

// Error is the TAXII error message.
type Error struct {
	Title           string         `json:"title"`
	Description     string         `json:"description,omitempty"`
	ErrorID         string         `json:"error_id,omitempty"`
	ErrorCode       string         `json:"error_code,omitempty"`
	HTTPStatus      string         `json:"http_status,omitempty"`
	ExternalDetails string         `json:"external_details,omitempty"`
	Details         map[string]any `json:"details,omitempty"`
}

type httpErr struct {
	status int
	code   string
	desc   string
}

func (e httpErr) Error() string { return e.desc }

func fail(status int, code, desc string) error { return httpErr{status, code, desc} }

type handler func(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error)

// authed checks the Accept header, authenticates the caller (Bearer token,
// or HTTP Basic with the username and an API token or the password), checks
// the root, runs h and writes its answer as TAXII JSON.
func (s *Server) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !acceptable(r.Header.Get("Accept")) {
			s.writeError(w, r, fail(http.StatusNotAcceptable, "not_acceptable", "Accept must be "+MediaType))
			return
		}
		a, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if root := r.PathValue("root"); root != "" && root != Root {
			s.writeError(w, r, fail(http.StatusNotFound, "not_found", "no such API root"))
			return
		}
		out, status, err := h(w, r, a)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", MediaType)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.Encode(out)
	}
}

// acceptable reports whether an Accept header admits TAXII 2.1 JSON.
func acceptable(h string) bool {
	for _, part := range strings.Split(h, ",") {
		if isMediaType(part) {
			return true
		}
	}
	return false
}

// isMediaType: application/taxii+json, with version 2.1 or no version.
func isMediaType(v string) bool {
	mt, params, err := mime.ParseMediaType(strings.TrimSpace(v))
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	ver, ok := params["version"]
	return !ok || ver == "2.1"
}

// credentials reads the Authorization header: a Bearer token, or HTTP
// Basic's username and password (an API token or the user's password).
func credentials(r *http.Request) (user, secret string, basic bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, v, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return "", strings.TrimSpace(v), false
	}
	if u, pass, ok := r.BasicAuth(); ok {
		return u, pass, true
	}
	return "", "", false
}

const challenge = `Basic realm="certnet TAXII", Bearer realm="certnet TAXII"`

// clientIP is the caller's address for the sign-in counters;
// X-Forwarded-For only behind a trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	if s.TrustProxy {
		if xf := r.Header.Get("X-Forwarded-For"); xf != "" {
			first, _, _ := strings.Cut(xf, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate: Bearer with an API token; HTTP Basic with the username
// and an API token (the recommended way), or the username and the user's
// password, checked by auth as a sign-in is (argon2id, the failure
// counters and locks; refused to users who must pass a second factor).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (policy.Actor, bool) {
	user, secret, basic := credentials(r)
	if secret == "" {
		w.Header().Set("WWW-Authenticate", challenge)
		s.writeError(w, r, fail(http.StatusUnauthorized, "unauthenticated",
			"credentials are required (HTTP Basic with an API token or the password, or Bearer with an API token)"))
		return policy.Actor{}, false
	}
	var a policy.Actor
	var err error
	if basic && user != "" && !auth.LooksLikeToken(secret) {
		a, _, err = s.Auth.AuthenticatePassword(r.Context(), user, secret, s.clientIP(r), obs.RequestID(r.Context()))
	} else {
		var u auth.User
		a, u, err = s.Auth.AuthenticateToken(r.Context(), secret, obs.RequestID(r.Context()))
		if err == nil && user != "" && !strings.EqualFold(user, u.Username) {
			err = errs.Unauthenticated("taxii", "")
		}
	}
	if err != nil {
		switch errs.KindOf(err) {
		case errs.KindInternal:
			s.writeError(w, r, err)
		case errs.KindTooMany:
			s.writeError(w, r, fail(http.StatusTooManyRequests, "too_many_attempts",
				"too many failed sign-ins for this account or address: try again later"))
		default:
			w.Header().Set("WWW-Authenticate", challenge)
			s.writeError(w, r, fail(http.StatusUnauthorized, "unauthenticated", "the credentials were refused"))
		}
		return policy.Actor{}, false
	}
	return a, true
}

var statusOf = map[errs.Kind]int{
	errs.KindInvalid: http.StatusBadRequest, errs.KindNotFound: http.StatusNotFound, errs.KindConflict: http.StatusConflict,
	errs.KindForbidden: http.StatusForbidden, errs.KindUnauthenticated: http.StatusUnauthorized,
	errs.KindTooLarge: http.StatusRequestEntityTooLarge, errs.KindTooMany: http.StatusTooManyRequests,
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	rid := obs.RequestID(r.Context())
	e := Error{ErrorID: rid}
	status := http.StatusInternalServerError
	var he httpErr
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		status, e.ErrorCode, e.Description = he.status, he.code, he.desc
	case errors.As(err, &mbe):
		status, e.ErrorCode, e.Description = http.StatusRequestEntityTooLarge, "too_large", "the request is larger than max_content_length"
	default:
		k := errs.KindOf(err)
		if st, ok := statusOf[k]; ok {
			status = st
		}
		e.ErrorCode = k.String()
		if k == errs.KindInternal {
			if s.Log != nil {
				s.Log.Error("taxii: internal error", "err", err, "request_id", rid, "path", r.URL.Path)
			}
		} else if x, ok := errs.As(err); ok && len(x.Fields) > 0 {
			e.Details = map[string]any{}
			for f, m := range x.Fields {
				e.Details[f] = m.Key
			}
		}
	}
	e.Title = http.StatusText(status)
	e.HTTPStatus = strconv.Itoa(status)
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(e)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return map[string]any{
		"title":       "certnet TAXII",
		"description": "Threat intelligence shared by the national CSIRT network.",
		"default":     "/taxii2/" + Root + "/",
		"api_roots":   []string{"/taxii2/" + Root + "/"},
	}, http.StatusOK, nil
}

func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return map[string]any{
		"title":              "certnet",
		"description":        "Indicators, STIX objects and sightings, per TLP label.",
		"versions":           []string{MediaType},
		"max_content_length": s.MaxBody,
	}, http.StatusOK, nil
}

func canRead(a policy.Actor, c Collection) bool {
	return a.OrgID != 0 && policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: a.OrgID, TLP: c.TLPs[0]}) == nil
}

func canWrite(a policy.Actor) bool { return a.OrgID != 0 && intel.MayImport(a) == nil }

func collectionJSON(a policy.Actor, c Collection) map[string]any {
	return map[string]any{
		"id": c.ID, "alias": c.Alias, "title": c.Title, "description": c.Desc,
		"can_read": canRead(a, c), "can_write": canWrite(a), "media_types": []string{stixMediaType},
	}
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var out []map[string]any
	for _, c := range Collections {
		out = append(out, collectionJSON(a, c))
	}
	return map[string]any{"collections": out}, http.StatusOK, nil
}

// find returns the collection of the path; 404 when there is none.
func find(r *http.Request) (Collection, error) {
	c, ok := collection(r.PathValue("cid"))
	if !ok {
		return c, fail(http.StatusNotFound, "not_found", "no such collection")
	}
	return c, nil
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	return collectionJSON(a, c), http.StatusOK, nil
}

// page reads the query and returns one page of the collection (id: of
// one object's versions).
func (s *Server) page(r *http.Request, a policy.Actor, c Collection, id string) ([]intel.SharedObject, intel.Cursor, error) {
	if !canRead(a, c) {
		return nil, intel.Cursor{}, fail(http.StatusForbidden, "forbidden", "the caller may not read this collection")
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, intel.Cursor{}, fail(http.StatusBadRequest, "bad_query", "the query string is malformed")
	}
	q, err := ParseQuery(vals, MaxLimit)
	if err != nil {
		return nil, intel.Cursor{}, fail(http.StatusBadRequest, "bad_query", err.Error())
	}
	if id != "" {
		if !intel.ValidSTIXID(id, "") {
			return nil, intel.Cursor{}, fail(http.StatusNotFound, "not_found", "no such object")
		}
		if len(q.IDs) > 0 || len(q.Types) > 0 {
			return nil, intel.Cursor{}, fail(http.StatusBadRequest, "bad_query", "match[id] and match[type] are not filters of one object")
		}
		// 404 when the caller may not know the object, whatever the
		// other filters say.
		if _, err := s.Intel.SharedObject(r.Context(), a, c.TLPs, id); err != nil {
			if errs.KindOf(err) == errs.KindNotFound {
				return nil, intel.Cursor{}, fail(http.StatusNotFound, "not_found", "no such object")
			}
			return nil, intel.Cursor{}, err
		}
		q.IDs = []string{id}
	}
	sq := q.Shared(c.TLPs)
	// Only what no open transaction can still add before (PostgreSQL):
	// the date-added cursor a client keeps never passes a row committed
	// later.
	if sq.AddedBefore, err = s.Intel.Horizon(r.Context()); err != nil {
		return nil, intel.Cursor{}, err
	}
	return s.Intel.SharedPage(r.Context(), a, sq)
}

// envelope writes the date-added headers and the paging fields.
func envelope(w http.ResponseWriter, p []intel.SharedObject, next intel.Cursor, key string, items any) map[string]any {
	out := map[string]any{"more": !next.IsZero()}
	if len(p) > 0 {
		w.Header().Set("X-TAXII-Date-Added-First", p[0].Added.Format(time.RFC3339Nano))
		w.Header().Set("X-TAXII-Date-Added-Last", p[len(p)-1].Added.Format(time.RFC3339Nano))
		out[key] = items
	}
	if !next.IsZero() {
		out["next"] = cursor(next)
	}
	return out
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	p, next, err := s.page(r, a, c, "")
	if err != nil {
		return nil, 0, err
	}
	var items []map[string]any
	for _, o := range p {
		items = append(items, map[string]any{"id": o.ID, "date_added": o.Added.Format(time.RFC3339Nano),
			"version": o.Version, "media_type": stixMediaType})
	}
	return envelope(w, p, next, "objects", items), http.StatusOK, nil
}

func bodies(p []intel.SharedObject) []map[string]any {
	out := make([]map[string]any, 0, len(p))
	for _, o := range p {
		out = append(out, o.Body)
	}
	return out
}

func (s *Server) objects(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	p, next, err := s.page(r, a, c, "")
	if err != nil {
		return nil, 0, err
	}
	return envelope(w, p, next, "objects", bodies(p)), http.StatusOK, nil
}

func (s *Server) object(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	p, next, err := s.page(r, a, c, r.PathValue("oid"))
	if err != nil {
		return nil, 0, err
	}
	return envelope(w, p, next, "objects", bodies(p)), http.StatusOK, nil
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	p, next, err := s.page(r, a, c, r.PathValue("oid"))
	if err != nil {
		return nil, 0, err
	}
	var vs []string
	for _, o := range p {
		vs = append(vs, o.Version)
	}
	return envelope(w, p, next, "versions", vs), http.StatusOK, nil
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	id := r.PathValue("oid")
	if !canRead(a, c) || !intel.ValidSTIXID(id, "") {
		return nil, 0, fail(http.StatusNotFound, "not_found", "no such object")
	}
	_, err = s.Intel.SharedObject(r.Context(), a, c.TLPs, id)
	if errs.KindOf(err) == errs.KindNotFound {
		return nil, 0, fail(http.StatusNotFound, "not_found", "no such object")
	}
	if err != nil {
		return nil, 0, err
	}
	forbidden := fail(http.StatusForbidden, "forbidden", "only the owner organisation's writers may delete an object")
	if !canWrite(a) {
		return nil, 0, forbidden
	}
	// The caller's organisation's own copy (another's is not the
	// caller's to delete, nor is an advisory's report).
	if err := s.Intel.DeleteShared(r.Context(), a, id); err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			return nil, 0, forbidden
		}
		return nil, 0, err
	}
	return map[string]any{}, http.StatusOK, nil
}

// Status is a TAXII status resource.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	RequestTimestamp string         `json:"request_timestamp"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	FailureCount     int            `json:"failure_count"`
	PendingCount     int            `json:"pending_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// StatusDetail is one object of a status resource.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

func (s *Server) addObjects(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	c, err := find(r)
	if err != nil {
		return nil, 0, err
	}
	if !isMediaType(r.Header.Get("Content-Type")) {
		return nil, 0, fail(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be "+MediaType)
	}
	if !canWrite(a) {
		return nil, 0, fail(http.StatusForbidden, "forbidden", "the caller may not write to this collection")
	}
	if s.MaxBody > 0 && r.ContentLength > s.MaxBody {
		return nil, 0, fail(http.StatusRequestEntityTooLarge, "too_large", "the request is larger than max_content_length")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max(s.MaxBody, 1)))
	if err != nil {
		return nil, 0, err
	}
	var env struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Objects == nil {
		return nil, 0, fail(http.StatusBadRequest, "bad_request", "the body must be a TAXII envelope or a STIX bundle with objects")
	}
	if env.Type != "bundle" {
		bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": env.Objects})
		body = bundle
	}
	res, err := s.Intel.ImportSTIX(r.Context(), a, bytes.NewReader(body), intel.ImportOptions{Name: "taxii:" + c.Alias, DefaultTLP: c.TLPs[0]})
	if err != nil {
		return nil, 0, err
	}
	st := Status{ID: uuid.NewString(), Status: "complete", RequestTimestamp: s.now().Format(time.RFC3339Nano), TotalCount: len(env.Objects)}
	failed := map[int]string{}
	for _, e := range res.Errors {
		failed[e.Index] = e.Error
	}
	for i, raw := range env.Objects {
		var o struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
			Created  string `json:"created"`
		}
		json.Unmarshal(raw, &o)
		v := o.Modified
		if v == "" {
			v = o.Created
		}
		if msg, bad := failed[i]; bad {
			st.Failures = append(st.Failures, StatusDetail{ID: o.ID, Version: v, Message: msg})
		} else {
			st.Successes = append(st.Successes, StatusDetail{ID: o.ID, Version: v})
		}
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	if err := s.saveStatus(r.Context(), a, c, st); err != nil {
		return nil, 0, err
	}
	return st, http.StatusAccepted, nil
}

func (s *Server) saveStatus(ctx context.Context, a policy.Actor, c Collection, st Status) error {
	b, err := json.Marshal(st)
	if err != nil {
		return errs.Internal("taxii: status", err)
	}
	_, err = s.DB.Exec(ctx, `INSERT INTO taxii_status (id, owner_org_id, collection, status, total_count, success_count, failure_count, pending_count, body, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, st.ID, a.OrgID, c.ID, st.Status, st.TotalCount, st.SuccessCount, st.FailureCount, st.PendingCount,
		string(b), store.NullID(a.UserID), s.now())
	return errs.Ensure("taxii: status", err)
}

// status answers a status resource to its organisation; another gets 404.
func (s *Server) status(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var body string
	err := s.DB.QueryRow(r.Context(), `SELECT body FROM taxii_status WHERE id = ? AND owner_org_id = ?`, r.PathValue("id"), a.OrgID).Scan(&body)
	if store.IsNoRows(err) {
		return nil, 0, fail(http.StatusNotFound, "not_found", "no such status")
	}
	if err != nil {
		return nil, 0, errs.Internal("taxii: status", err)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return nil, 0, errs.Internal("taxii: status", err)
	}
	return st, http.StatusOK, nil
}
