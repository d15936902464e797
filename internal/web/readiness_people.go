package web

import (
	"fmt"
	"net/http"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// A person of an organisation's readiness records (issue 7 item 5): their
// fields and certificates corrected or deleted, the person deleted.

const tplReadinessPerson = "readiness_person.html"

type personView struct {
	Base
	Org      org.Org
	Person   readiness.Person
	Now      time.Time
	CanWrite bool
	IOCRoles []option
	Form     string // which form the errors are of: person, cert-new, cert-<id>, delete
	Values   map[string]string
}

// V is a value typed into the failed form, or the stored one.
func (v personView) V(form, name, stored string) string {
	if v.Form == form {
		return v.Values[name]
	}
	return stored
}

// DateValue writes a stored date for a date input.
func (personView) DateValue(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// CertForm names a certificate's form.
func (personView) CertForm(id int64) string { return fmt.Sprintf("cert-%d", id) }

func (s *Server) readinessPerson(r *http.Request) (org.Org, readiness.Person, error) {
	o, err := s.readinessOrg(r)
	if err != nil {
		return o, readiness.Person{}, err
	}
	pid, err := intParam(r, "pid")
	if err != nil {
		return o, readiness.Person{}, err
	}
	p, err := s.Readiness.Person(r.Context(), whoFrom(r).Actor, pid)
	if err == nil && p.OrgID != o.ID {
		err = errs.NotFound("web: person")
	}
	return o, p, err
}

func (s *Server) personView(r *http.Request, o org.Org, p readiness.Person) personView {
	v := personView{Base: s.base(r, "readiness.person.title"), Org: o, Person: p, Now: s.Now()}
	v.Title = p.FullName
	v.CanWrite = policy.Allowed(whoFrom(r).Actor, policy.ReadinessWrite, readiness.Resource(o.ID))
	v.IOCRoles = v.choices("readiness.ioc.", readiness.IOCRoles)
	return v
}

func (s *Server) handleReadinessPerson(w http.ResponseWriter, r *http.Request) {
	o, p, err := s.readinessPerson(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplReadinessPerson, s.personView(r, o, p))
}

// personStep runs a change from the person's page; a refusal shows the page
// again with the form's errors and what was typed.
func (s *Server) personStep(w http.ResponseWriter, r *http.Request, form func(p readiness.Person) string,
	step func(a policy.Actor, p readiness.Person) (string, string, error)) {
	o, p, err := s.readinessPerson(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	to, flash, err := step(whoFrom(r).Actor, p)
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		if fresh, ferr := s.Readiness.Person(r.Context(), whoFrom(r).Actor, p.ID); ferr == nil {
			p = fresh
		}
		v := s.personView(r, o, p)
		v.Form, v.Values = form(p), posted(r)
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplReadinessPerson, v)
		return
	}
	if to == "" {
		to = fmt.Sprintf("/orgs/%d/readiness/people/%d", o.ID, p.ID)
	}
	s.redirect(w, r, to, flash)
}

func (s *Server) handleReadinessPersonUpdate(w http.ResponseWriter, r *http.Request) {
	s.personStep(w, r, func(readiness.Person) string { return "person" }, func(a policy.Actor, p readiness.Person) (string, string, error) {
		_, err := s.Readiness.UpdatePerson(r.Context(), a, p.ID, readiness.PersonInput{FullName: r.PostFormValue("full_name"),
			Title: r.PostFormValue("title"), Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"),
			Skills: r.PostFormValue("skills"), IOCRole: r.PostFormValue("ioc_role")})
		return "", "readiness.flash.saved", err
	})
}

func (s *Server) handleReadinessPersonDelete(w http.ResponseWriter, r *http.Request) {
	s.personStep(w, r, func(readiness.Person) string { return "delete" }, func(a policy.Actor, p readiness.Person) (string, string, error) {
		err := s.Readiness.DeletePerson(r.Context(), a, p.ID)
		return fmt.Sprintf("/orgs/%d/readiness#people", p.OrgID), "readiness.flash.removed", err
	})
}

// certFromForm reads a certificate form; unreadable dates go on the error.
func certFromForm(r *http.Request) (readiness.CertificateInput, error) {
	v := errs.Invalid("web: certificate")
	in := readiness.CertificateInput{Name: r.PostFormValue("name"), Issuer: r.PostFormValue("issuer"),
		ObtainedOn: readinessDate(r, v, "obtained_on"), ExpiresOn: readinessDate(r, v, "expires_on")}
	return in, v.OrNil()
}

func (s *Server) handleReadinessPersonCertAdd(w http.ResponseWriter, r *http.Request) {
	s.personStep(w, r, func(readiness.Person) string { return "cert-new" }, func(a policy.Actor, p readiness.Person) (string, string, error) {
		in, err := certFromForm(r)
		if err != nil {
			return "", "", refusedFirst(a, policy.ReadinessWrite, p.OrgID, err)
		}
		_, err = s.Readiness.AddCertificate(r.Context(), a, p.ID, in)
		return "", "readiness.flash.saved", err
	})
}

func (s *Server) handleReadinessPersonCertUpdate(w http.ResponseWriter, r *http.Request) {
	cid, cerr := intParam(r, "cid")
	s.personStep(w, r, func(readiness.Person) string { return fmt.Sprintf("cert-%d", cid) }, func(a policy.Actor, p readiness.Person) (string, string, error) {
		if cerr != nil {
			return "", "", cerr
		}
		in, err := certFromForm(r)
		if err != nil {
			return "", "", refusedFirst(a, policy.ReadinessWrite, p.OrgID, err)
		}
		_, err = s.Readiness.UpdateCertificate(r.Context(), a, p.ID, cid, in)
		return "", "readiness.flash.saved", err
	})
}

func (s *Server) handleReadinessPersonCertDelete(w http.ResponseWriter, r *http.Request) {
	cid, cerr := intParam(r, "cid")
	s.personStep(w, r, func(readiness.Person) string { return fmt.Sprintf("cert-%d", cid) }, func(a policy.Actor, p readiness.Person) (string, string, error) {
		if cerr != nil {
			return "", "", cerr
		}
		return "", "readiness.flash.removed", s.Readiness.DeleteCertificate(r.Context(), a, p.ID, cid)
	})
}
