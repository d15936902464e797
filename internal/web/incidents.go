package web

import (
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// Templates of the incident pages.
const (
	tplIncidents      = "incidents.html"
	tplIncidentForm   = "incident_form.html"
	tplIncident       = "incident.html"
	tplIncidentForm03 = "incident_form03.html"
)

// incidentsPerPage is the size of a page of the incident list.
const incidentsPerPage = 50

// sevIcons and statusIcons: one icon each, used with the colour and the
// word, never colour alone.
var sevIcons = map[incident.Severity]string{
	incident.SeverityLow: "▽", incident.SeverityMedium: "◆", incident.SeverityHigh: "▲", incident.SeverityCritical: "‼",
}

var statusIcons = map[incident.Status]string{
	incident.StatusReceived: "✉", incident.StatusVerified: "✔", incident.StatusRejected: "✖",
	incident.StatusDuplicate: "≡", incident.StatusContainment: "◈", incident.StatusRecovery: "↻",
	incident.StatusReview: "✎", incident.StatusClosed: "■",
}

// incFilter is the list's filter as it stands in the URL.
type incFilter struct {
	Status, Type, Severity, Class, Q string
	RSIT, Province, Sector           string
	// From, To: reported between these days (YYYY-MM-DD, Vietnam time, To
	// included); DFrom, DTo the same for the detection.
	From, To, DFrom, DTo string
	Overdue              bool
	// Exercise: "" real incidents, "all" the drills', an exercise's id.
	Exercise string
	Page     int
}

func parseIncFilter(r *http.Request) incFilter {
	q := r.URL.Query()
	f := incFilter{Status: q.Get("status"), Type: q.Get("type"), Severity: q.Get("severity"), Class: q.Get("class"),
		Q: strings.TrimSpace(q.Get("q")), Overdue: q.Get("overdue") == "1", Page: intQuery(r, "page"),
		RSIT: q.Get("rsit"), Province: q.Get("province"), Sector: q.Get("sector"),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		DFrom: strings.TrimSpace(q.Get("dfrom")), DTo: strings.TrimSpace(q.Get("dto")), Exercise: strings.TrimSpace(q.Get("exercise"))}
	if f.Page < 1 {
		f.Page = 1
	}
	return f
}

// filter is the service's filter, read by the list's own parser
// (incident.ParseQuery, which saved filters are checked with too);
// errs.Invalid names a value that does not read.
func (f incFilter) filter() (incident.Filter, error) {
	return incident.ParseQuery(f.values())
}

// values is the filter as URL parameters, without the page.
func (f incFilter) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"status", f.Status}, {"type", f.Type}, {"severity", f.Severity},
		{"class", f.Class}, {"q", f.Q}, {"rsit", f.RSIT}, {"province", f.Province}, {"sector", f.Sector},
		{"from", f.From}, {"to", f.To}, {"dfrom", f.DFrom}, {"dto", f.DTo}, {"exercise", f.Exercise}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	return v
}

func (f incFilter) href(page int) string {
	v := f.values()
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/incidents"
	}
	return "/incidents?" + v.Encode()
}

// incRow is one incident as a list shows it.
type incRow struct {
	incident.Incident
	OrgName string
	Overdue bool
}

type incListView struct {
	Base
	F          incFilter
	Rows       []incRow
	Total      int
	Range      string
	PrevHref   string
	NextHref   string
	CSVHref    string
	XLSXHref   string
	Statuses   []option
	Types      []option
	Severities []option
	Classes    []option
	RSITs      []option
	Provinces  []option
	Sectors    []option
	Filtered   bool
	// More: the count stopped at incident.CountCap past the page's start.
	More bool
	// Saved filters above the list, and the form that saves the current
	// query (incfilters.go).
	Saved     []savedFilterRow
	SaveQuery string
	SaveForm  formVals
}

// SevIcon is the severity's icon.
func (b Base) SevIcon(s incident.Severity) string { return sevIcons[s] }

// StatusIcon is the status's icon.
func (b Base) StatusIcon(s incident.Status) string { return statusIcons[s] }

// SevBadge shows a severity: colour, icon and word.
func (b Base) SevBadge(s incident.Severity) template.HTML {
	return template.HTML(`<span class="sev sev-` + html.EscapeString(string(s)) + `"><span aria-hidden="true">` +
		sevIcons[s] + `</span> ` + html.EscapeString(b.T(s.LabelKey())) + `</span>`)
}

