package web

import (
	"net/http"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/org"
)

type whoisView struct {
	Base
	Q         string
	Asked     bool
	KindLabel string
	Result    *org.WhoisResult
	Chain     []org.Org // root first
	Contacts  []org.Contact
	NotFound  string
}

// ContactKind is the label of a contact kind.
func (v whoisView) ContactKind(k string) string { return v.T("org.contact_kind." + k) }

// handleWhois answers who owns an address, a range, an AS number or a
// domain, and how to reach them now.
func (s *Server) handleWhois(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := whoFrom(r).Actor
	v := whoisView{Base: s.base(r, "whois.title"), Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	if v.Q == "" {
		s.render(w, r, http.StatusOK, tplWhois, v)
		return
	}
	v.Asked = true
	res, err := s.Orgs.Whois(ctx, a, v.Q)
	switch {
	case errs.Is(err, errs.KindInvalid):
		v.formErrors(err)
		v.FormError = ""
		s.render(w, r, http.StatusBadRequest, tplWhois, v)
		return
	case errs.Is(err, errs.KindNotFound):
		v.NotFound = v.T("org.whois.not_found", v.Q)
		s.render(w, r, http.StatusOK, tplWhois, v)
		return
	case err != nil:
		s.renderError(w, r, err, "")
		return
	}
	v.Result = &res
	v.KindLabel = v.T("org.whois.kind." + res.Kind)
	for i := len(res.Chain) - 1; i >= 0; i-- {
		v.Chain = append(v.Chain, res.Chain[i])
	}
	contacts, err := s.Orgs.Contacts(ctx, a, res.Org.ID)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		s.renderError(w, r, err, "")
		return
	}
	for _, c := range contacts {
		if c.Kind == org.ContactPrimary || c.Kind == org.ContactBackup || c.Kind == org.ContactIntake {
			v.Contacts = append(v.Contacts, c)
		}
	}
	s.render(w, r, http.StatusOK, tplWhois, v)
}
