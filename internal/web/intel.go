package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/intel"
	"certnet/internal/policy"
)

const (
	tplIntelList      = "intel_indicators.html"
	tplIntelIndicator = "intel_indicator.html"
	tplIntelImport    = "intel_import.html"
	tplIntelReport    = "intel_import_report.html"
)

type intelListView struct {
	Base
	F                  intelFilterForm
	Kinds, TLPs        []option
	Statuses           []option
	Rows               []intel.Indicator
	Total              int
	Page               int
	PrevHref, NextHref string
	Filtered           bool
	Now                time.Time
	// The add form, kept on a validation error.
	In intelForm
}

type intelFilterForm struct {
	Q, Kind, TLP, Source, Status string
}

type intelForm struct {
	Value, Kind, TLP, Name, Description, Confidence, ValidUntil, Tags, KillChain string
}

const intelPageSize = 50

func (s *Server) intelList(r *http.Request, v *intelListView) error {
	q := r.URL.Query()
	v.F = intelFilterForm{Q: strings.TrimSpace(q.Get("q")), Kind: q.Get("kind"), TLP: q.Get("tlp"), Source: strings.TrimSpace(q.Get("source")), Status: q.Get("status")}
	v.Filtered = v.F != intelFilterForm{}
	v.Page = max(intQuery(r, "page"), 1)
	v.Now = s.Now()
	for _, k := range intel.Kinds {
		v.Kinds = append(v.Kinds, option{Value: string(k), Label: v.T("intel.kind." + string(k)), Selected: string(k) == v.F.Kind})
	}
	v.TLPs = tlpOptions(v.F.TLP)
	for _, st := range []string{"active", "expired", "revoked"} {
		v.Statuses = append(v.Statuses, option{Value: st, Label: v.T("intel.status." + st), Selected: st == v.F.Status})
	}
	rows, total, err := s.Intel.List(r.Context(), whoFrom(r).Actor, intel.Filter{Query: v.F.Q, Kind: intel.Kind(v.F.Kind),
		TLP: policy.TLP(v.F.TLP), Source: v.F.Source, Status: v.F.Status, Limit: intelPageSize, Offset: (v.Page - 1) * intelPageSize})
	if err != nil {
		return err
	}
	v.Rows, v.Total = rows, total
	if v.Page > 1 {
		v.PrevHref = pageHref(r, v.Page-1)
	}
	if v.Page*intelPageSize < total {
		v.NextHref = pageHref(r, v.Page+1)
	}
	return nil
}

func (s *Server) handleIntelList(w http.ResponseWriter, r *http.Request) {
	v := intelListView{Base: s.base(r, "intel.indicators.title"), In: intelForm{TLP: "AMBER"}}
	if err := s.intelList(r, &v); err != nil {
		if errs.Is(err, errs.KindInvalid) {
			v.formErrors(err)
			s.render(w, r, http.StatusBadRequest, tplIntelList, v)
			return
		}
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplIntelList, v)
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) handleIntelCreate(w http.ResponseWriter, r *http.Request) {
	a := whoFrom(r).Actor
	in := intelForm{Value: r.PostFormValue("value"), Kind: r.PostFormValue("kind"), TLP: r.PostFormValue("tlp"), Name: r.PostFormValue("name"),
		Description: r.PostFormValue("description"), Confidence: r.PostFormValue("confidence"), ValidUntil: r.PostFormValue("valid_until"),
		Tags: r.PostFormValue("tags"), KillChain: r.PostFormValue("kill_chain")}
	e := errs.Invalid("web: intel create")
	input := intel.Input{Kind: intel.Kind(in.Kind), Value: in.Value, Name: in.Name, Description: in.Description,
		TLP: policy.TLP(in.TLP), Tags: splitLines(in.Tags), KillChain: splitLines(in.KillChain)}
	if c := strings.TrimSpace(in.Confidence); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > 100 {
			e.Field("confidence", "intel.error.confidence")
		}
		input.Confidence = n
	}
	if u := strings.TrimSpace(in.ValidUntil); u != "" {
		t, err := time.ParseInLocation(time.DateOnly, u, i18n.Zone)
		if err != nil {
			e.Field("valid_until", "intel.error.date")
		}
		input.ValidUntil = t
	}
	var ind intel.Indicator
	err := e.OrNil()
	if err == nil {
		ind, err = s.Intel.Create(r.Context(), a, input)
	}
	if err != nil {
		if k := errs.KindOf(err); k == errs.KindInvalid {
			v := intelListView{Base: s.base(r, "intel.indicators.title"), In: in}
			if lerr := s.intelList(r, &v); lerr != nil {
				s.renderError(w, r, lerr, "")
				return
			}
			v.formErrors(err)
			s.render(w, r, http.StatusUnprocessableEntity, tplIntelList, v)
			return
		}
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/intel/indicators/%d", ind.ID), "intel.flash.saved")
}

type intelIndicatorView struct {
	Base
	I        intel.Indicator
	Active   bool
	CanWrite bool
	CanSight bool
	Owner    string
}

