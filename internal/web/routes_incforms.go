package web

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// Report forms: the printable closure report (form 04) filled from the
// incident and its latest closure report.
func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		mux.Handle("GET /incidents/{ref}/form04", s.page(s.handleIncidentForm04))
	})
}

const tplIncidentForm04 = "incident_form04.html"

type form04View struct {
	Base
	Inc      incident.Incident
	Reporter string
	// Closure is the latest closure report; HasClosure is false when none
	// was filed yet (the page then says so and leaves its fields empty).
	Closure    incident.Report
	HasClosure bool
	// InitialRef and InitialDate: the closure report's own values, else
	// the incident's reference and reporting time (the initial report).
	InitialRef  string
	InitialDate string
	SystemName  string
	SystemOwner string
	SystemLevel int
	DetectedAt  string
	Signer      string
	SignedAt    string
	// Handling and Damage: the closure report's form 05 fields, in words
	// (empty when not stated or not estimated).
	Handling string
	Damage   string
}

func (s *Server) handleIncidentForm04(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	inc, err := s.Incidents.Get(r.Context(), wh.Actor, r.PathValue("ref"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := form04View{Base: s.base(r, "incforms.form04"), Inc: inc}
	v.Reporter = s.orgNamer(r).name(inc.ReporterOrgID)
	for _, rp := range inc.Reports { // Get read them
		if rp.Kind == incident.ReportClosure && (!v.HasClosure || !rp.SubmittedAt.Before(v.Closure.SubmittedAt)) {
			v.Closure, v.HasClosure = rp, true
		}
	}
	b := v.Closure.Body
	d := inc.Details
	v.InitialRef = cmp.Or(b.InitialRef, inc.Ref)
	if !b.InitialDate.IsZero() {
		v.InitialDate = v.Date(b.InitialDate)
	} else {
		v.InitialDate = v.Date(inc.ReportedAt)
	}
	v.SystemName = cmp.Or(b.SystemName, d.System.Name)
	v.SystemOwner = cmp.Or(b.SystemOwner, d.System.OwnerName)
	v.SystemLevel = b.SystemLevel
	if v.SystemLevel == 0 {
		v.SystemLevel = d.System.Level
	}
	if !b.DetectedAt.IsZero() {
		v.DetectedAt = v.Time(b.DetectedAt)
	} else {
		v.DetectedAt = v.Time(inc.DetectedAt)
	}
	if v.HasClosure {
		v.Signer, v.SignedAt = v.Closure.SubmittedName, v.Time(v.Closure.SubmittedAt)
	}
	if b.Handling != "" {
		v.Handling = v.T(b.Handling.LabelKey())
	}
	if b.DamageVND != nil {
		v.Damage = v.T("incforms.damage_vnd", v.Num64(*b.DamageVND))
	}
	s.render(w, r, http.StatusOK, tplIncidentForm04, v)
}

// Form 05: the six-monthly / annual summary, as a page (period picker,
// table and chart), a printable form and CSV / XLSX downloads; saved
// filters of the incident list (incfilters.go).
func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		mux.Handle("GET /incidents/summary", s.page(s.handleSummary))
		mux.Handle("GET /incidents/summary/form05", s.page(s.handleSummaryForm05))
		mux.Handle("GET /incidents/summary.csv", s.page(s.handleSummaryCSV))
		mux.Handle("GET /incidents/summary.xlsx", s.page(s.handleSummaryXLSX))
		mux.Handle("POST /incident-filters", s.page(s.handleFilterSave))
		mux.Handle("POST /incident-filters/{id}/delete", s.page(s.handleFilterDelete))
		mux.Handle("POST /incident-filters/{id}/rename", s.page(s.handleFilterRename))
	})
}

const (
	tplSummary       = "incident_summary.html"
	tplSummaryForm05 = "incident_form05.html"
)

// summaryForm is the summary's choice as it stands in the URL.
type summaryForm struct {
	Year, Half, Org, Province string
}

