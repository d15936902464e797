package web

import (
	"net/http"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// contactInputFrom reads a posted contact point.
func contactInputFrom(r *http.Request, id int64) org.ContactInput {
	g := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return org.ContactInput{ID: id, Kind: g("kind"), Name: g("name"), Title: g("title"), Email: g("email"),
		Phone: g("phone"), Phone247: g("phone_247"), PGPKey: g("pgp_key")}
}

// handleContactSave adds a contact point (no {cid}) or changes one.
func (s *Server) handleContactSave(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	var cid int64
	if r.PathValue("cid") != "" {
		if cid, err = intParam(r, "cid"); err != nil {
			s.renderError(w, r, err, "")
			return
		}
	}
	in := contactInputFrom(r, cid)
	_, err = s.Orgs.SaveContact(r.Context(), whoFrom(r).Actor, id, in)
	if err == nil {
		flash := "orgs.flash.contact_added"
		if cid != 0 {
			flash = "orgs.flash.contact_saved"
		}
		s.redirect(w, r, "/orgs/"+itoa(id)+"#contacts", flash)
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
	if cid == 0 {
		v.NewContact = v.contactForm(0, in, err)
	}
	for i := range v.Contacts {
		if v.Contacts[i].ID == cid {
			v.Contacts[i].Form = v.contactForm(cid, in, err)
		}
	}
	s.render(w, r, statusOf[errs.KindOf(err)], tplOrg, v)
}

func (s *Server) handleContactDelete(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	cid, err := intParam(r, "cid")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if err := s.Orgs.DeleteContact(r.Context(), whoFrom(r).Actor, id, cid); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/orgs/"+itoa(id)+"#contacts", "orgs.flash.contact_deleted")
}

// fieldChange is one field of a contact point before and after a change.
type fieldChange struct {
	Label   string
	Before  string
	After   string
	Changed bool
}

// historyEntry is one change to the contact points.
type historyEntry struct {
	At     time.Time
	Change string // create, update, delete
	Label  string
	Kind   string
	Name   string
	By     string
	ByHref string
	Fields []fieldChange
}

type contactHistoryView struct {
	Base
	Org     org.Org
	Entries []historyEntry
}

func (s *Server) handleContactHistory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := whoFrom(r).Actor
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	o, err := s.Orgs.Get(ctx, a, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	changes, err := s.Orgs.ContactHistory(ctx, a, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := contactHistoryView{Base: s.base(r, ""), Org: o}
	v.Title = v.T("orgs.history_title_of", o.Name)
	names := map[int64][2]string{}
	for _, c := range changes {
		e := historyEntry{At: c.ChangedAt, Change: c.Change, Label: v.T("orgs.change." + c.Change)}
		ref := c.After
		if ref == nil {
			ref = c.Before
		}
		if ref != nil {
			e.Kind, e.Name = v.T("org.contact_kind."+ref.Kind), ref.Name
		}
		e.Fields = contactDiff(v.Base, c.Before, c.After)
		if c.ChangedBy != 0 {
			n, ok := names[c.ChangedBy]
			if !ok {
				n = s.userName(r, c.ChangedBy)
				names[c.ChangedBy] = n
			}
			e.By, e.ByHref = n[0], n[1]
		}
		v.Entries = append(v.Entries, e)
	}
	s.render(w, r, http.StatusOK, tplContactHistory, v)
}

// userName names a user for a history line, with a link when the viewer
// may read the user; "#id" otherwise.
func (s *Server) userName(r *http.Request, id int64) [2]string {
	wh := whoFrom(r)
	u, err := s.Auth.GetUser(r.Context(), wh.Actor, id)
	if err != nil {
		return [2]string{"#" + itoa(id), ""}
	}
	name := u.Username
	if u.DisplayName != "" && u.DisplayName != u.Username {
		name = u.DisplayName + " (" + u.Username + ")"
	}
	href := ""
	if policy.Allowed(wh.Actor, policy.UserRead, u.Resource()) {
		href = "/users/" + itoa(id)
	}
	return [2]string{name, href}
}

// contactDiff lists the fields of a contact point before and after: the
// changed ones for an update, every filled one for a creation or deletion.
func contactDiff(b Base, before, after *org.Contact) []fieldChange {
	get := func(c *org.Contact) []string {
		if c == nil {
			return make([]string, 7)
		}
		kind := ""
		if c.Kind != "" {
			kind = b.T("org.contact_kind." + c.Kind)
		}
		return []string{kind, c.Name, c.Title, c.Email, c.Phone, c.Phone247, shorten(c.PGPKey, 72)}
	}
	labels := []string{"orgs.c.kind", "orgs.c.name", "orgs.c.title", "orgs.c.email", "orgs.c.phone", "orgs.c.phone_247",
		"orgs.c.pgp_key"}
	bv, av := get(before), get(after)
	var out []fieldChange
	for i, l := range labels {
		changed := bv[i] != av[i]
		if before != nil && after != nil && !changed {
			continue
		}
		if bv[i] == "" && av[i] == "" {
			continue
		}
		out = append(out, fieldChange{Label: b.T(l), Before: bv[i], After: av[i], Changed: changed})
	}
	return out
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
