package web

import (
	"net/http"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/i18n"
)

type loginView struct {
	Base
	Username string
	Next     string
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if wh.LoggedIn && s.mfaState(r, wh) == mfaDone {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	v := loginView{Base: s.base(r, "login.title"), Next: safeNext(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, tplLogin, v)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	res, err := s.Auth.Login(r.Context(), username, password, s.clientIP(r), r.UserAgent())
	if err != nil {
		v := loginView{Base: s.base(r, "login.title"), Username: username, Next: next}
		v.formErrors(err)
		status := http.StatusUnauthorized
		if errs.KindOf(err) == errs.KindTooMany {
			status = http.StatusTooManyRequests
		}
		s.render(w, r, status, tplLogin, v)
		return
	}
	s.setCookie(w, r, s.sessionCookieName(r), res.SessionToken, 0)
	if res.User.Locale != "" {
		s.setCookie(w, r, cookieLang, res.User.Locale, 365*24*3600)
	}
	switch {
	case res.NeedMFA:
		http.Redirect(w, r, "/login/mfa?next="+urlQueryEscape(next), http.StatusSeeOther)
	case res.NeedEnroll:
		s.redirect(w, r, "/profile/totp", "login.flash.enroll_required")
	default:
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

type mfaView struct {
	Base
	Next string
}

func (s *Server) handleMFAForm(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if !wh.LoggedIn {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, tplMFA, mfaView{Base: s.base(r, "mfa.title"), Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) handleMFA(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if !wh.LoggedIn {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	code := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("code")), " ", "")
	if err := s.Auth.VerifyTOTP(r.Context(), wh.Token, code); err != nil {
		v := mfaView{Base: s.base(r, "mfa.title"), Next: next}
		v.formErrors(err)
		status := http.StatusUnauthorized
		if errs.KindOf(err) == errs.KindTooMany {
			status = http.StatusTooManyRequests
		}
		s.render(w, r, status, tplMFA, v)
		return
	}
	// A new token once both factors passed: whatever token existed before
	// (seen, planted) is worth nothing now.
	nt, err := s.Auth.Rotate(r.Context(), wh.Token)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.setCookie(w, r, s.sessionCookieName(r), nt, 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	if wh.LoggedIn {
		if err := s.Auth.Logout(r.Context(), wh.Token); err != nil {
			s.Log.Warn("web: logout", "err", err)
		}
	}
	s.setCookie(w, r, s.sessionCookieName(r), "", -1)
	s.redirect(w, r, "/login", "login.flash.logged_out")
}

// handleLang switches the interface language: kept in a cookie, and on the
// user's profile when signed in.
func (s *Server) handleLang(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Parse(r.PostFormValue("lang"))
	s.setCookie(w, r, cookieLang, string(lang), 365*24*3600)
	wh := whoFrom(r)
	if wh.LoggedIn {
		if err := s.Auth.SetLocale(r.Context(), wh.Actor, string(lang)); err != nil {
			s.Log.Warn("web: set locale", "err", err)
		}
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}
