package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/auth"
	"certnet/internal/policy"
)

// sessionRow is a browser session as the people pages list it.
type sessionRow struct {
	auth.Session
	Current bool   // the session this page is shown on
	Agent   string // the browser, shortened
}

func sessionRows(list []auth.Session, current string) []sessionRow {
	out := make([]sessionRow, 0, len(list))
	for _, se := range list {
		agent := se.UserAgent
		if utf8.RuneCountInString(agent) > 90 {
			agent = string([]rune(agent)[:89]) + "…"
		}
		out = append(out, sessionRow{Session: se, Current: se.IDHash == current, Agent: agent})
	}
	return out
}

// tokenRow is an API token as listed, with its state at the time of the
// page.
type tokenRow struct {
	auth.Token
	State string // "active", "expired" or "revoked"
}

func tokenRows(list []auth.Token, now time.Time) []tokenRow {
	out := make([]tokenRow, 0, len(list))
	for _, t := range list {
		st := "active"
		switch {
		case !t.RevokedAt.IsZero():
			st = "revoked"
		case !now.Before(t.ExpiresAt):
			st = "expired"
		}
		out = append(out, tokenRow{Token: t, State: st})
	}
	return out
}

// generatePassword makes a first or reset password to hand over: 24
// base32 characters (120 bits) in groups of four, easy to read out.
func generatePassword() string {
	txt := rand.Text()[:24]
	parts := make([]string, 0, 6)
	for i := 0; i < len(txt); i += 4 {
		parts = append(parts, txt[i:i+4])
	}
	return strings.Join(parts, "-")
}

type userView struct {
	Base
	TLP      policy.TLP
	User     auth.User
	OrgName  string
	Sessions []sessionRow
	Tokens   []tokenRow
	// Edit form.
	Form  userForm
	Orgs  []peopleOrg
	Roles []policy.Role
	Langs []peopleLang
	// CanWrite: the actor administers this user; Self: it is the actor.
	CanWrite bool
	Self     bool
	// NewPassword is a generated password, shown on this page only.
	NewPassword string
}

// userView gathers everything the user page shows.
func (s *Server) userView(r *http.Request, id int64) (userView, error) {
	wh := whoFrom(r)
	ctx := r.Context()
	u, err := s.Auth.GetUser(ctx, wh.Actor, id)
	if err != nil {
		return userView{}, err
	}
	sessions, err := s.Auth.Sessions(ctx, wh.Actor, id)
	if err != nil {
		return userView{}, err
	}
	tokens, err := s.Auth.ListTokens(ctx, wh.Actor, id)
	if err != nil {
		return userView{}, err
	}
	v := userView{Base: s.base(r, ""), TLP: policy.TLPAmber, User: u, OrgName: s.orgNamer(r).label(u.OrgID),
		Sessions: sessionRows(sessions, wh.Session.IDHash), Tokens: tokenRows(tokens, s.Now()),
		Form: userFormOf(u), Roles: policy.Roles, Langs: peopleLangs, Self: u.ID == wh.User.ID}
	v.Title = u.Username
	v.CanWrite = v.Can(string(policy.UserWrite), u.OrgID, policy.TLPAmber)
	if v.CanWrite {
		v.Orgs = s.peopleOrgs(r, policy.UserWrite)
		if !containsPeopleOrg(v.Orgs, u.OrgID) {
			v.Orgs = append([]peopleOrg{{ID: u.OrgID, Name: v.OrgName}}, v.Orgs...)
		}
	}
	return v, nil
}

func containsPeopleOrg(list []peopleOrg, id int64) bool {
	for _, o := range list {
		if o.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.userView(r, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplUser, v)
}

// userFailed shows the user page again with err next to the form that
// caused it, keeping what was typed in the edit form (f, when not nil);
// other errors get the error page.
func (s *Server) userFailed(w http.ResponseWriter, r *http.Request, id int64, err error, f *userForm) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.userView(r, id)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	if f != nil {
		f.Username = v.User.Username
		v.Form = *f
	}
	v.formErrors(err)
	s.render(w, r, formStatus(err), tplUser, v)
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := parseUserForm(r)
	_, err = s.Auth.UpdateUser(r.Context(), whoFrom(r).Actor, id, auth.UserInput{OrgID: f.OrgID,
		DisplayName: f.DisplayName, Email: f.Email, Locale: f.Locale, Roles: f.Roles})
	if err != nil {
		s.userFailed(w, r, id, err, &f)
		return
	}
	s.redirect(w, r, "/users/"+itoa(id), "users.flash.updated")
}

// userAction runs a POST on a user that needs nothing but the id and, on
// success, goes back to the user page with a flash.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, flashKey string,
	do func(ctx context.Context, a policy.Actor, id int64) error) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if err := do(r.Context(), whoFrom(r).Actor, id); err != nil {
		s.userFailed(w, r, id, err, nil)
		return
	}
	s.redirect(w, r, "/users/"+itoa(id), flashKey)
}

func (s *Server) handleUserDisable(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "users.flash.disabled", func(ctx context.Context, a policy.Actor, id int64) error {
		return s.Auth.SetDisabled(ctx, a, id, true)
	})
}

func (s *Server) handleUserEnable(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "users.flash.enabled", func(ctx context.Context, a policy.Actor, id int64) error {
		return s.Auth.SetDisabled(ctx, a, id, false)
	})
}

// handleUserTOTPDisable switches off the second factor of someone who lost
// their authenticator; they set up a new one after their next sign-in.
func (s *Server) handleUserTOTPDisable(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "users.flash.totp_disabled", func(ctx context.Context, a policy.Actor, id int64) error {
		return s.Auth.DisableTOTP(ctx, a, id, "")
	})
}

// handleUserPassword is an administrator's reset of someone's password:
// typed, or generated and shown on the answer only.
func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	generate := r.PostFormValue("generate") == "1"
	password := r.PostFormValue("password")
	if generate {
		password = generatePassword()
	}
	if err := s.Auth.SetPassword(r.Context(), whoFrom(r).Actor, id, "", password); err != nil {
		s.userFailed(w, r, id, err, nil)
		return
	}
	if !generate {
		s.redirect(w, r, "/users/"+itoa(id), "users.flash.password_set")
		return
	}
	v, err := s.userView(r, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.Flash = v.T("users.flash.password_set")
	v.NewPassword = password
	s.render(w, r, http.StatusOK, tplUser, v)
}

// handleUserSessionsRevoke signs a user out everywhere. Doing it to oneself
// ends this session too, so the answer is the login page.
func (s *Server) handleUserSessionsRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	wh := whoFrom(r)
	if err := s.Auth.RevokeSessions(r.Context(), wh.Actor, id); err != nil {
		s.userFailed(w, r, id, err, nil)
		return
	}
	if id == wh.User.ID {
		s.setCookie(w, r, s.sessionCookieName(r), "", -1)
		s.redirect(w, r, "/login", "users.flash.signed_out_everywhere")
		return
	}
	s.redirect(w, r, "/users/"+itoa(id)+"#sessions", "users.flash.sessions_revoked")
}
