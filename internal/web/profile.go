package web

import (
	"net/http"

	"certnet/internal/auth"
	"certnet/internal/errs"
)

// Templates of the user's own account.
const (
	tplProfile     = "profile.html"
	tplProfileTOTP = "profile_totp.html"
)

type profileView struct {
	Base
	User     auth.User
	Form     userForm
	Langs    []peopleLang
	Sessions []sessionRow
	Tokens   []tokenRow
	// RequireMFA: the organisation makes a second factor compulsory.
	RequireMFA bool
}

// profileView gathers the profile page; f, when not nil, replaces the
// stored values with what the user typed.
func (s *Server) profileView(r *http.Request, f *userForm) (profileView, error) {
	wh := whoFrom(r)
	ctx := r.Context()
	sessions, err := s.Auth.Sessions(ctx, wh.Actor, wh.User.ID)
	if err != nil {
		return profileView{}, err
	}
	tokens, err := s.Auth.ListTokens(ctx, wh.Actor, wh.User.ID)
	if err != nil {
		return profileView{}, err
	}
	v := profileView{Base: s.base(r, "profile.title"), User: wh.User, Form: userFormOf(wh.User), Langs: peopleLangs,
		Sessions: sessionRows(sessions, wh.Session.IDHash), Tokens: tokenRows(tokens, s.Now())}
	if f != nil {
		v.Form = *f
	}
	if req, err := s.Orgs.RequiresMFA(ctx, wh.User.OrgID); err == nil {
		v.RequireMFA = req
	}
	return v, nil
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	v, err := s.profileView(r, nil)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplProfile, v)
}

// profileFailed shows the profile again with err next to its field.
func (s *Server) profileFailed(w http.ResponseWriter, r *http.Request, err error, f *userForm) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.profileView(r, f)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplProfile, v)
}

func (s *Server) handleProfileUpdate(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	f := parseUserForm(r)
	u, err := s.Auth.UpdateUser(r.Context(), wh.Actor, wh.User.ID, auth.UserInput{DisplayName: f.DisplayName,
		Email: f.Email, Locale: f.Locale})
	if err != nil {
		s.profileFailed(w, r, err, &f)
		return
	}
	if u.Locale != "" {
		s.setCookie(w, r, cookieLang, u.Locale, 365*24*3600)
	}
	s.redirect(w, r, "/profile", "profile.flash.updated")
}

// handleProfilePassword changes one's own password: the current one, the
// new one twice. The other sessions end; this one stays.
func (s *Server) handleProfilePassword(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	current, password := r.PostFormValue("current"), r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		v := errs.Invalid("web: change password").Field("confirm", "profile.err.password_mismatch")
		if current == "" {
			v.Field("current", "field.required")
		}
		s.profileFailed(w, r, v, nil)
		return
	}
	if err := s.Auth.SetPassword(r.Context(), wh.Actor, wh.User.ID, current, password); err != nil {
		s.profileFailed(w, r, err, nil)
		return
	}
	s.redirect(w, r, "/profile", "profile.flash.password_changed")
}
