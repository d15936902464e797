package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/auth"
	"certnet/internal/errs"
)

const tplTokens = "tokens.html"

// Token lifetimes offered on the form, in days.
const (
	tokenDaysDefault = 90
	tokenDaysMax     = 365
)

// tokenForm is the new-token form as typed.
type tokenForm struct {
	Name   string
	Scopes []string
	Days   string
}

// Has reports whether scope is ticked.
func (f tokenForm) Has(scope string) bool { return slices.Contains(f.Scopes, scope) }

type tokensView struct {
	Base
	Tokens []tokenRow
	Form   tokenForm
	Scopes []string
	// MaxDays bounds the lifetime field.
	MaxDays int
	// NewToken is the plaintext of the token just made, shown this once.
	NewToken     string
	NewTokenName string
}

func (s *Server) tokensView(r *http.Request, f tokenForm) (tokensView, error) {
	wh := whoFrom(r)
	list, err := s.Auth.ListTokens(r.Context(), wh.Actor, wh.User.ID)
	if err != nil {
		return tokensView{}, err
	}
	return tokensView{Base: s.base(r, "tokens.title"), Tokens: tokenRows(list, s.Now()), Form: f,
		Scopes: auth.TokenScopes, MaxDays: tokenDaysMax}, nil
}

func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	v, err := s.tokensView(r, tokenForm{Scopes: []string{auth.ScopeRead}, Days: strconv.Itoa(tokenDaysDefault)})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplTokens, v)
}

// tokenDays reads the lifetime in days, 1 to tokenDaysMax.
func tokenDays(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 1 && n <= tokenDaysMax
}

// handleTokenCreate makes a token and shows its plaintext on the answer
// only; the list shows its prefix from then on.
func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	f := tokenForm{Name: strings.TrimSpace(r.PostFormValue("name")), Scopes: r.PostForm["scopes"],
		Days: r.PostFormValue("days")}
	days, ok := tokenDays(f.Days)
	if !ok {
		s.tokenFailed(w, r, f, errs.Invalid("web: create token").Field("days", "tokens.err.days", tokenDaysMax))
		return
	}
	tok, plain, err := s.Auth.CreateToken(r.Context(), wh.Actor, wh.User.ID, f.Name, f.Scopes,
		s.Now().Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		s.tokenFailed(w, r, f, err)
		return
	}
	v, err := s.tokensView(r, tokenForm{Scopes: []string{auth.ScopeRead}, Days: strconv.Itoa(tokenDaysDefault)})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.NewToken, v.NewTokenName = plain, tok.Name
	v.Flash = v.T("tokens.flash.created")
	s.render(w, r, http.StatusCreated, tplTokens, v)
}

// tokenFailed shows the token page again with err next to its field.
func (s *Server) tokenFailed(w http.ResponseWriter, r *http.Request, f tokenForm, err error) {
	if !showOnForm(err) {
		s.renderError(w, r, err, "")
		return
	}
	v, verr := s.tokensView(r, f)
	if verr != nil {
		s.renderError(w, r, verr, "")
		return
	}
	v.formErrors(err)
	// The service speaks of an expiry date; the form asks for days.
	if msg := v.Errors["expires_at"]; msg != "" && v.Errors["days"] == "" {
		v.Errors["days"] = msg
	}
	s.render(w, r, formStatus(err), tplTokens, v)
}

func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	wh := whoFrom(r)
	if err := s.Auth.RevokeToken(r.Context(), wh.Actor, wh.User.ID, id); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/profile/tokens", "tokens.flash.revoked")
}