func (s *Server) handleIntelIndicator(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	ind, err := s.Intel.Get(r.Context(), a, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := intelIndicatorView{Base: s.base(r, "intel.indicator.title"), I: ind, Active: ind.Active(s.Now()),
		CanWrite: policy.Allowed(a, policy.IntelWrite, ind.Resource()),
		CanSight: intel.MaySight(a)}
	if name, err := s.Orgs.Name(r.Context(), ind.OwnerOrgID); err == nil {
		v.Owner = name
	}
	s.render(w, r, http.StatusOK, tplIntelIndicator, v)
}

func (s *Server) intelChange(w http.ResponseWriter, r *http.Request, fn func(id int64) error, flash string) {
	id, err := intParam(r, "id")
	if err == nil {
		err = fn(id)
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/intel/indicators/%d", id), flash)
}

func (s *Server) handleIntelExpire(w http.ResponseWriter, r *http.Request) {
	s.intelChange(w, r, func(id int64) error { return s.Intel.Expire(r.Context(), whoFrom(r).Actor, id) }, "intel.flash.expired")
}

func (s *Server) handleIntelRevoke(w http.ResponseWriter, r *http.Request) {
	s.intelChange(w, r, func(id int64) error { return s.Intel.Revoke(r.Context(), whoFrom(r).Actor, id) }, "intel.flash.revoked")
}

func (s *Server) handleIntelSighting(w http.ResponseWriter, r *http.Request) {
	s.intelChange(w, r, func(id int64) error {
		in := intel.SightingInput{Source: strings.TrimSpace(r.PostFormValue("source"))}
		if c := strings.TrimSpace(r.PostFormValue("count")); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 1 {
				return errs.Invalid("web: sighting").Field("count", "intel.error.count")
			}
			in.Count = n
		}
		return s.Intel.AddSighting(r.Context(), whoFrom(r).Actor, id, in)
	}, "intel.flash.sighted")
}

type intelImportView struct {
	Base
	Format, TLP string
	TLPs        []option
	Recent      []intel.ImportResult
}

func (s *Server) intelImportView(r *http.Request, format, tlp string) intelImportView {
	v := intelImportView{Base: s.base(r, "intel.import.title"), Format: format, TLP: tlp}
	if v.Format == "" {
		v.Format = "stix"
	}
	if v.TLP == "" {
		v.TLP = "AMBER"
	}
	v.TLPs = tlpOptions(v.TLP)
	v.Recent, _ = s.Intel.Imports(r.Context(), whoFrom(r).Actor, 20)
	return v
}

// tlpOptions lists every label for a select, selected marked.
func tlpOptions(selected string) []option {
	out := make([]option, 0, len(policy.TLPs))
	for _, t := range policy.TLPs {
		out = append(out, option{Value: string(t), Label: t.Label(), Selected: string(t) == selected})
	}
	return out
}

func (s *Server) mayImportIntel(w http.ResponseWriter, r *http.Request) bool {
	if err := intel.MayImport(whoFrom(r).Actor); err != nil {
		s.renderError(w, r, err, "")
		return false
	}
	return true
}

func (s *Server) handleIntelImportForm(w http.ResponseWriter, r *http.Request) {
	if !s.mayImportIntel(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, tplIntelImport, s.intelImportView(r, r.URL.Query().Get("format"), ""))
}

func (s *Server) handleIntelImport(w http.ResponseWriter, r *http.Request) {
	if !s.mayImportIntel(w, r) {
		return
	}
	v := s.intelImportView(r, r.PostFormValue("format"), r.PostFormValue("tlp"))
	e := errs.Invalid("web: intel import")
	if v.Format != "stix" && v.Format != "misp" {
		e.Field("format", "intel.error.format")
	}
	tlp, terr := policy.ParseTLP(v.TLP)
	if terr != nil {
		e.Field("tlp", "intel.error.tlp")
	}
	file, hdr, ferr := r.FormFile("file")
	if ferr != nil {
		e.Field("file", "intel.error.no_file")
	} else {
		defer file.Close()
	}
	if err := e.OrNil(); err != nil {
		v.formErrors(err)
		s.render(w, r, http.StatusBadRequest, tplIntelImport, v)
		return
	}
	opt := intel.ImportOptions{Name: hdr.Filename, DefaultTLP: tlp}
	var res intel.ImportResult
	var err error
	if v.Format == "stix" {
		res, err = s.Intel.ImportSTIX(r.Context(), whoFrom(r).Actor, file, opt)
	} else {
		res, err = s.Intel.ImportMISP(r.Context(), whoFrom(r).Actor, file, opt)
	}
	if err != nil {
		if errs.Is(err, errs.KindInvalid) {
			v.formErrors(err)
			s.render(w, r, http.StatusBadRequest, tplIntelImport, v)
			return
		}
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, fmt.Sprintf("/intel/imports/%d", res.ID), "intel.flash.imported")
}

type intelReportView struct {
	Base
	R intel.ImportResult
}

func (s *Server) handleIntelImportReport(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	res, err := s.Intel.GetImport(r.Context(), whoFrom(r).Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplIntelReport, intelReportView{Base: s.base(r, "intel.report.title"), R: res})
}

func (s *Server) handleIntelExport(w http.ResponseWriter, r *http.Request) {
	opt := intel.ExportOptions{}
	if t := r.URL.Query().Get("tlp"); t != "" {
		tlp, err := policy.ParseTLP(t)
		if err != nil {
			s.renderError(w, r, errs.Invalid("web: export").Field("tlp", "intel.error.tlp"), "intel.error.tlp")
			return
		}
		opt.MaxTLP = tlp
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.Header().Set("Content-Disposition", `attachment; filename="certnet-`+s.Now().UTC().Format("20060102")+`.stix.json"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := s.Intel.ExportSTIX(r.Context(), whoFrom(r).Actor, w, opt); err != nil {
		s.Log.Error("web: intel export", "err", err)
	}
}

func pageHref(r *http.Request, page int) string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
}