// StatusBadge shows a status: colour, icon and word.
func (b Base) StatusBadge(s incident.Status) template.HTML {
	return template.HTML(`<span class="st st-` + html.EscapeString(string(s)) + `"><span aria-hidden="true">` +
		statusIcons[s] + `</span> ` + html.EscapeString(b.T(s.LabelKey())) + `</span>`)
}

// Left says how long until (or since) a deadline, in days and hours.
func (b Base) Left(d time.Duration) string {
	key := "incidents.left"
	if d < 0 {
		key, d = "incidents.late_by", -d
	}
	h := int(d.Hours())
	return b.T(key, h/24, h%24)
}

// IncHref is the incident page's path.
func (b Base) IncHref(ref string) string { return "/incidents/" + url.PathEscape(ref) }

func incOptions[T ~string](b Base, all []T, key func(T) string, selected string) []option {
	out := make([]option, 0, len(all))
	for _, x := range all {
		out = append(out, option{Value: string(x), Label: b.T(key(x)), Selected: string(x) == selected})
	}
	return out
}

func (s *Server) handleIncidentList(w http.ResponseWriter, r *http.Request) {
	s.incidentList(w, r, http.StatusOK, nil, nil)
}

// incidentList renders the list under the request's query; saveErr and
// saveForm are a refused "save this filter" form, shown again with status.
func (s *Server) incidentList(w http.ResponseWriter, r *http.Request, status int, saveErr error, saveForm formVals) {
	wh := whoFrom(r)
	f := parseIncFilter(r)
	v := incListView{Base: s.base(r, "incidents.title"), F: f, SaveForm: saveForm}
	s.savedFilters(r, &v)
	v.Filtered = f != incFilter{Page: f.Page}
	if h := f.href(1); h != "/incidents" {
		v.CSVHref, v.XLSXHref = "/incidents.csv"+h[len("/incidents"):], "/incidents.xlsx"+h[len("/incidents"):]
	} else {
		v.CSVHref, v.XLSXHref = "/incidents.csv", "/incidents.xlsx"
	}
	v.Statuses = incOptions(v.Base, incident.Statuses, incident.Status.LabelKey, f.Status)
	v.Types = incOptions(v.Base, incident.Types, incident.Type.LabelKey, f.Type)
	v.Severities = incOptions(v.Base, incident.Severities, incident.Severity.LabelKey, f.Severity)
	v.Classes = incOptions(v.Base, []incident.Class{incident.ClassOrdinary, incident.ClassSerious}, incident.Class.LabelKey, f.Class)
	for _, c := range incident.RSITClasses() {
		v.RSITs = append(v.RSITs, option{Value: c, Label: v.T("incsearch.rsit." + c), Selected: c == f.RSIT})
	}
	v.Provinces = s.provinceOptions(r, f.Province)
	v.Sectors = sectorOptions(v.Base, f.Sector)
	lf, err := f.filter()
	lf.Limit, lf.Offset = incidentsPerPage, (f.Page-1)*incidentsPerPage
	var incs []incident.Incident
	var total int
	if err == nil {
		incs, total, err = s.Incidents.List(r.Context(), wh.Actor, lf)
	}
	if err != nil {
		if !errs.Is(err, errs.KindInvalid) {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplIncidents, v)
		return
	}
	names := s.orgNamer(r)
	now := s.Incidents.Now()
	for _, inc := range incs {
		// A list carries no reports: the earliest open deadline (kept with
		// the reports) says whether one has passed, as in the export and
		// the "overdue" filter.
		v.Rows = append(v.Rows, incRow{Incident: inc, OrgName: names.name(inc.AffectedOrgID),
			Overdue: !inc.NextDueAt.IsZero() && inc.NextDueAt.Before(now)})
	}
	v.Total = total
	if total > 0 && len(incs) > 0 {
		all := v.Num(total)
		if incident.CountMore(total, lf.Offset) {
			v.More, all = true, v.Num(lf.Offset+incident.CountCap)+"+"
		}
		v.Range = v.T("orgs.range", v.Num(lf.Offset+1), v.Num(lf.Offset+len(incs)), all)
	}
	if f.Page > 1 {
		v.PrevHref = f.href(f.Page - 1)
	}
	if lf.Offset+len(incs) < total {
		v.NextHref = f.href(f.Page + 1)
	}
	if saveErr != nil {
		v.formErrors(saveErr)
	}
	s.render(w, r, status, tplIncidents, v)
}

// formVals is a submitted form, kept to show again what was typed.
type formVals url.Values

// Get is the field's value.
func (f formVals) Get(k string) string { return url.Values(f).Get(k) }

