package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/obs"
	"certnet/internal/policy"
)

// who is what the UI knows about the person behind a request.
type who struct {
	Lang     i18n.Lang
	LoggedIn bool
	Token    string
	Session  auth.Session
	User     auth.User
	Actor    policy.Actor
	// PreCSRF is the double-submit token for forms shown before login.
	PreCSRF string
}

type whoKey struct{}

func whoFrom(r *http.Request) *who {
	if w, ok := r.Context().Value(whoKey{}).(*who); ok {
		return w
	}
	return &who{Lang: i18n.VI}
}

const (
	cookieLang = "certnet_lang"
	cookiePre  = "certnet_pre"
)

// secure reports whether cookies for this request must be Secure: always,
// except for plain HTTP to a loopback address (a developer's machine).
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if s.Cfg.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

func (s *Server) sessionCookieName(r *http.Request) string {
	if s.secure(r) {
		return "__Host-certnet_session"
	}
	return "certnet_session"
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// clientIP is the caller's address; X-Forwarded-For only behind a trusted
// proxy.
func (s *Server) clientIP(r *http.Request) string {
	if s.Cfg.TrustProxy {
		if xf := r.Header.Get("X-Forwarded-For"); xf != "" {
			first, _, _ := strings.Cut(xf, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// identify loads the session (if any) and the language for every request.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh := &who{Lang: i18n.VI}
		// Vietnamese unless the person chose English (the switch sets a
		// cookie, and a signed-in user's choice is kept on their account).
		if c, err := r.Cookie(cookieLang); err == nil {
			wh.Lang = i18n.Parse(c.Value)
		}
		if c, err := r.Cookie(s.sessionCookieName(r)); err == nil && c.Value != "" {
			sess, u, err := s.Auth.Session(r.Context(), c.Value)
			if err == nil {
				actor, err := s.Auth.ActorFor(r.Context(), u, obs.RequestID(r.Context()))
				if err == nil {
					wh.LoggedIn, wh.Token, wh.Session, wh.User, wh.Actor = true, c.Value, sess, u, actor
					if u.Locale != "" {
						wh.Lang = i18n.Parse(u.Locale)
					}
				}
			}
		}
		if c, err := r.Cookie(cookiePre); err == nil && len(c.Value) == 48 {
			wh.PreCSRF = c.Value
		}
		ctx := context.WithValue(r.Context(), whoKey{}, wh)
		if wh.LoggedIn {
			// The auth service needs to know which session acts (second
			// factor passed, which session to keep on a password change).
			ctx = auth.WithSession(ctx, wh.Token)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// mfaState says what the session still owes before it may use the product.
type mfaState int

const (
	mfaDone mfaState = iota
	mfaNeedCode
	mfaNeedEnroll
)

func (s *Server) mfaState(r *http.Request, wh *who) mfaState {
	switch {
	case wh.Session.NeedMFA:
		return mfaNeedCode
	case wh.Session.NeedEnroll:
		return mfaNeedEnroll
	}
	return mfaDone
}

// page wraps a handler that needs a signed-in user who has passed any second
// factor; others are sent to the login (or second-factor) page.
func (s *Server) page(h http.HandlerFunc) http.Handler {
	return s.identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh := whoFrom(r)
		if !wh.LoggedIn {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		switch s.mfaState(r, wh) {
		case mfaNeedCode:
			http.Redirect(w, r, "/login/mfa", http.StatusSeeOther)
			return
		case mfaNeedEnroll:
			if !strings.HasPrefix(r.URL.Path, "/profile/totp") {
				http.Redirect(w, r, "/profile/totp", http.StatusSeeOther)
				return
			}
		}
		if !s.limitBody(w, r) {
			return
		}
		if r.Method == http.MethodPost && !s.checkCSRF(r, wh.Session.CSRFToken) {
			s.renderError(w, r, errs.Forbidden("web: csrf"), "error.csrf")
			return
		}
		h(w, r)
	}))
}

// public wraps a handler that anyone may use (the login pages). POSTs need
// the pre-session double-submit token.
func (s *Server) public(h http.HandlerFunc) http.Handler {
	return s.identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh := whoFrom(r)
		if wh.PreCSRF == "" {
			wh.PreCSRF = randomToken()
			s.setCookie(w, r, cookiePre, wh.PreCSRF, 0)
		}
		if !s.limitBody(w, r) {
			return
		}
		if r.Method == http.MethodPost {
			want := wh.PreCSRF
			if wh.LoggedIn {
				want = wh.Session.CSRFToken
			}
			if !s.checkCSRF(r, want) && !s.checkCSRF(r, wh.PreCSRF) {
				s.renderError(w, r, errs.Forbidden("web: csrf"), "error.csrf")
				return
			}
		}
		h(w, r)
	}))
}

// limitBody holds a form body to the configured size (uploads read theirs
// earlier under their own limit) and answers 413 past it.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.MultipartForm != nil {
		return true
	}
	max := s.Cfg.MaxBody
	if max <= 0 {
		max = 1 << 20
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.renderError(w, r, errs.TooLarge("web: form"), "")
			return false
		}
		s.renderError(w, r, errs.Invalid("web: form"), "")
		return false
	}
	return true
}

func (s *Server) checkCSRF(r *http.Request, want string) bool {
	if want == "" {
		return false
	}
	got := r.PostFormValue("_csrf")
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// csrfFor returns the token forms on this request must carry.
func csrfFor(wh *who) string {
	if wh.LoggedIn {
		return wh.Session.CSRFToken
	}
	return wh.PreCSRF
}
