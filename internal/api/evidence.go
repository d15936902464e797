package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

// Evidence files, tasks and the public report queue.

func init() {
	register([]Route{
		{"GET", "/api/v1/incidents/{ref}/evidence"},
		{"POST", "/api/v1/incidents/{ref}/evidence"},
		{"GET", "/api/v1/evidence/{id}"},
		{"GET", "/api/v1/evidence/{id}/custody"},
		{"GET", "/api/v1/evidence/{id}/download"},
		{"GET", "/api/v1/incidents/{ref}/tasks"},
		{"POST", "/api/v1/incidents/{ref}/tasks"},
		{"POST", "/api/v1/tasks/{id}/done"},
		{"POST", "/api/v1/tasks/{id}/assign"},
		{"GET", "/api/v1/public-reports"},
		{"GET", "/api/v1/public-reports/{ref}"},
		{"POST", "/api/v1/public-reports/{ref}/convert"},
		{"POST", "/api/v1/public-reports/{ref}/dismiss"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/incidents/{ref}/evidence":      s.authed(s.listEvidence),
			"POST /api/v1/incidents/{ref}/evidence":     s.rawBody(s.authed(s.uploadEvidence)),
			"GET /api/v1/evidence/{id}":                 s.authed(s.getEvidence),
			"GET /api/v1/evidence/{id}/custody":         s.authed(s.evidenceCustody),
			"GET /api/v1/evidence/{id}/download":        s.downloadEvidence,
			"GET /api/v1/incidents/{ref}/tasks":         s.authed(s.listTasks),
			"POST /api/v1/incidents/{ref}/tasks":        s.authed(s.addTask),
			"POST /api/v1/tasks/{id}/done":              s.authed(s.taskDone),
			"POST /api/v1/tasks/{id}/assign":            s.authed(s.assignTask),
			"GET /api/v1/public-reports":                s.authed(s.listPublicReports),
			"GET /api/v1/public-reports/{ref}":          s.authed(s.getPublicReport),
			"POST /api/v1/public-reports/{ref}/convert": s.authed(s.convertPublicReport),
			"POST /api/v1/public-reports/{ref}/dismiss": s.authed(s.dismissPublicReport),
		}
	})
}

func (s *Server) evidence() (*incident.Evidences, error) {
	if s.Evidence == nil {
		return nil, errs.NotFound("api: evidence")
	}
	return s.Evidence, nil
}