// Has reports whether a checkbox or option was chosen.
func (f formVals) Has(k, v string) bool { return slices.Contains(f[k], v) }

type incFormView struct {
	Base
	F          formVals
	Types      []option
	Severities []option
	TLPs       []option
	Orgs       []option
	Detections []option
	Notified   []option
}

var incTLPs = []policy.TLP{policy.TLPClear, policy.TLPGreen, policy.TLPAmber, policy.TLPAmberStrict}

func (s *Server) incFormView(r *http.Request, f formVals) incFormView {
	wh := whoFrom(r)
	v := incFormView{Base: s.base(r, "incidents.new_title"), F: f}
	v.Types = incOptions(v.Base, incident.Types, incident.Type.LabelKey, f.Get("type"))
	v.Severities = incOptions(v.Base, incident.Severities, incident.Severity.LabelKey, f.Get("severity"))
	for _, l := range incTLPs {
		v.TLPs = append(v.TLPs, option{Value: string(l), Label: "TLP:" + string(l), Selected: f.Get("tlp") == string(l)})
	}
	if orgs, _, err := s.Orgs.List(r.Context(), wh.Actor, org.ListFilter{Sort: "name", Limit: 1000}); err == nil {
		for _, o := range orgs {
			v.Orgs = append(v.Orgs, option{Value: itoa(o.ID), Label: o.Name})
		}
	}
	for _, d := range incident.DetectionMethods {
		v.Detections = append(v.Detections, option{Value: d, Label: v.T("incidents.detect." + d), Selected: f.Get("detected_by") == d})
	}
	for _, n := range incident.NotifiedParties {
		v.Notified = append(v.Notified, option{Value: n, Label: v.T("incidents.notified." + n), Selected: f.Has("already_notified", n)})
	}
	return v
}

// Selected reports whether an organisation is chosen in a select.
func (v incFormView) Selected(field, value string) bool { return v.F.Get(field) == value }

func (s *Server) handleIncidentNew(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if err := policy.Check(wh.Actor, policy.IncidentReport, policy.Resource{OwnerOrg: wh.User.OrgID, TLP: policy.TLPGreen}); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := formVals{"tlp": {string(policy.TLPAmber)}, "severity": {string(incident.SeverityMedium)},
		"reporter_org_id": {itoa(wh.User.OrgID)},
		"detected_at":     {s.Now().In(i18n.Zone).Format("2006-01-02T15:04")}}
	s.render(w, r, http.StatusOK, tplIncidentForm, s.incFormView(r, f))
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == ';' })
}

func formID(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

// inputOf reads form 03 from the submitted form; bad is the fields that
// could not be read.
func inputOf(f url.Values) (incident.Input, map[string]string) {
	bad := map[string]string{}
	in := incident.Input{
		Title: f.Get("title"), Description: f.Get("description"), Type: incident.Type(f.Get("type")),
		Severity: incident.Severity(f.Get("severity")), TLP: policy.TLP(f.Get("tlp")),
		ReporterOrgID: formID(f.Get("reporter_org_id")), AffectedOrgID: formID(f.Get("affected_org_id")),
		ExceedsCapacity: f.Get("exceeds_capacity") == "1",
		Contact: incident.Contact{Name: f.Get("contact.name"), Title: f.Get("contact.title"),
			Email: f.Get("contact.email"), Phone: f.Get("contact.phone")},
		System: incident.System{Name: f.Get("system.name"), OwnerName: f.Get("system.owner_name"),
			OperatorName: f.Get("system.operator_name"), SecurityProvider: f.Get("system.security_provider"),
			ConnectivityProvider: f.Get("system.connectivity_provider"), OS: f.Get("system.os"),
			Services: f.Get("system.services"), Protections: f.Get("system.protections"),
			PublicIPs: splitList(f.Get("system.public_ips")), Domains: splitList(f.Get("system.domains")),
			Purpose: f.Get("system.purpose")},
		Handled: f.Get("handled") == "1", DetectedBy: f.Get("detected_by"), DetectedByText: f.Get("detected_by_text"),
		AlreadyNotified: f["already_notified"], Confidential: f.Get("confidential") == "1", Proposals: f.Get("proposals"),
	}
	if lv := strings.TrimSpace(f.Get("system.level")); lv != "" {
		n, err := strconv.Atoi(lv)
		if err != nil {
			bad["system.level"], n = "incident.err.level", -1
		}
		in.System.Level = n
	}
	if d := strings.TrimSpace(f.Get("detected_at")); d != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", d, i18n.Zone)
		if err != nil {
			bad["detected_at"] = "incidents.err.time"
		}
		in.DetectedAt = t // zero when unreadable
	}
	return in, bad
}

