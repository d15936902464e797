package web

import (
	"net/http"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/org"
)

// handleRangeAdd adds a range, an AS number or a domain from one field: the
// value says which it is.
func (s *Server) handleRangeAdd(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	value, note := strings.TrimSpace(r.PostFormValue("value")), strings.TrimSpace(r.PostFormValue("note"))
	cv, err := org.ParseConstituencyValue(value)
	if err == nil {
		switch cv.Kind {
		case org.KindCIDR:
			_, err = s.Orgs.AddRange(r.Context(), a, id, cv.Prefix.String(), note)
		case org.KindASN:
			_, err = s.Orgs.AddASN(r.Context(), a, id, cv.String(), note)
		default:
			_, err = s.Orgs.AddDomain(r.Context(), a, id, cv.Domain, note)
		}
	}
	if err == nil {
		s.redirect(w, r, "/orgs/"+itoa(id)+"#ranges", "orgs.flash.range_added")
		return
	}
	if !formProblem(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, perr := s.orgPage(r, id)
	if perr != nil {
		s.renderError(w, r, perr, "")
		return
	}
	v.RangeForm = v.rangeForm(value, note, err)
	s.render(w, r, statusOf[errs.KindOf(err)], tplOrg, v)
}

func (s *Server) handleDeleteRange(w http.ResponseWriter, r *http.Request) {
	s.deleteConstituency(w, r, org.KindCIDR)
}

func (s *Server) handleDeleteASN(w http.ResponseWriter, r *http.Request) {
	s.deleteConstituency(w, r, org.KindASN)
}

func (s *Server) handleDeleteDomain(w http.ResponseWriter, r *http.Request) {
	s.deleteConstituency(w, r, org.KindDomain)
}

// deleteConstituency removes a range, an AS number or a domain.
func (s *Server) deleteConstituency(w http.ResponseWriter, r *http.Request, kind string) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	rid, err := intParam(r, "rid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	a := whoFrom(r).Actor
	switch kind {
	case org.KindCIDR:
		err = s.Orgs.DeleteRange(r.Context(), a, id, rid)
	case org.KindASN:
		err = s.Orgs.DeleteASN(r.Context(), a, id, rid)
	default:
		err = s.Orgs.DeleteDomain(r.Context(), a, id, rid)
	}
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/orgs/"+itoa(id)+"#ranges", "orgs.flash.range_deleted")
}
