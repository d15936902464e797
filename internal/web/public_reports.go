package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

// The public report page (no login: citizens and organisations outside the
// network) and the triage queue of the national coordinator and the
// response units.

const (
	tplPublicForm    = "public_report_form.html"
	tplPublicThanks  = "public_report_thanks.html"
	tplPublicList    = "public_reports.html"
	tplPublicItem    = "public_report.html"
	tplPublicConvert = "public_report_convert.html"
)

type publicFormView struct {
	Base
	F     formVals
	Types []option
}

func (s *Server) publicFormView(r *http.Request, f formVals) publicFormView {
	v := publicFormView{Base: s.base(r, "public.title"), F: f}
	v.Types = append([]option{{Value: "", Label: v.T("public.type_unknown")}},
		incOptions(v.Base, incident.Types, incident.Type.LabelKey, f.Get("type_guess"))...)
	return v
}

func (s *Server) handlePublicForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, tplPublicForm, s.publicFormView(r, formVals{}))
}

type publicThanksView struct {
	Base
	Ref string
}

func (s *Server) handlePublicSubmit(w http.ResponseWriter, r *http.Request) {
	if s.Public == nil {
		s.renderError(w, r, errs.NotFound("web: public report"), "")
		return
	}
	f := r.PostForm
	in := incident.PublicInput{Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone"),
		Organisation: f.Get("organisation"), Description: f.Get("description"), Addresses: f.Get("addresses"),
		TypeGuess: incident.Type(f.Get("type_guess")), Honeypot: f.Get("website"), ClientAddress: s.clientIP(r)}
	var bad string
	if d := strings.TrimSpace(f.Get("happened_at")); d != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", d, i18n.Zone)
		if err != nil {
			bad = "incidents.err.time"
		}
		in.HappenedAt = t
	}
	var ref string
	var err error
	if bad == "" {
		ref, err = s.Public.Submit(r.Context(), in)
	} else {
		err = errs.Invalid("web: public report").Field("happened_at", bad)
	}
	switch {
	case err == nil:
		v := publicThanksView{Base: s.base(r, "public.thanks_title"), Ref: ref}
		s.render(w, r, http.StatusOK, tplPublicThanks, v)
	case errs.Is(err, errs.KindInvalid):
		v := s.publicFormView(r, formVals(f))
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplPublicForm, v)
	case errs.Is(err, errs.KindTooMany):
		// The counters run per clock hour.
		now := s.Now()
		w.Header().Set("Retry-After", strconv.Itoa(int(now.Truncate(time.Hour).Add(time.Hour).Sub(now)/time.Second)+1))
		s.renderError(w, r, err, "public.err.too_many")
	default:
		s.renderError(w, r, err, "")
	}
}

type publicListView struct {
	Base
	Status   string
	Statuses []option
	Reports  []incident.PublicReport
	Routes   map[int64]string
}

var publicStatuses = []string{incident.PublicNew, incident.PublicConverted, incident.PublicDismissed}

func (s *Server) handlePublicList(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	status := r.URL.Query().Get("status")
	if status != "" && status != "all" && !slices.Contains(publicStatuses, status) {
		status = incident.PublicNew
	}
	if status == "" {
		status = incident.PublicNew
	}
	v := publicListView{Base: s.base(r, "public.queue_title"), Status: status, Routes: map[int64]string{}}
	for _, st := range append(publicStatuses, "all") {
		v.Statuses = append(v.Statuses, option{Value: st, Label: v.T("public.status." + st), Selected: st == status})
	}
	if s.Public != nil {
		f := incident.PublicFilter{Status: status}
		if status == "all" {
			f.Status = ""
		}
		list, err := s.Public.List(r.Context(), wh.Actor, f)
		if err != nil {
			s.renderError(w, r, err, "")
			return
		}
		v.Reports = list
		names := s.orgNamer(r)
		for _, p := range list {
			if p.RouteOrgID != 0 {
				v.Routes[p.RouteOrgID] = names.name(p.RouteOrgID)
			}
		}
	}
	s.render(w, r, http.StatusOK, tplPublicList, v)
}

type publicItemView struct {
	Base
	R         incident.PublicReport
	Route     string
	MayTriage bool
	Reasons   []option
}