func (s *Server) handleIncidentCreate(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, errs.Invalid("web: incident form"), "")
		return
	}
	in, bad := inputOf(r.PostForm)
	// An optional evidence file (evidence.go): a bad name is refused with
	// the form, nothing created.
	file, fileBad := intakeFile(r)
	if fileBad != "" {
		bad["file"] = fileBad
	}
	// Fields that could not be read are left invalid (zero time, level
	// -1): the service refuses them with every other mistake at once.
	var inc incident.Incident
	var err error = errs.Invalid("web: incident form")
	if fileBad == "" {
		inc, err = s.Incidents.Create(r.Context(), wh.Actor, in)
	}
	if err == nil {
		if file != nil && !s.attachIntakeFile(w, r, inc, file) {
			return
		}
		s.redirect(w, r, "/incidents/"+url.PathEscape(inc.Ref), "incidents.created")
		return
	}
	if k := errs.KindOf(err); k == errs.KindForbidden || k == errs.KindNotFound || k == errs.KindUnauthenticated || k == errs.KindInternal {
		s.renderError(w, r, err, "")
		return
	}
	v := s.incFormView(r, formVals(r.PostForm))
	v.formErrors(err)
	if len(bad) > 0 && v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for f, k := range bad {
		v.Errors[f] = v.T(k)
	}
	s.render(w, r, http.StatusBadRequest, tplIncidentForm, v)
}

// incView is the incident page.
type incView struct {
	Base
	Inc         incident.Incident
	Reporter    string
	Affected    string
	Clocks      []incident.Clock
	Next        []incident.Status
	Events      []incident.Event
	Reports     []incident.Report
	Observables []incident.Observable
	Routes      []incident.Route
	Types       []option
	Severities  []option
	Kinds       []incident.ReportKind
	// Handlings: the closure report's ways of handling (form 05).
	Handlings []option
	// Sections are the areas' parts of the page (incident_sections.go).
	Sections []incSection
}

// May reports whether the user may do act on the incident (to show or hide
// a form): the service's own decision, the reporter's side included.
func (v incView) May(act string) bool {
	return incident.CheckIncident(v.Actor, policy.Action(act), v.Inc) == nil
}

// TransitionAct is the action the step to status needs.
func (v incView) TransitionAct(to incident.Status) string {
	switch {
	case to == incident.StatusClosed:
		return string(policy.IncidentClose)
	case v.Inc.Status == incident.StatusReceived:
		return string(policy.IncidentClassify)
	}
	return string(policy.IncidentWork)
}

// EventText is a line of the timeline.
func (v incView) EventText(e incident.Event) string {
	str := func(k string) string { s, _ := e.Detail[k].(string); return s }
	switch e.Kind {
	case incident.EventStatus:
		line := v.T("incidents.ev.status", v.T(incident.Status(str("from")).LabelKey()), v.T(incident.Status(str("to")).LabelKey()))
		if r := str("reason"); r != "" {
			line += " — " + r
		}
		if d := str("duplicate_of"); d != "" {
			line += " (" + d + ")"
		}
		return line
	case incident.EventComment:
		return str("text")
	case incident.EventReport, incident.EventAcknowledged:
		if k := str("kind"); k != "" {
			return v.T("incidents.ev."+e.Kind) + ": " + v.T(incident.ReportKind(k).LabelKey())
		}
	}
	if i18n.Has(v.Lang, "incidents.ev."+e.Kind) {
		return v.T("incidents.ev." + e.Kind)
	}
	return e.Kind
}

func (s *Server) handleIncident(w http.ResponseWriter, r *http.Request) {
	s.incidentPage(w, r, http.StatusOK, nil)
}

