package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

// Saved filters of the incident list: links above the list that apply a
// saved query, and the form that saves the current one.

// savedFilterRow is a saved filter as the list shows it.
type savedFilterRow struct {
	ID     int64
	Name   string
	Href   string
	Shared bool
	Mine   bool
	// Active: the list shows this filter now.
	Active bool
	// CanDelete: the owner, or an administrator of the organisation for a
	// shared one.
	CanDelete bool
}

// savedFilters fills the list view's saved filters and the query the save
// form would keep. A failure to read them leaves the list as it is.
func (s *Server) savedFilters(r *http.Request, v *incListView) {
	wh := whoFrom(r)
	v.SaveQuery = v.F.values().Encode()
	fs, err := s.Incidents.Filters(r.Context(), wh.Actor)
	if err != nil {
		return
	}
	for _, f := range fs {
		act := policy.IncidentFilterWrite
		if !f.Mine {
			act = policy.IncidentFilterManage
		}
		href := "/incidents"
		if f.Query != "" {
			href += "?" + f.Query
		}
		v.Saved = append(v.Saved, savedFilterRow{ID: f.ID, Name: f.Name, Href: href, Shared: f.Shared, Mine: f.Mine,
			Active: f.Query == v.SaveQuery, CanDelete: policy.Allowed(wh.Actor, act, f.Resource())})
	}
}

// handleFilterSave saves the list's current query under a name; a refused
// form shows the list again with what is wrong and what was typed.
func (s *Server) handleFilterSave(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	query := r.PostFormValue("query")
	f, err := s.Incidents.SaveFilter(r.Context(), wh.Actor, r.PostFormValue("name"), query, r.PostFormValue("shared") == "1")
	if err == nil {
		to := "/incidents"
		if f.Query != "" {
			to += "?" + f.Query
		}
		s.redirect(w, r, to, "incfilter.saved")
		return
	}
	if !errs.Is(err, errs.KindInvalid) {
		s.renderError(w, r, err, "")
		return
	}
	r2 := r.Clone(r.Context())
	u := *r.URL
	u.Path = "/incidents"
	u.RawQuery = query
	// A query the list cannot read is not shown again: the list would
	// answer its own error instead of the form's.
	if vals, perr := url.ParseQuery(query); perr != nil {
		u.RawQuery = ""
	} else if _, perr := incident.ParseQuery(vals); perr != nil {
		u.RawQuery = ""
	}
	r2.URL = &u
	s.incidentList(w, r2, http.StatusBadRequest, err, formVals(r.PostForm))
}

// handleFilterDelete deletes a saved filter and goes back to the list.
func (s *Server) handleFilterDelete(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err == nil {
		err = s.Incidents.DeleteFilter(r.Context(), wh.Actor, id)
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/incidents", "incfilter.deleted")
}

// handleFilterRename renames one of the user's own filters and goes back
// to the list; a refused name shows the list again with what is wrong.
func (s *Server) handleFilterRename(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	id, err := intParam(r, "id")
	if err == nil {
		_, err = s.Incidents.RenameFilter(r.Context(), wh.Actor, id, r.PostFormValue("name"))
	}
	switch {
	case err == nil:
		s.redirect(w, r, "/incidents", "incfilter.renamed")
	case errs.Is(err, errs.KindInvalid):
		r2 := r.Clone(r.Context())
		u := *r.URL
		u.Path, u.RawQuery = "/incidents", ""
		r2.URL = &u
		s.incidentList(w, r2, http.StatusBadRequest, err, nil)
	default:
		s.renderError(w, r, err, "")
	}
}

// closureFields reads the closure report's form 05 fields: how the
// incident was handled, and the damage in VND (digits, with the thousands
// grouped by dots, commas or spaces as people type them; empty when not
// estimated).
func closureFields(r *http.Request, in *incident.ReportInput) error {
	in.Handling = incident.Handling(r.PostFormValue("handling"))
	in.DamageNote = r.PostFormValue("damage_note")
	d := strings.NewReplacer(".", "", ",", "", " ", "", "\u00a0", "").Replace(strings.TrimSpace(r.PostFormValue("damage_vnd")))
	if d == "" {
		return nil
	}
	n, err := strconv.ParseInt(d, 10, 64)
	if err != nil || n < 0 {
		return errs.Invalid("web: closure report").Field("damage_vnd", "incforms.err.damage")
	}
	in.DamageVND = &n
	return nil
}
