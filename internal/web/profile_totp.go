package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"strings"

	"github.com/pquerna/otp"

	"certnet/internal/auth"
	"certnet/internal/errs"
)

type totpView struct {
	Base
	// Enabled: the second factor is on.
	Enabled bool
	// NeedEnroll: the organisation requires a second factor and the user
	// has none yet; nothing else opens until it is set up.
	NeedEnroll bool
	// RequireMFA: the organisation requires a second factor (so the user
	// may not switch it off).
	RequireMFA bool
	// Enrol: the page shows a new authenticator to confirm with a code.
	Enrol  bool
	Secret string // grouped by four, for typing in
	URL    string // the otpauth:// URL, carried to show the same QR again
	QR     template.URL
	// AppLink opens the authenticator app on the phone showing the page.
	AppLink template.URL
	// Codes are recovery codes, shown on this answer only.
	Codes []string
}

func (s *Server) totpView(r *http.Request) totpView {
	wh := whoFrom(r)
	v := totpView{Base: s.base(r, "totp.title"), Enabled: wh.User.TOTPEnabled, NeedEnroll: wh.Session.NeedEnroll}
	if req, err := s.Orgs.RequiresMFA(r.Context(), wh.User.OrgID); err == nil {
		v.RequireMFA = req
	}
	return v
}

// show puts an authenticator to enrol on the page.
func (v *totpView) show(e auth.TOTPEnrolment) {
	v.Enrol = true
	v.URL = e.URL
	if strings.HasPrefix(e.URL, "otpauth://totp/") {
		v.AppLink = template.URL(e.URL)
	}
	var groups []string
	for i := 0; i < len(e.Secret); i += 4 {
		groups = append(groups, e.Secret[i:min(i+4, len(e.Secret))])
	}
	v.Secret = strings.Join(groups, " ")
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG))
}

// beginTOTP starts enrolling a new authenticator and puts it on the page.
func (s *Server) beginTOTP(r *http.Request, v *totpView) error {
	e, err := s.Auth.BeginTOTP(r.Context(), whoFrom(r).Actor)
	if err != nil {
		return err
	}
	v.show(e)
	return nil
}

// pendingTOTP rebuilds the enrolment shown before a wrong code from the
// otpauth URL the form carried, so the user keeps the QR code they scanned.
// It reports false when the URL is not one of this user's.
func pendingTOTP(rawURL, username string) (auth.TOTPEnrolment, bool) {
	key, err := otp.NewKeyFromURL(rawURL)
	if err != nil || key.Type() != "totp" || key.AccountName() != username || key.Secret() == "" {
		return auth.TOTPEnrolment{}, false
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return auth.TOTPEnrolment{}, false
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return auth.TOTPEnrolment{}, false
	}
	return auth.TOTPEnrolment{Secret: key.Secret(), URL: key.String(), QRPNG: buf.Bytes()}, true
}

// handleTOTP shows the second factor: its state, or a new authenticator to
// set up (when there is none, or with ?new=1 to replace a lost phone). A
// reload begins with a new secret; only the last one shown can be confirmed.
func (s *Server) handleTOTP(w http.ResponseWriter, r *http.Request) {
	v := s.totpView(r)
	if !v.Enabled || r.URL.Query().Get("new") == "1" {
		if err := s.beginTOTP(r, &v); err != nil {
			s.renderError(w, r, err, "")
			return
		}
	}
	s.render(w, r, http.StatusOK, tplProfileTOTP, v)
}

// handleTOTPConfirm checks the first code from the new authenticator and
// shows the recovery codes, once.
func (s *Server) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	codes, err := s.Auth.ConfirmTOTP(r.Context(), wh.Actor, r.PostFormValue("code"))
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v := s.totpView(r)
		v.formErrors(err)
		if e, ok := pendingTOTP(r.PostFormValue("url"), wh.User.Username); ok && !errs.Is(err, errs.KindConflict) {
			v.show(e)
		} else if berr := s.beginTOTP(r, &v); berr != nil {
			s.renderError(w, r, berr, "")
			return
		}
		s.render(w, r, formStatus(err), tplProfileTOTP, v)
		return
	}
	v := s.totpView(r)
	if wh.Session.NeedEnroll {
		// The session has just passed its second factor: a new token, as
		// after the sign-in code, so one seen before is worth nothing.
		nt, err := s.Auth.Rotate(r.Context(), wh.Token)
		if err != nil {
			s.renderError(w, r, err, "")
			return
		}
		s.setCookie(w, r, s.sessionCookieName(r), nt, 0)
		if se, _, err := s.Auth.Session(r.Context(), nt); err == nil {
			v.CSRF = se.CSRFToken
		}
	}
	v.Enabled, v.NeedEnroll, v.Codes = true, false, codes
	v.Flash = v.T("totp.flash.enabled")
	s.render(w, r, http.StatusOK, tplProfileTOTP, v)
}

// handleTOTPDisable switches one's own second factor off, with the password.
func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	err := s.Auth.DisableTOTP(r.Context(), wh.Actor, wh.User.ID, r.PostFormValue("password"))
	if err != nil {
		// The organisation's requirement is a refusal the user must read
		// where they asked.
		if !showOnForm(err) && !errs.Is(err, errs.KindForbidden) {
			s.renderError(w, r, err, "")
			return
		}
		v := s.totpView(r)
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplProfileTOTP, v)
		return
	}
	s.redirect(w, r, "/profile", "totp.flash.disabled")
}

// handleRecoveryCodes replaces the recovery codes and shows the new ones,
// once.
func (s *Server) handleRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	codes, err := s.Auth.RegenerateRecoveryCodes(r.Context(), whoFrom(r).Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := s.totpView(r)
	v.Codes = codes
	v.Flash = v.T("totp.flash.codes_regenerated")
	s.render(w, r, http.StatusOK, tplProfileTOTP, v)
}
