package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

// incidentBody is the notice / initial report (form 03) as JSON.
// detected_at is RFC 3339 text, checked here so that a bad value is named.
type incidentBody struct {
	Title           string            `json:"title"`
	Description     string            `json:"description"`
	Type            incident.Type     `json:"type"`
	Severity        incident.Severity `json:"severity"`
	TLP             policy.TLP        `json:"tlp"`
	ReporterOrgID   int64             `json:"reporter_org_id"`
	AffectedOrgID   int64             `json:"affected_org_id"`
	DetectedAt      string            `json:"detected_at"`
	ExceedsCapacity bool              `json:"exceeds_capacity"`
	Contact         incident.Contact  `json:"contact"`
	System          incident.System   `json:"system"`
	Handled         bool              `json:"handled"`
	DetectedBy      string            `json:"detected_by"`
	DetectedByText  string            `json:"detected_by_text"`
	AlreadyNotified []string          `json:"already_notified"`
	Confidential    bool              `json:"confidential"`
	Proposals       string            `json:"proposals"`
}

func (b incidentBody) input() (incident.Input, error) {
	in := incident.Input{Title: b.Title, Description: b.Description, Type: b.Type, Severity: b.Severity, TLP: b.TLP,
		ReporterOrgID: b.ReporterOrgID, AffectedOrgID: b.AffectedOrgID, ExceedsCapacity: b.ExceedsCapacity,
		Contact: b.Contact, System: b.System, Handled: b.Handled, DetectedBy: b.DetectedBy, DetectedByText: b.DetectedByText,
		AlreadyNotified: b.AlreadyNotified, Confidential: b.Confidential, Proposals: b.Proposals}
	if s := strings.TrimSpace(b.DetectedAt); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return in, errs.Invalid("api: incident").Field("detected_at", "api.err.rfc3339")
		}
		in.DetectedAt = t
	}
	return in, nil
}

// clockOut is a legal deadline, the time left in whole seconds.
type clockOut struct {
	Kind             incident.ClockKind `json:"kind"`
	ReportID         int64              `json:"report_id,omitempty"`
	Due              time.Time          `json:"due"`
	DoneAt           time.Time          `json:"done_at,omitzero"`
	Overdue          bool               `json:"overdue"`
	RemainingSeconds int64              `json:"remaining_seconds"`
}

// incidentOut is an incident with its legal clocks and the steps the
// process allows next.
type incidentOut struct {
	incident.Incident
	Clocks []clockOut        `json:"clocks"`
	Next   []incident.Status `json:"next"`
}

func (s *Server) incidentOut(inc incident.Incident) incidentOut {
	out := incidentOut{Incident: inc, Clocks: []clockOut{}, Next: incident.Next(inc.Status)}
	for _, c := range s.Incidents.Clocks(inc) {
		out.Clocks = append(out.Clocks, clockOut{Kind: c.Kind, ReportID: c.ReportID, Due: c.Due, DoneAt: c.DoneAt,
			Overdue: c.Overdue, RemainingSeconds: int64(c.Remaining / time.Second)})
	}
	if out.Next == nil {
		out.Next = []incident.Status{}
	}
	return out
}

func incidentKey(r *http.Request) string { return r.PathValue("ref") }