func (s *Server) publicItem(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	wh := whoFrom(r)
	if s.Public == nil {
		s.renderError(w, r, errs.NotFound("web: public report"), "")
		return
	}
	rep, err := s.Public.Get(r.Context(), wh.Actor, r.PathValue("ref"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := publicItemView{Base: s.base(r, ""), R: rep}
	v.Title = rep.Ref
	if rep.RouteOrgID != 0 {
		v.Route = s.orgNamer(r).name(rep.RouteOrgID)
	}
	v.MayTriage = rep.Status == incident.PublicNew && s.Public.Allowed(r.Context(), wh.Actor, policy.PublicReportTriage, rep)
	for _, reason := range incident.DismissReasons {
		v.Reasons = append(v.Reasons, option{Value: reason, Label: v.T("public.reason." + reason),
			Selected: r.PostFormValue("reason") == reason})
	}
	if formErr != nil {
		v.formErrors(formErr)
	}
	s.render(w, r, status, tplPublicItem, v)
}

func (s *Server) handlePublicItem(w http.ResponseWriter, r *http.Request) {
	s.publicItem(w, r, http.StatusOK, nil)
}

func (s *Server) handlePublicDismiss(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Public == nil {
		s.renderError(w, r, errs.NotFound("web: public report"), "")
		return
	}
	_, err := s.Public.Dismiss(r.Context(), wh.Actor, r.PathValue("ref"), r.PostFormValue("reason"), r.PostFormValue("duplicate_of"))
	if err == nil {
		s.redirect(w, r, "/public-reports/"+url.PathEscape(r.PathValue("ref")), "public.flash.dismissed")
		return
	}
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		s.publicItem(w, r, http.StatusBadRequest, err)
		return
	case errs.KindConflict:
		s.publicItem(w, r, http.StatusConflict, err)
		return
	}
	s.renderError(w, r, err, "")
}

// publicConvertView is the incident form's choices (incFormView) with
// the report being converted.
type publicConvertView struct {
	incFormView
	R incident.PublicReport
}

func draftForm(in incident.Input) formVals {
	return formVals{"title": {in.Title}, "description": {in.Description}, "type": {string(in.Type)},
		"severity": {string(in.Severity)}, "tlp": {string(in.TLP)}, "affected_org_id": {itoa(in.AffectedOrgID)},
		"system.name": {in.System.Name}, "detected_at": {in.DetectedAt.In(i18n.Zone).Format("2006-01-02T15:04")}}
}

func (s *Server) convertView(r *http.Request, rep incident.PublicReport, f formVals) publicConvertView {
	v := publicConvertView{incFormView: s.incFormView(r, f), R: rep}
	v.Title = v.T("public.convert_title")
	return v
}

func (s *Server) handlePublicConvertForm(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Public == nil {
		s.renderError(w, r, errs.NotFound("web: public report"), "")
		return
	}
	in, rep, err := s.Public.Draft(r.Context(), wh.Actor, r.PathValue("ref"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if rep.Status != incident.PublicNew {
		s.renderError(w, r, errs.Conflict("web: public report", "public.err.triaged"), "")
		return
	}
	s.render(w, r, http.StatusOK, tplPublicConvert, s.convertView(r, rep, draftForm(in)))
}

func (s *Server) handlePublicConvert(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if s.Public == nil {
		s.renderError(w, r, errs.NotFound("web: public report"), "")
		return
	}
	in, rep, err := s.Public.Draft(r.Context(), wh.Actor, r.PathValue("ref"))
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := r.PostForm
	in.Title, in.Description = f.Get("title"), f.Get("description")
	in.Type, in.Severity, in.TLP = incident.Type(f.Get("type")), incident.Severity(f.Get("severity")), policy.TLP(f.Get("tlp"))
	in.AffectedOrgID, in.System.Name = formID(f.Get("affected_org_id")), f.Get("system.name")
	bad := map[string]string{}
	if d := strings.TrimSpace(f.Get("detected_at")); d != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", d, i18n.Zone)
		if err != nil {
			bad["detected_at"] = "incidents.err.time"
		}
		in.DetectedAt = t
	}
	_, inc, err := s.Public.Convert(r.Context(), wh.Actor, rep.Ref, in)
	if err == nil {
		s.redirect(w, r, "/incidents/"+url.PathEscape(inc.Ref), "public.flash.converted")
		return
	}
	if k := errs.KindOf(err); k != errs.KindInvalid && k != errs.KindConflict {
		s.renderError(w, r, err, "")
		return
	}
	v := s.convertView(r, rep, formVals(f))
	v.formErrors(err)
	if len(bad) > 0 && v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for k, m := range bad {
		v.Errors[k] = v.T(m)
	}
	status := http.StatusBadRequest
	if errs.Is(err, errs.KindConflict) {
		status = http.StatusConflict
	}
	s.render(w, r, status, tplPublicConvert, v)
}

// TLPAmber is the label of every public report (personal data of the
// reporter inside).
func (b Base) TLPAmber() policy.TLP { return policy.TLPAmber }

func init() { addNeeds(publicNeeds) }

// publicNeeds says how many public reports wait for the user's triage.
func publicNeeds(s *Server, r *http.Request, wh *who) []need {
	// Who may not triage a report of their own organisation triages none
	// (the policy's roles): no query for them.
	if s.Public == nil || !policy.Allowed(wh.Actor, policy.PublicReportTriage, policy.Resource{OwnerOrg: wh.Actor.OrgID, TLP: policy.TLPAmber}) {
		return nil
	}
	n, err := s.Public.Waiting(r.Context(), wh.Actor)
	if err != nil || n == 0 {
		return nil
	}
	return []need{{Text: i18n.T(wh.Lang, "public.need", n), Href: "/public-reports?status=new"}}
}
