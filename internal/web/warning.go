package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/warning"
)

const (
	tplWarnings        = "warnings.html"
	tplWarning         = "warning.html"
	tplWarningSettings = "warning_settings.html"
	tplWatch           = "watch.html"
)

// watchRefresh is how often the 24/7 view reloads itself (the Refresh
// header: no script).
const watchRefresh = "15"

type warningsView struct {
	Base
	warnFmt
	Filter    warning.Filter
	Warnings  []warning.Warning
	States    []string
	Kinds     []string
	Subjects  []string
	CanManage bool
	CanSet    bool
}

// warnFmt formats the warning pages' figures; embedded in their views.
type warnFmt struct{ lang i18n.Lang }

// N formats a count.
func (f warnFmt) N(n int64) string { return i18n.FormatInt(f.lang, n) }

// WarningTitle names a warning's subject in the page's language.
func (f warnFmt) WarningTitle(w warning.Warning) string { return warning.SubjectText(f.lang, w) }

// Baseline shows a rate warning's baseline.
func (f warnFmt) Baseline(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func (s *Server) handleWarnings(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	q := r.URL.Query()
	f := warning.Filter{State: q.Get("state"), Kind: q.Get("kind"), Subject: q.Get("subject"), Q: q.Get("q")}
	if f.State == "" && !q.Has("state") {
		f.State = warning.StateActive
	}
	if f.State == "all" {
		f.State = ""
	}
	b := s.base(r, "warning.list.title")
	v := warningsView{Base: b, warnFmt: warnFmt{b.Lang}, Filter: f, States: append([]string{warning.StateActive}, warning.States...),
		Kinds: warning.Kinds, Subjects: warning.Subjects, CanManage: warning.CanManage(a), CanSet: warning.CanSettings(a)}
	list, err := s.Warning.List(r.Context(), a, f)
	if err != nil {
		if errs.KindOf(err) != errs.KindInvalid {
			s.renderError(w, r, err, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplWarnings, v)
		return
	}
	v.Warnings = list
	s.render(w, r, http.StatusOK, tplWarnings, v)
}

type warningView struct {
	Base
	warnFmt
	W         warning.Warning
	CanManage bool
	Note      string
}

func (s *Server) warningView(r *http.Request) (warningView, error) {
	a := whoFrom(r).Actor
	id, err := intParam(r, "id")
	if err != nil {
		return warningView{}, err
	}
	wr, err := s.Warning.Get(r.Context(), a, id)
	if err != nil {
		return warningView{}, err
	}
	b := s.base(r, "")
	v := warningView{Base: b, warnFmt: warnFmt{b.Lang}, W: wr, CanManage: warning.CanManage(a)}
	v.Title = v.T("warning.title", wr.ID)
	return v, nil
}

func (s *Server) handleWarning(w http.ResponseWriter, r *http.Request) {
	v, err := s.warningView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplWarning, v)
}

func (s *Server) warningChange(w http.ResponseWriter, r *http.Request, ack bool) {
	a := whoFrom(r).Actor
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	note := r.PostFormValue("note")
	if ack {
		_, err = s.Warning.Acknowledge(r.Context(), a, id, note)
	} else {
		_, err = s.Warning.Close(r.Context(), a, id, note)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.warningView(r)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.Note = note
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplWarning, v)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/warnings/%d", id), http.StatusSeeOther)
}

func (s *Server) handleWarningAck(w http.ResponseWriter, r *http.Request) {
	s.warningChange(w, r, true)
}
func (s *Server) handleWarningClose(w http.ResponseWriter, r *http.Request) {
	s.warningChange(w, r, false)
}

// handleWarningAdvisory makes the advisory draft and opens it.
func (s *Server) handleWarningAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	adv, err := s.Warning.ToAdvisory(r.Context(), whoFrom(r).Actor, id)
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.warningView(r)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplWarning, v)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/advisories/%d", adv.ID), http.StatusSeeOther)
}