// clientAddr is the client's address for the custody log.
func (s *Server) clientAddr(r *http.Request) string {
	if s.ClientIP != nil {
		return s.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type listOut[T any] struct {
	Items []T `json:"items"`
}

// items is a list answer; nil is sent as [] (never null).
func items[T any](xs []T) listOut[T] {
	if xs == nil {
		xs = []T{}
	}
	return listOut[T]{xs}
}

func (s *Server) listEvidence(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	es, err := s.evidence()
	if err != nil {
		return nil, 0, err
	}
	files, err := es.List(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	return items(files), http.StatusOK, nil
}

// rawBodyKey carries the request's body before authed bounds it to the
// JSON limit: an upload has its own, larger one.
type rawBodyKey struct{}

func (s *Server) rawBody(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		next(w, r.WithContext(context.WithValue(r.Context(), rawBodyKey{}, r.Body)))
	}
}

// uploadEvidence reads the file as the raw request body; its name, label
// and note are query parameters, its declared media type the Content-Type.
func (s *Server) uploadEvidence(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	es, err := s.evidence()
	if err != nil {
		return nil, 0, err
	}
	body := r.Body
	if raw, ok := r.Context().Value(rawBodyKey{}).(io.ReadCloser); ok && raw != nil {
		body = raw
	}
	max := es.Files.MaxSize
	if r.ContentLength > max {
		return nil, 0, errs.Invalid("api: evidence").Field("file", "evidence.err.too_large", max>>20)
	}
	q := r.URL.Query()
	in := incident.EvidenceInput{Name: q.Get("name"), TLP: policy.TLP(q.Get("tlp")), Note: q.Get("note"),
		MediaType: r.Header.Get("Content-Type"), Body: body, Address: s.clientAddr(r)}
	ev, err := es.Add(r.Context(), a, incidentKey(r), in)
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/evidence/%d", ev.ID))
	return ev, http.StatusCreated, nil
}

type evidenceOut struct {
	incident.Evidence
	Custody []incident.CustodyEntry `json:"custody"`
}

func (s *Server) getEvidence(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	es, err := s.evidence()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	ev, log, err := es.Get(r.Context(), a, id, s.clientAddr(r))
	if err != nil {
		return nil, 0, err
	}
	if log == nil {
		log = []incident.CustodyEntry{}
	}
	return evidenceOut{ev, log}, http.StatusOK, nil
}

func (s *Server) evidenceCustody(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	es, err := s.evidence()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	log, err := es.Custody(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return items(log), http.StatusOK, nil
}

// downloadEvidence answers the file's bytes (errors as JSON): an
// attachment, application/octet-stream, never rendered.
func (s *Server) downloadEvidence(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	es, err := s.evidence()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, body, err := es.Open(r.Context(), a, id, s.clientAddr(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer body.Close()
	if err := incident.ServeFile(w, ev, body); err != nil && !errors.Is(err, incident.ErrCorrupt) {
		s.Log.Warn("api: evidence download cut short", "evidence", ev.ID, "err", err)
	}
}

// --- tasks ---

type taskBody struct {
	Title   string `json:"title"`
	Note    string `json:"note"`
	OwnerID int64  `json:"owner_id"`
	DueAt   string `json:"due_at"`
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	ts, err := s.Incidents.Tasks(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	return items(ts), http.StatusOK, nil
}

func (s *Server) addTask(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b taskBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in := incident.TaskInput{Title: b.Title, Note: b.Note, OwnerID: b.OwnerID}
	if d := strings.TrimSpace(b.DueAt); d != "" {
		t, err := time.Parse(time.RFC3339, d)
		if err != nil {
			return nil, 0, errs.Invalid("api: task").Field("due_at", "api.err.rfc3339")
		}
		in.DueAt = t
	}
	t, err := s.Incidents.AddTask(r.Context(), a, incidentKey(r), in)
	if err != nil {
		return nil, 0, err
	}
	return t, http.StatusCreated, nil
}

type taskDoneBody struct {
	Done *bool `json:"done"`
}

func (s *Server) taskDone(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b taskDoneBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	done := b.Done == nil || *b.Done
	t, err := s.Incidents.SetTaskDone(r.Context(), a, id, done)
	if err != nil {
		return nil, 0, err
	}
	return t, http.StatusOK, nil
}

type taskAssignBody struct {
	OwnerID int64 `json:"owner_id"`
}

func (s *Server) assignTask(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b taskAssignBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	t, err := s.Incidents.AssignTask(r.Context(), a, id, b.OwnerID)
	if err != nil {
		return nil, 0, err
	}
	return t, http.StatusOK, nil
}

// --- public reports ---

func (s *Server) public() (*incident.PublicReports, error) {
	if s.Public == nil {
		return nil, errs.NotFound("api: public reports")
	}
	return s.Public, nil
}

func (s *Server) listPublicReports(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.public()
	if err != nil {
		return nil, 0, err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", incident.PublicNew, incident.PublicConverted, incident.PublicDismissed:
	default:
		return nil, 0, errs.Invalid("api: public reports").Field("status", "field.invalid_choice")
	}
	limit, _, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	list, err := p.List(r.Context(), a, incident.PublicFilter{Status: status, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	return items(list), http.StatusOK, nil
}

func (s *Server) getPublicReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.public()
	if err != nil {
		return nil, 0, err
	}
	rep, err := p.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusOK, nil
}

type convertOut struct {
	Report   incident.PublicReport `json:"report"`
	Incident incidentOut           `json:"incident"`
}

// convertPublicReport creates the incident: the draft prefilled from the
// report, with the fields the body gives replacing the draft's.
func (s *Server) convertPublicReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.public()
	if err != nil {
		return nil, 0, err
	}
	var b incidentBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	draft, rep, err := p.Draft(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return nil, 0, err
	}
	given, err := b.input()
	if err != nil {
		return nil, 0, err
	}
	in := overlay(draft, given)
	rep, inc, err := p.Convert(r.Context(), a, rep.Ref, in)
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", incidentPath(inc))
	return convertOut{Report: rep, Incident: s.incidentOut(inc)}, http.StatusCreated, nil
}

// overlay keeps the draft's value of every field the body left empty.
func overlay(d, g incident.Input) incident.Input {
	str := func(dst *string, v string) {
		if strings.TrimSpace(v) != "" {
			*dst = v
		}
	}
	str(&d.Title, g.Title)
	str(&d.Description, g.Description)
	if g.Type != "" {
		d.Type = g.Type
	}
	if g.Severity != "" {
		d.Severity = g.Severity
	}
	if g.TLP != "" {
		d.TLP = g.TLP
	}
	if g.ReporterOrgID != 0 {
		d.ReporterOrgID = g.ReporterOrgID
	}
	if g.AffectedOrgID != 0 {
		d.AffectedOrgID = g.AffectedOrgID
	}
	if !g.DetectedAt.IsZero() {
		d.DetectedAt = g.DetectedAt
	}
	str(&d.System.Name, g.System.Name)
	str(&d.Contact.Name, g.Contact.Name)
	str(&d.Contact.Email, g.Contact.Email)
	str(&d.Contact.Phone, g.Contact.Phone)
	str(&d.DetectedBy, g.DetectedBy)
	d.ExceedsCapacity = d.ExceedsCapacity || g.ExceedsCapacity
	return d
}

type dismissBody struct {
	Reason      string `json:"reason"`
	DuplicateOf string `json:"duplicate_of"`
}

func (s *Server) dismissPublicReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	p, err := s.public()
	if err != nil {
		return nil, 0, err
	}
	var b dismissBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	rep, err := p.Dismiss(r.Context(), a, r.PathValue("ref"), b.Reason, b.DuplicateOf)
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusOK, nil
}