func parseSummaryForm(r *http.Request, now time.Time) summaryForm {
	q := r.URL.Query()
	f := summaryForm{Year: strings.TrimSpace(q.Get("year")), Half: strings.TrimSpace(q.Get("half")),
		Org: strings.TrimSpace(q.Get("org")), Province: strings.TrimSpace(q.Get("province"))}
	if f.Year == "" {
		f.Year = strconv.Itoa(now.In(i18n.Zone).Year())
	}
	return f
}

func (f summaryForm) values() url.Values {
	v := url.Values{"year": {f.Year}}
	for k, x := range map[string]string{"half": f.Half, "org": f.Org, "province": f.Province} {
		if x != "" && x != "0" {
			v.Set(k, x)
		}
	}
	return v
}

// filter reads the form; errs.Invalid names what does not read.
func (f summaryForm) filter() (incident.SummaryFilter, error) {
	var sf incident.SummaryFilter
	v := errs.Invalid("web: summary")
	var err error
	if sf.Year, err = strconv.Atoi(f.Year); err != nil {
		v.Field("year", "incforms.err.year")
	}
	if f.Half != "" {
		if sf.Half, err = strconv.Atoi(f.Half); err != nil {
			v.Field("half", "field.invalid_choice")
		}
	}
	if f.Org != "" {
		if sf.OrgID, err = strconv.ParseInt(f.Org, 10, 64); err != nil || sf.OrgID <= 0 {
			v.Field("org", "field.invalid")
		}
	}
	sf.ProvinceCode = f.Province
	return sf, v.OrNil()
}

// summaryRowView is a row of the summary with its type's name.
type summaryRowView struct {
	incident.SummaryRow
	Label string
}

type summaryView struct {
	Base
	F         summaryForm
	Sum       incident.Summary
	Rows      []summaryRowView
	Halves    []option
	Orgs      []option
	Provinces []option
	Chart     template.HTML
	Period    string
	// Hrefs of the same choice: the page, the printable form, downloads.
	PageHref, PrintHref, CSVHref, XLSXHref string
	// TLP labels the summary (counts of members' incidents, shared inside
	// the network).
	TLP policy.TLP
	// OK: the summary was computed (the form may be refused).
	OK bool
}

// periodLabel names the period: "6 tháng đầu năm 2026", "năm 2026", or
// the dates.
func (b Base) periodLabel(sum incident.Summary) string {
	if sum.Year != 0 {
		return b.T("incforms.period."+strconv.Itoa(sum.Half), sum.Year)
	}
	return b.T("incforms.period.dates", i18n.FormatDate(sum.From), i18n.FormatDate(sum.To.Add(-time.Nanosecond)))
}

// summary computes the summary of the request's choice into a view.
func (s *Server) summary(r *http.Request, titleKey string) (summaryView, error) {
	wh := whoFrom(r)
	f := parseSummaryForm(r, s.Now())
	q := "?" + f.values().Encode()
	v := summaryView{Base: s.base(r, titleKey), F: f, TLP: policy.TLPAmber, PageHref: "/incidents/summary" + q,
		PrintHref: "/incidents/summary/form05" + q, CSVHref: "/incidents/summary.csv" + q, XLSXHref: "/incidents/summary.xlsx" + q}
	for _, h := range []int{incident.WholeYear, incident.FirstHalf, incident.SecondHalf} {
		hs := strconv.Itoa(h)
		v.Halves = append(v.Halves, option{Value: hs, Label: v.T("incforms.half." + hs),
			Selected: hs == f.Half || (h == 0 && f.Half == "")})
	}
	if orgs, _, err := s.Orgs.List(r.Context(), wh.Actor, org.ListFilter{Sort: "name", Limit: 1000}); err == nil {
		for _, o := range orgs {
			if wh.Actor.Scope.Contains(o.ID) {
				v.Orgs = append(v.Orgs, option{Value: itoa(o.ID), Label: o.Name, Selected: itoa(o.ID) == f.Org})
			}
		}
	}
	v.Provinces = s.provinceOptions(r, strings.ToUpper(f.Province))
	sf, err := f.filter()
	if err == nil {
		v.Sum, err = s.Incidents.Summary(r.Context(), wh.Actor, sf)
	}
	if err != nil {
		return v, err
	}
	v.OK = true
	v.Period = v.periodLabel(v.Sum)
	bars := make([]Bar, 0, len(v.Sum.Rows))
	for _, row := range v.Sum.Rows {
		rv := summaryRowView{SummaryRow: row, Label: v.T(row.Type.LabelKey())}
		v.Rows = append(v.Rows, rv)
		bars = append(bars, Bar{Label: rv.Label, Value: row.Count})
	}
	v.Chart = barChart(v.T("incforms.chart"), bars)
	return v, nil
}