func incidentPath(inc incident.Incident) string {
	return "/api/v1/incidents/" + url.PathEscape(inc.Ref)
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := incident.Filter{Status: incident.Status(q.Get("status")), Type: incident.Type(q.Get("type")),
		Severity: incident.Severity(q.Get("severity")), Class: incident.Class(q.Get("class")), Q: q.Get("q"),
		ProvinceCode: q.Get("province"), Sort: q.Get("sort"), Limit: limit, Offset: offset}
	v := errs.Invalid("api: list incidents")
	if f.Status != "" && !f.Status.Valid() {
		v.Field("status", "field.invalid_choice")
	}
	if f.Type != "" && !f.Type.Valid() {
		v.Field("type", "field.invalid_choice")
	}
	if f.Severity != "" && !f.Severity.Valid() {
		v.Field("severity", "field.invalid_choice")
	}
	if f.Class != "" && !slices.Contains([]incident.Class{incident.ClassOrdinary, incident.ClassSerious}, f.Class) {
		v.Field("class", "field.invalid_choice")
	}
	if o := q.Get("org"); o != "" {
		if f.OrgID, err = strconv.ParseInt(o, 10, 64); err != nil || f.OrgID <= 0 {
			v.Field("org", "field.invalid")
		}
	}
	if o := q.Get("overdue"); o != "" {
		if f.Overdue, err = strconv.ParseBool(o); err != nil {
			v.Field("overdue", "field.invalid")
		}
	}
	switch x := q.Get("exercise"); x { // "" real incidents only, "all" the drills', an exercise's id
	case "":
	case "all":
		f.Exercises = true
	default:
		if f.ExerciseID, err = strconv.ParseInt(x, 10, 64); err != nil || f.ExerciseID <= 0 {
			v.Field("exercise", "field.invalid")
		}
	}
	f.RSITClass, f.Sector = q.Get("rsit"), q.Get("sector")
	for name, dst := range map[string]*int64{"affected_org": &f.AffectedOrgID, "reporter_org": &f.ReporterOrgID} {
		if o := q.Get(name); o != "" {
			if *dst, err = strconv.ParseInt(o, 10, 64); err != nil || *dst <= 0 {
				v.Field(name, "field.invalid")
			}
		}
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To,
		"detected_from": &f.DetectedFrom, "detected_to": &f.DetectedTo} {
		if o := q.Get(name); o != "" {
			if *dst, err = time.Parse(time.RFC3339, o); err != nil {
				v.Field(name, "field.invalid")
			}
		}
	}
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	if f, err = s.savedListFilter(r, a, f); err != nil {
		return nil, 0, err
	}
	incs, total, err := s.Incidents.List(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	items := make([]incidentOut, 0, len(incs))
	for _, inc := range incs {
		items = append(items, s.incidentOut(inc))
	}
	return List[incidentOut]{Items: items, Total: total, Limit: limit, Offset: offset}, http.StatusOK, nil
}

func (s *Server) createIncident(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b incidentBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	in, err := b.input()
	if err != nil {
		return nil, 0, err
	}
	inc, err := s.Incidents.Create(r.Context(), a, in)
	if err != nil {
		return nil, 0, err
	}
	// Created answers with what Get shows (reports, clocks).
	if full, err := s.Incidents.Get(r.Context(), a, inc.Ref); err == nil {
		inc = full
	}
	w.Header().Set("Location", incidentPath(inc))
	return s.incidentOut(inc), http.StatusCreated, nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	inc, err := s.Incidents.Get(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	return s.incidentOut(inc), http.StatusOK, nil
}

// answer returns the incident after a change, as Get shows it.
func (s *Server) answer(r *http.Request, a policy.Actor, inc incident.Incident, err error) (any, int, error) {
	if err != nil {
		return nil, 0, err
	}
	if full, err := s.Incidents.Get(r.Context(), a, inc.Ref); err == nil {
		inc = full
	}
	return s.incidentOut(inc), http.StatusOK, nil
}

type transitionBody struct {
	To          incident.Status `json:"to"`
	Reason      string          `json:"reason"`
	DuplicateOf string          `json:"duplicate_of"`
}

func (s *Server) transitionIncident(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b transitionBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if b.To == "" {
		return nil, 0, errs.Invalid("api: transition").Field("to", "field.required")
	}
	inc, err := s.Incidents.Transition(r.Context(), a, incidentKey(r), b.To,
		incident.TransitionInput{Reason: b.Reason, DuplicateOf: b.DuplicateOf})
	return s.answer(r, a, inc, err)
}

type classifyBody struct {
	Type     incident.Type     `json:"type"`
	Severity incident.Severity `json:"severity"`
}

func (s *Server) classifyIncident(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b classifyBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	inc, err := s.Incidents.Classify(r.Context(), a, incidentKey(r), incident.ClassifyInput{Type: b.Type, Severity: b.Severity})
	return s.answer(r, a, inc, err)
}

type proposeBody struct {
	Reason string `json:"reason"`
}

func (s *Server) proposeSerious(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b proposeBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	inc, err := s.Incidents.ProposeSerious(r.Context(), a, incidentKey(r), b.Reason)
	return s.answer(r, a, inc, err)
}

type decideBody struct {
	Accept *bool  `json:"accept"`
	Note   string `json:"note"`
}

func (s *Server) decideSerious(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b decideBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if b.Accept == nil {
		return nil, 0, errs.Invalid("api: decide serious").Field("accept", "field.required")
	}
	inc, err := s.Incidents.DecideSerious(r.Context(), a, incidentKey(r), *b.Accept, b.Note)
	return s.answer(r, a, inc, err)
}

func (s *Server) incidentEvents(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	evs, err := s.Incidents.Timeline(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	if evs == nil {
		evs = []incident.Event{}
	}
	return map[string]any{"items": evs}, http.StatusOK, nil
}

type commentBody struct {
	Text string `json:"text"`
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b commentBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	ev, err := s.Incidents.AddComment(r.Context(), a, incidentKey(r), b.Text)
	if err != nil {
		return nil, 0, err
	}
	return ev, http.StatusCreated, nil
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	rs, err := s.Incidents.Reports(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	if rs == nil {
		rs = []incident.Report{}
	}
	return map[string]any{"items": rs}, http.StatusOK, nil
}

// reportBody is a later report: its kind and the fields of that kind.
type reportBody struct {
	Kind incident.ReportKind `json:"kind"`
	incident.ReportInput
}

func (s *Server) addReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b reportBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if b.Kind == "" {
		return nil, 0, errs.Invalid("api: report").Field("kind", "field.required")
	}
	rep, err := s.Incidents.AddReport(r.Context(), a, incidentKey(r), b.Kind, b.ReportInput)
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusCreated, nil
}

func (s *Server) ackReport(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	rep, err := s.Incidents.Acknowledge(r.Context(), a, incidentKey(r), id)
	if err != nil {
		return nil, 0, err
	}
	return rep, http.StatusOK, nil
}

// observablesOut lists an incident's observables and, for those who may
// work the incident, the members owning them (proposed routing).
type observablesOut struct {
	Items  []incident.Observable `json:"items"`
	Routes []incident.Route      `json:"routes,omitempty"`
}

func (s *Server) listObservables(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	obs, err := s.Incidents.Observables(r.Context(), a, incidentKey(r))
	if err != nil {
		return nil, 0, err
	}
	out := observablesOut{Items: obs}
	if out.Items == nil {
		out.Items = []incident.Observable{}
	}
	routes, err := s.Incidents.RouteObservables(r.Context(), a, incidentKey(r))
	switch {
	case err == nil:
		out.Routes = routes
	case errs.Is(err, errs.KindForbidden), errs.Is(err, errs.KindNotFound):
		// A reader who may not work the incident gets no proposal.
	default:
		return nil, 0, err
	}
	return out, http.StatusOK, nil
}

type observableBody struct {
	Kind  incident.ObservableKind `json:"kind"`
	Value string                  `json:"value"`
}

func (s *Server) addObservable(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b observableBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	o, err := s.Incidents.AddObservable(r.Context(), a, incidentKey(r), b.Kind, b.Value)
	if err != nil {
		return nil, 0, err
	}
	return o, http.StatusCreated, nil
}
