package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/ingest"
	"certnet/internal/org"
)

const (
	tplIngestSources = "ingest_sources.html"
	tplOrgIngest     = "ingest_org.html"
)

// sourceRow is a source as the pages show it.
type sourceRow struct {
	ingest.Source
	OrgName string
	Lag     time.Duration
}

// LagText is the pipeline's lag on the source, in minutes or seconds.
func (r sourceRow) LagText() string {
	if r.Lag <= 0 {
		return "0"
	}
	return r.Lag.Round(time.Second).String()
}

// ErrorPct is the share of refused lines, in percent with one decimal.
func (r sourceRow) ErrorPct() string {
	return strconv.FormatFloat(r.Health.ErrorRate*100, 'f', 1, 64)
}

// StateClass is the CSS class of the source's state.
func (r sourceRow) StateClass() string {
	switch r.Health.State {
	case "ok":
		return "status-ok"
	case "never", "idle", "disabled":
		return "muted"
	}
	return "status-warn"
}

type ingestSourcesView struct {
	Base
	Sources []sourceRow
}

type orgIngestView struct {
	Base
	Org       org.Org
	Sources   []sourceRow
	CanManage bool
	Form      ingestForm
	// NewToken is a token just issued (a new source or a rotation), shown
	// on this answer only, for NewSource.
	NewToken  string
	NewSource ingest.Source
}

type ingestForm struct {
	Name  string
	Quota string
}

func (s *Server) sourceRows(r *http.Request, list []ingest.Source) []sourceRow {
	now := s.Now()
	names := map[int64]string{}
	out := make([]sourceRow, 0, len(list))
	for _, src := range list {
		name, ok := names[src.OrgID]
		if !ok {
			if o, err := s.Orgs.Get(r.Context(), whoFrom(r).Actor, src.OrgID); err == nil {
				name = o.Name
			}
			names[src.OrgID] = name
		}
		out = append(out, sourceRow{Source: src, OrgName: name, Lag: src.Lag(now)})
	}
	return out
}

// handleIngestSources lists every source in the actor's scope with its
// health.
func (s *Server) handleIngestSources(w http.ResponseWriter, r *http.Request) {
	list, err := s.Ingest.Sources(r.Context(), whoFrom(r).Actor, 0)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := ingestSourcesView{Base: s.base(r, "ingest.sources.title"), Sources: s.sourceRows(r, list)}
	s.render(w, r, http.StatusOK, tplIngestSources, v)
}

func (s *Server) ingestOrg(r *http.Request) (org.Org, error) {
	id, err := intParam(r, "id")
	if err != nil {
		return org.Org{}, err
	}
	return s.Orgs.Get(r.Context(), whoFrom(r).Actor, id)
}

func (s *Server) orgIngestView(r *http.Request, o org.Org, f ingestForm) (orgIngestView, error) {
	a := whoFrom(r).Actor
	v := orgIngestView{Base: s.base(r, "ingest.org.title"), Org: o, Form: f}
	list, err := s.Ingest.Sources(r.Context(), a, o.ID)
	if err != nil {
		return v, err
	}
	v.Sources = s.sourceRows(r, list)
	v.CanManage = ingest.CanManage(a, o.ID)
	return v, nil
}

func (s *Server) handleOrgIngest(w http.ResponseWriter, r *http.Request) {
	o, err := s.ingestOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.orgIngestView(r, o, ingestForm{})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplOrgIngest, v)
}

// handleIngestCreate adds a source and shows its token on this answer
// only.
func (s *Server) handleIngestCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.ingestOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := ingestForm{Name: strings.TrimSpace(r.PostFormValue("name")), Quota: strings.TrimSpace(r.PostFormValue("quota"))}
	in := ingest.SourceInput{OrgID: o.ID, Name: f.Name}
	var quotaErr bool
	if f.Quota != "" {
		n, err := strconv.Atoi(f.Quota)
		if err != nil || n < 1 {
			quotaErr = true
		}
		in.Quota = n
	}
	var src ingest.Source
	var tok string
	if quotaErr {
		// Permission first: someone who may not add a source is told so,
		// not that the quota is wrong.
		if !ingest.CanManage(whoFrom(r).Actor, o.ID) {
			_, _, err = s.Ingest.CreateSource(r.Context(), whoFrom(r).Actor, in)
		} else {
			err = errs.Invalid("web: source").Field("quota_per_minute", "ingest.err.quota", 100_000_000)
		}
	} else {
		src, tok, err = s.Ingest.CreateSource(r.Context(), whoFrom(r).Actor, in)
	}
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.orgIngestView(r, o, f)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplOrgIngest, v)
		return
	}
	v, err := s.orgIngestView(r, o, ingestForm{})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.NewToken, v.NewSource = tok, src
	v.Flash = v.T("ingest.created")
	s.render(w, r, http.StatusCreated, tplOrgIngest, v)
}

// ingestSource reads the organisation and the source of a route; the
// source must belong to the organisation.
func (s *Server) ingestSource(r *http.Request) (org.Org, int64, error) {
	o, err := s.ingestOrg(r)
	if err != nil {
		return o, 0, err
	}
	sid, err := intParam(r, "sid")
	if err != nil {
		return o, 0, err
	}
	src, err := s.Ingest.Source(r.Context(), whoFrom(r).Actor, sid)
	if err != nil {
		return o, 0, err
	}
	if src.OrgID != o.ID {
		return o, 0, errs.NotFound("web: source")
	}
	return o, sid, nil
}

func (s *Server) setIngestEnabled(w http.ResponseWriter, r *http.Request, enabled bool) {
	o, sid, err := s.ingestSource(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if _, err := s.Ingest.SetEnabled(r.Context(), whoFrom(r).Actor, sid, enabled); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	key := "ingest.disabled"
	if enabled {
		key = "ingest.enabled"
	}
	s.redirect(w, r, "/orgs/"+itoa(o.ID)+"/ingest", key)
}

func (s *Server) handleIngestDisable(w http.ResponseWriter, r *http.Request) {
	s.setIngestEnabled(w, r, false)
}

func (s *Server) handleIngestEnable(w http.ResponseWriter, r *http.Request) {
	s.setIngestEnabled(w, r, true)
}

// handleIngestRotate gives the source a new token, shown on this answer
// only.
func (s *Server) handleIngestRotate(w http.ResponseWriter, r *http.Request) {
	o, sid, err := s.ingestSource(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	src, tok, err := s.Ingest.Rotate(r.Context(), whoFrom(r).Actor, sid)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.orgIngestView(r, o, ingestForm{})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.NewToken, v.NewSource = tok, src
	v.Flash = v.T("ingest.rotated")
	s.render(w, r, http.StatusOK, tplOrgIngest, v)
}

// ingestTable is what the sources table template needs.
type ingestTable struct {
	V       Base
	Rows    []sourceRow
	ShowOrg bool
	Manage  bool
}

// N formats a count in the page's language.
func (d ingestTable) N(n int64) string { return i18n.FormatInt(d.V.Lang, n) }

// Table is the organisation's sources table.
func (v orgIngestView) Table() ingestTable {
	return ingestTable{V: v.Base, Rows: v.Sources, Manage: v.CanManage}
}

// Table is the table of every source in scope.
func (v ingestSourcesView) Table() ingestTable {
	return ingestTable{V: v.Base, Rows: v.Sources, ShowOrg: true}
}