func (s *Server) handleSummary(w http.ResponseWriter, r *http.Request) {
	v, err := s.summary(r, "incforms.summary")
	if err != nil {
		if !errs.Is(err, errs.KindInvalid) {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplSummary, v)
		return
	}
	s.render(w, r, http.StatusOK, tplSummary, v)
}

func (s *Server) handleSummaryForm05(w http.ResponseWriter, r *http.Request) {
	v, err := s.summary(r, "incforms.form05")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplSummaryForm05, v)
}

// summaryRows is the summary as a table, header first, in the user's
// language, with the period, the organisation and the TLP label above it.
func (s *Server) summaryRows(r *http.Request) ([][]string, error) {
	v, err := s.summary(r, "incforms.form05")
	if err != nil {
		return nil, err
	}
	l := whoFrom(r).Lang
	org := v.Sum.OrgName
	if v.Sum.OrgCode != "" {
		org += " (" + v.Sum.OrgCode + ")"
	}
	out := [][]string{
		{t(l, "incforms.form05_heading")},
		{t(l, "incforms.f.period"), v.Period},
		{t(l, "incforms.f.reporter"), org},
		{"TLP", v.TLP.Label()},
		{t(l, "incforms.col.no"), t(l, "incidents.col.type"), t(l, "incforms.col.count"), t(l, "incforms.col.in_house"),
			t(l, "incforms.col.domestic_help"), t(l, "incforms.col.foreign_help"), t(l, "incforms.col.coordinator"),
			t(l, "incforms.col.damage"), t(l, "incforms.col.damage_count")},
	}
	line := func(no, label string, row incident.SummaryRow) []string {
		return []string{no, label, strconv.Itoa(row.Count), strconv.Itoa(row.InHouse), strconv.Itoa(row.DomesticHelp),
			strconv.Itoa(row.ForeignHelp), strconv.Itoa(row.CoordinatorAsked), strconv.FormatInt(row.DamageVND, 10),
			strconv.Itoa(row.DamageCount)}
	}
	for i, row := range v.Rows {
		out = append(out, line(strconv.Itoa(i+1), row.Label, row.SummaryRow))
	}
	out = append(out, line("", t(l, "incforms.total"), v.Sum.Total))
	out = append(out, []string{}, []string{t(l, "incforms.f.helpers"), t(l, "incforms.col.helped"), t(l, "incforms.col.cost")})
	for _, h := range v.Sum.Helpers {
		out = append(out, []string{h.OrgName, strconv.Itoa(h.Incidents), strconv.FormatInt(h.CostVND, 10)})
	}
	if v.Sum.OtherHelpers > 0 {
		out = append(out, []string{t(l, "incforms.other_helpers", v.Sum.OtherHelpers)})
	}
	return out, nil
}

func (s *Server) handleSummaryCSV(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "csv", "certnet-form05", "incforms.form05", s.summaryRows)
}

func (s *Server) handleSummaryXLSX(w http.ResponseWriter, r *http.Request) {
	s.exportTable(w, r, "xlsx", "certnet-form05", "incforms.form05", s.summaryRows)
}