type warningSettingsView struct {
	Base
	Form   map[string]string
	CanSet bool
}

// Val is a field's value as shown.
func (v warningSettingsView) Val(name string) string { return v.Form[name] }

func settingsForm(st warning.Settings) map[string]string {
	return map[string]string{
		"min_orgs": strconv.Itoa(st.MinOrgs), "min_provinces": strconv.Itoa(st.MinProvinces),
		"window_minutes": strconv.Itoa(st.WindowMinutes), "rate_factor": strconv.FormatFloat(st.RateFactor, 'f', -1, 64),
		"rate_min_events": strconv.FormatInt(st.RateMinEvents, 10), "incident_confidence": strconv.Itoa(st.IncidentConfidence),
	}
}

func (s *Server) handleWarningSettings(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	st, err := s.Warning.Settings(r.Context(), a)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := warningSettingsView{Base: s.base(r, "warning.settings.title"), Form: settingsForm(st), CanSet: warning.CanSettings(a)}
	if r.URL.Query().Get("saved") == "1" {
		v.Flash = v.T("warning.settings.saved")
	}
	s.render(w, r, http.StatusOK, tplWarningSettings, v)
}

func (s *Server) handleWarningSettingsSave(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	form := map[string]string{}
	for _, k := range []string{"min_orgs", "min_provinces", "window_minutes", "rate_factor", "rate_min_events", "incident_confidence"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	bad := errs.Invalid("web: warning settings")
	atoi := func(k string) int {
		n, err := strconv.Atoi(form[k])
		if err != nil {
			bad.Field(k, "warning.err.number")
		}
		return n
	}
	st := warning.Settings{MinOrgs: atoi("min_orgs"), MinProvinces: atoi("min_provinces"), WindowMinutes: atoi("window_minutes"),
		IncidentConfidence: atoi("incident_confidence")}
	var err error
	if st.RateMinEvents, err = strconv.ParseInt(form["rate_min_events"], 10, 64); err != nil {
		bad.Field("rate_min_events", "warning.err.number")
	}
	if st.RateFactor, err = strconv.ParseFloat(strings.ReplaceAll(form["rate_factor"], ",", "."), 64); err != nil {
		bad.Field("rate_factor", "warning.err.number")
	}
	if err = bad.OrNil(); err == nil || !warning.CanSettings(a) {
		// Permission first: someone who may not change them is told so.
		_, err = s.Warning.SaveSettings(r.Context(), a, st)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v := warningSettingsView{Base: s.base(r, "warning.settings.title"), Form: form, CanSet: true}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplWarningSettings, v)
		return
	}
	http.Redirect(w, r, "/warnings/settings?saved=1", http.StatusSeeOther)
}

type dutyView struct {
	Base
	warnFmt
	W       warning.Watch
	Map     template.HTML
	Sources []sourceRow
}

// Rate shows a per-second figure.
func (v dutyView) Rate(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// Table is the sources' health table.
func (v dutyView) Table() ingestTable { return ingestTable{V: v.Base, Rows: v.Sources, ShowOrg: true} }

// handleWatch is the duty officer's 24/7 view of their scope.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	fig, err := s.Warning.Watch(r.Context(), a)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	b := s.base(r, "watch.title")
	v := dutyView{Base: b, warnFmt: warnFmt{b.Lang}, W: fig, Sources: s.sourceRows(r, fig.Sources)}
	if provs, err := s.Orgs.Provinces(r.Context()); err == nil {
		var tiles []Tile
		for _, p := range provs {
			if p.Map != nil {
				tiles = append(tiles, Tile{Col: p.Map.Col, Row: p.Map.Row, Label: p.Name, Value: int(fig.Provinces[p.Code]),
					Href: "/orgs?province=" + url.QueryEscape(p.Code)})
			}
		}
		v.Map = tileMap(v.T("watch.map"), tiles)
	}
	w.Header().Set("Refresh", watchRefresh)
	s.render(w, r, http.StatusOK, tplWatch, v)
}