// incidentPage shows the incident, with the error of a form that failed.
func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	wh := whoFrom(r)
	ctx := r.Context()
	ref := r.PathValue("ref")
	inc, err := s.Incidents.Get(ctx, wh.Actor, ref)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	// The page's other reads (timeline, observables, sections) take the
	// incident from the context instead of reading it again each.
	ctx = incident.WithIncident(ctx, inc)
	r = r.WithContext(ctx)
	v := incView{Base: s.base(r, ""), Inc: inc}
	v.Title = inc.Ref + " · " + inc.Title
	names := s.orgNamer(r)
	v.Reporter, v.Affected = names.name(inc.ReporterOrgID), names.name(inc.AffectedOrgID)
	v.Clocks = s.Incidents.Clocks(inc)
	v.Next = incident.Next(inc.Status)
	v.Reports = inc.Reports
	if v.Events, err = s.Incidents.Timeline(ctx, wh.Actor, inc.Ref); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	slices.Reverse(v.Events)
	v.Observables, _ = s.Incidents.Observables(ctx, wh.Actor, inc.Ref)
	v.Routes, _ = s.Incidents.RouteObservables(ctx, wh.Actor, inc.Ref)
	v.Types = incOptions(v.Base, incident.Types, incident.Type.LabelKey, string(inc.Type))
	v.Severities = incOptions(v.Base, incident.Severities, incident.Severity.LabelKey, string(inc.Severity))
	v.Kinds = []incident.ReportKind{incident.ReportProgress, incident.ReportSupport, incident.ReportClosure}
	v.Handlings = incOptions(v.Base, incident.Handlings, incident.Handling.LabelKey, "")
	if formErr != nil {
		v.formErrors(formErr)
	}
	if v.Sections, err = s.incidentSections(r, &v); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, status, tplIncident, v)
}

// afterAction redirects to the incident page, or shows it again with what
// went wrong.
func (s *Server) afterAction(w http.ResponseWriter, r *http.Request, err error, flashKey string) {
	if err == nil {
		s.redirect(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref")), flashKey)
		return
	}
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.incidentPage(w, r, http.StatusBadRequest, err)
	case errs.KindConflict:
		s.incidentPage(w, r, http.StatusConflict, err)
	default:
		s.renderError(w, r, err, "")
	}
}

func (s *Server) handleIncidentTransition(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	_, err := s.Incidents.Transition(r.Context(), wh.Actor, r.PathValue("ref"), incident.Status(r.PostFormValue("to")),
		incident.TransitionInput{Reason: r.PostFormValue("reason"), DuplicateOf: r.PostFormValue("duplicate_of")})
	s.afterAction(w, r, err, "incidents.saved")
}

func (s *Server) handleIncidentClassify(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	_, err := s.Incidents.Classify(r.Context(), wh.Actor, r.PathValue("ref"), incident.ClassifyInput{
		Type: incident.Type(r.PostFormValue("type")), Severity: incident.Severity(r.PostFormValue("severity"))})
	s.afterAction(w, r, err, "incidents.saved")
}

func (s *Server) handleIncidentPropose(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	_, err := s.Incidents.ProposeSerious(r.Context(), wh.Actor, r.PathValue("ref"), r.PostFormValue("reason"))
	s.afterAction(w, r, err, "incidents.saved")
}

func (s *Server) handleIncidentDecide(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	_, err := s.Incidents.DecideSerious(r.Context(), wh.Actor, r.PathValue("ref"), r.PostFormValue("accept") == "1",
		r.PostFormValue("note"))
	s.afterAction(w, r, err, "incidents.saved")
}

func (s *Server) handleIncidentComment(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	_, err := s.Incidents.AddComment(r.Context(), wh.Actor, r.PathValue("ref"), r.PostFormValue("text"))
	s.afterAction(w, r, err, "incidents.saved")
}

func (s *Server) handleIncidentReport(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	in := incident.ReportInput{Summary: r.PostFormValue("summary"), Support: r.PostFormValue("support"),
		Result: r.PostFormValue("result"), Lessons: r.PostFormValue("lessons")}
	err := closureFields(r, &in)
	if err == nil {
		_, err = s.Incidents.AddReport(r.Context(), wh.Actor, r.PathValue("ref"), incident.ReportKind(r.PostFormValue("kind")), in)
	}
	s.afterAction(w, r, err, "incidents.saved")
}

func (s *Server) handleIncidentAck(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err == nil {
		_, err = s.Incidents.Acknowledge(r.Context(), wh.Actor, r.PathValue("ref"), id)
	}
	s.afterAction(w, r, err, "incidents.saved")
}

type form03View struct {
	Base
	Inc      incident.Incident
	Reporter string
	Affected string
}

// Yes is the word for a yes/no field.
func (v form03View) Yes(b bool) string {
	if b {
		return v.T("incidents.yes")
	}
	return v.T("incidents.no")
}

func (s *Server) handleIncidentForm03(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	inc, err := s.Incidents.Get(r.Context(), wh.Actor, r.PathValue("ref"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := form03View{Base: s.base(r, "incidents.form03"), Inc: inc}
	names := s.orgNamer(r)
	v.Reporter, v.Affected = names.name(inc.ReporterOrgID), names.name(inc.AffectedOrgID)
	s.render(w, r, http.StatusOK, tplIncidentForm03, v)
}
