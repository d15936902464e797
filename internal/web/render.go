package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/obs"
	"certnet/internal/policy"
)

// Template names, one per page file in templates/.
const (
	tplLogin     = "login.html"
	tplMFA       = "mfa.html"
	tplError     = "error.html"
	tplDashboard = "dashboard.html"
)

type pageTemplate struct {
	t *template.Template
}

var funcs = template.FuncMap{
	"tlpClass": func(t policy.TLP) string { return t.CSSClass() },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"pct": func(a, b int) int {
		if b == 0 {
			return 0
		}
		return a * 100 / b
	},
	"query": func(base string, kv ...string) template.URL {
		u, err := url.Parse(base)
		if err != nil {
			return template.URL(base)
		}
		q := u.Query()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				q.Del(kv[i])
			} else {
				q.Set(kv[i], kv[i+1])
			}
		}
		u.RawQuery = q.Encode()
		return template.URL(u.String())
	},
}

// parsePages parses every templates/*.html page together with the shared
// layout and partials (templates/_*.html).
func parsePages() (map[string]*pageTemplate, error) {
	shared, err := fs.Glob(assets, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*pageTemplate{}
	for _, f := range files {
		name := path.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, append(append([]string{}, shared...), f)...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		out[name] = &pageTemplate{t: t}
	}
	return out, nil
}

// Base is embedded in every page's view model.
type Base struct {
	Lang      i18n.Lang
	Title     string
	CSRF      string
	LoggedIn  bool
	Username  string
	UserID    int64
	OrgID     int64
	OrgName   string
	Actor     policy.Actor
	Path      string
	Query     string
	RequestID string
	Version   string
	Flash     string
	// Errors holds per-field messages of a form that failed validation,
	// already translated; FormError the message above the form.
	Errors    map[string]string
	FormError string
	// Unread counts the signed-in user's unread notifications (the badge
	// in the header).
	Unread int
}

// T translates key into the page's language.
func (b Base) T(key string, args ...any) string { return i18n.T(b.Lang, key, args...) }

// Time shows a time as 26/11/2026 14:05 (Vietnam time).
func (b Base) Time(t time.Time) string { return i18n.FormatTime(t) }

// Date shows a date as 26/11/2026.
func (b Base) Date(t time.Time) string { return i18n.FormatDate(t) }

// Num groups digits the way the language does.
func (b Base) Num(n int) string { return i18n.FormatInt(b.Lang, int64(n)) }

// Can reports whether the user may do act on something owned by owner with
// the given TLP (to show or hide buttons; the service decides again).
func (b Base) Can(act string, owner int64, tlp policy.TLP) bool {
	if tlp == "" {
		tlp = policy.TLPGreen
	}
	return policy.Allowed(b.Actor, policy.Action(act), policy.Resource{OwnerOrg: owner, TLP: tlp})
}

// ClientIP is the request's client address as the web UI reads it (the
// X-Forwarded-For address behind a trusted proxy), for the API's custody
// log to record the same.
func (s *Server) ClientIP(r *http.Request) string { return s.clientIP(r) }

// IsEN reports whether the page is in English.
func (b Base) IsEN() bool { return b.Lang == i18n.EN }

// Err returns the message for a form field, if any.
func (b Base) Err(field string) string { return b.Errors[field] }

func (s *Server) base(r *http.Request, titleKey string) Base {
	wh := whoFrom(r)
	b := Base{
		Lang: wh.Lang, CSRF: csrfFor(wh), LoggedIn: wh.LoggedIn, Path: r.URL.Path, Query: r.URL.RawQuery,
		RequestID: obs.RequestID(r.Context()), Version: s.Version, Actor: wh.Actor,
	}
	if titleKey != "" {
		b.Title = i18n.T(wh.Lang, titleKey)
	}
	if wh.LoggedIn {
		b.Username = wh.User.Username
		if wh.User.DisplayName != "" {
			b.Username = wh.User.DisplayName
		}
		b.UserID = wh.User.ID
		b.OrgID = wh.User.OrgID
		b.Unread = s.unread(r, wh.Actor)
		if name, err := s.Orgs.Name(r.Context(), wh.User.OrgID); err == nil {
			b.OrgName = name
		}
	}
	if c, err := r.Cookie("certnet_flash"); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil && i18n.Has(wh.Lang, v) {
			b.Flash = i18n.T(wh.Lang, v)
		}
	}
	return b
}

// formErrors turns a validation error into translated field messages on b.
func (b *Base) formErrors(err error) {
	e, ok := errs.As(err)
	if !ok {
		b.FormError = b.T("error.internal", b.RequestID)
		return
	}
	b.FormError = b.T(e.Message.Key, e.Message.Args...)
	if e.Kind == errs.KindInternal {
		b.FormError = b.T("error.internal", b.RequestID)
	}
	if len(e.Fields) > 0 {
		b.Errors = map[string]string{}
		for f, m := range e.Fields {
			b.Errors[f] = b.T(m.Key, m.Args...)
		}
	}
}

// render writes a page. view must embed Base.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, view any) {
	p, ok := s.pages[name]
	if !ok {
		s.Log.Error("web: no such template", "template", name, "request_id", obs.RequestID(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, view); err != nil {
		s.Log.Error("web: render", "template", name, "err", err, "request_id", obs.RequestID(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if _, err := r.Cookie("certnet_flash"); err == nil {
		// Shown once: this page carried it.
		http.SetCookie(w, &http.Cookie{Name: "certnet_flash", Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// flash sets a one-shot message (an i18n key) shown on the next page.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, key string) {
	http.SetCookie(w, &http.Cookie{Name: "certnet_flash", Value: url.QueryEscape(key), Path: "/", MaxAge: 30,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
}

// redirect after a successful POST, with a flash message.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, flashKey string) {
	if flashKey != "" {
		s.flash(w, r, flashKey)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type errorView struct {
	Base
	Status  int
	Message string
}

var statusOf = map[errs.Kind]int{
	errs.KindInvalid:         http.StatusBadRequest,
	errs.KindNotFound:        http.StatusNotFound,
	errs.KindConflict:        http.StatusConflict,
	errs.KindForbidden:       http.StatusForbidden,
	errs.KindUnauthenticated: http.StatusUnauthorized,
	errs.KindTooLarge:        http.StatusRequestEntityTooLarge,
	errs.KindTooMany:         http.StatusTooManyRequests,
	errs.KindInternal:        http.StatusInternalServerError,
}

// renderError shows an error page; msgKey overrides the error's message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error, msgKey string) {
	kind := errs.KindOf(err)
	v := errorView{Base: s.base(r, "error.title"), Status: statusOf[kind]}
	if kind == errs.KindInternal {
		s.Log.Error("web: internal error", "err", err, "request_id", v.RequestID, "path", r.URL.Path)
		v.Message = v.T("error.internal", v.RequestID)
	} else if msgKey != "" {
		v.Message = v.T(msgKey)
	} else if e, ok := errs.As(err); ok {
		v.Message = v.T(e.Message.Key, e.Message.Args...)
	}
	s.render(w, r, v.Status, tplError, v)
}

// intParam reads a positive integer path parameter.
func intParam(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.NotFound("web: " + name)
	}
	return n, nil
}

// intQuery reads an optional non-negative integer query value.
func intQuery(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func t(l i18n.Lang, key string, args ...any) string { return i18n.T(l, key, args...) }
