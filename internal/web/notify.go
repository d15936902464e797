package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"certnet/internal/i18n"
	"certnet/internal/jobs"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
)

const (
	tplInbox      = "inbox.html"
	tplNotifPrefs = "notify_prefs.html"
	tplWebhooks   = "webhooks.html"
	tplWebhook    = "webhook.html"
	tplOutbox     = "outbox.html"
	inboxPage     = 50
)

func init() {
	// Unread notifications are something waiting for the user.
	addNeeds(func(s *Server, r *http.Request, wh *who) []need {
		if n := s.unread(r, wh.Actor); n > 0 {
			return []need{{Text: i18n.T(wh.Lang, "notify.inbox.unread_badge", n), Href: "/inbox?unread=1"}}
		}
		return nil
	})
}

// unread is the header badge's count: one indexed COUNT, 0 on any error
// (the badge must never break a page).
func (s *Server) unread(r *http.Request, a policy.Actor) int {
	if s.Notify == nil || a.UserID == 0 {
		return 0
	}
	n, err := s.Notify.Unread(r.Context(), a)
	if err != nil {
		return 0
	}
	return n
}

// ---- Inbox ----

type inboxRow struct {
	ID        int64
	Subject   string
	Body      string
	Link      string
	TLP       policy.TLP
	Exercise  bool
	CreatedAt time.Time
	Read      bool
}

type inboxView struct {
	Base
	Items      []inboxRow
	Total      int
	UnreadOnly bool
	Page       int
	HasPrev    bool
	HasNext    bool
}

func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request) {
	wh := whoFrom(r)
	v := inboxView{Base: s.base(r, "notify.inbox.title"), UnreadOnly: r.URL.Query().Get("unread") == "1", Page: intQuery(r, "page")}
	items, total, err := s.Notify.Inbox(r.Context(), wh.Actor, notify.InboxFilter{UnreadOnly: v.UnreadOnly, Limit: inboxPage, Offset: v.Page * inboxPage})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.Total = total
	v.HasPrev = v.Page > 0
	v.HasNext = (v.Page+1)*inboxPage < total
	for _, it := range items {
		v.Items = append(v.Items, inboxRow{ID: it.ID, Subject: notify.Render(v.Lang, it.Subject), Body: notify.Render(v.Lang, it.Body),
			Link: it.Link, TLP: it.TLP, Exercise: it.Exercise, CreatedAt: it.CreatedAt, Read: it.ReadAt != nil})
	}
	s.render(w, r, http.StatusOK, tplInbox, v)
}

// handleInboxRead marks an entry read and opens what it is about (or goes
// back to the inbox).
func (s *Server) handleInboxRead(w http.ResponseWriter, r *http.Request) {
	id, err := intParam(r, "id")
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	link, err := s.Notify.MarkRead(r.Context(), whoFrom(r).Actor, id)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	// Links are paths of this UI (Enqueue refuses others); never follow
	// "//host".
	if r.PostFormValue("open") != "1" || safeNext(link) != link {
		link = "/inbox"
	}
	s.redirect(w, r, link, "")
}

func (s *Server) handleInboxReadAll(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Notify.MarkAllRead(r.Context(), whoFrom(r).Actor); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/inbox", "notify.inbox.marked_all_flash")
}

// ---- Preferences ----

type prefRow struct {
	Kind  string
	Label string
	Email bool
}

type prefsView struct {
	Base
	Prefs   []prefRow
	NoEmail bool
}

func (s *Server) prefsView(r *http.Request) (prefsView, error) {
	wh := whoFrom(r)
	v := prefsView{Base: s.base(r, "notify.prefs.title"), NoEmail: wh.User.Email == ""}
	prefs, err := s.Notify.Prefs(r.Context(), wh.Actor)
	if err != nil {
		return v, err
	}
	for _, p := range prefs {
		v.Prefs = append(v.Prefs, prefRow{Kind: p.Kind, Label: v.T(p.LabelKey), Email: p.Email})
	}
	return v, nil
}

func (s *Server) handleNotifPrefs(w http.ResponseWriter, r *http.Request) {
	v, err := s.prefsView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplNotifPrefs, v)
}

// handleNotifPrefsSave: a ticked box "email" with the kind as value is e-mail
// on; every kind listed in "kind" and not ticked is off.
func (s *Server) handleNotifPrefsSave(w http.ResponseWriter, r *http.Request) {
	on := map[string]bool{}
	for _, k := range r.PostForm["email"] {
		on[k] = true
	}
	var prefs []notify.Pref
	seen := map[string]bool{}
	for _, k := range r.PostForm["kind"] {
		if seen[k] {
			continue
		}
		seen[k] = true
		prefs = append(prefs, notify.Pref{Kind: k, Email: on[k]})
	}
	if err := s.Notify.SetPrefs(r.Context(), whoFrom(r).Actor, prefs); err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.prefsView(r)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplNotifPrefs, v)
		return
	}
	s.redirect(w, r, "/profile/notifications", "notify.prefs.saved")
}

// ---- Webhooks of an organisation ----

type kindChoice struct {
	Name  string
	Label string
}

type webhookForm struct {
	URL    string
	Kinds  []string
	Active bool
}

// Has reports whether the kind is ticked.
func (f webhookForm) Has(k string) bool { return slices.Contains(f.Kinds, k) }

type webhooksView struct {
	Base
	Org       org.Org
	Hooks     []notify.Webhook
	Kinds     []kindChoice
	Form      webhookForm
	CanWrite  bool
	NewSecret string
	NewHook   notify.Webhook
}

type webhookView struct {
	Base
	Org      org.Org
	Hook     notify.Webhook
	Kinds    []kindChoice
	Form     webhookForm
	Log      []notify.Delivery
	CanWrite bool
}

func kindChoices(l i18n.Lang) []kindChoice {
	var out []kindChoice
	for _, k := range notify.Kinds() {
		out = append(out, kindChoice{Name: k.Name, Label: i18n.T(l, k.LabelKey)})
	}
	return out
}

// KindLabel names a kind in the page's language (its name when unknown).
func (v webhooksView) KindLabel(k string) string { return kindLabel(v.Base, k) }

// KindLabel names a kind in the page's language (its name when unknown).
func (v webhookView) KindLabel(k string) string { return kindLabel(v.Base, k) }

func kindLabel(b Base, k string) string {
	if key, ok := notify.KindLabelKey(k); ok {
		return b.T(key)
	}
	return k
}

// webhookOrg reads the organisation the actor may see, then checks that
// they may read its webhooks.
func (s *Server) webhookOrg(r *http.Request) (org.Org, error) {
	id, err := intParam(r, "id")
	if err != nil {
		return org.Org{}, err
	}
	return s.Orgs.Get(r.Context(), whoFrom(r).Actor, id)
}

func (s *Server) webhooksView(r *http.Request, o org.Org, f webhookForm) (webhooksView, error) {
	wh := whoFrom(r)
	v := webhooksView{Base: s.base(r, "notify.webhooks.title"), Org: o, Form: f}
	hooks, err := s.Notify.Webhooks(r.Context(), wh.Actor, o.ID)
	if err != nil {
		return v, err
	}
	v.Hooks = hooks
	v.Kinds = kindChoices(v.Lang)
	v.CanWrite = policy.Allowed(wh.Actor, policy.NotifyWebhookWrite, notify.WebhookResource(o.ID))
	return v, nil
}

func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	o, err := s.webhookOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.webhooksView(r, o, webhookForm{Active: true})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplWebhooks, v)
}

func webhookFormOf(r *http.Request) webhookForm {
	return webhookForm{URL: strings.TrimSpace(r.PostFormValue("url")), Kinds: r.PostForm["kinds"], Active: r.PostFormValue("active") == "1"}
}

// handleWebhookCreate creates an endpoint and shows its secret on this
// answer only.
func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) {
	o, err := s.webhookOrg(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := webhookFormOf(r)
	h, err := s.Notify.CreateWebhook(r.Context(), whoFrom(r).Actor, o.ID, notify.WebhookInput{URL: f.URL, Kinds: f.Kinds, Active: f.Active})
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v, verr := s.webhooksView(r, o, f)
		if verr != nil {
			s.renderError(w, r, verr, "")
			return
		}
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplWebhooks, v)
		return
	}
	v, err := s.webhooksView(r, o, webhookForm{Active: true})
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v.NewSecret, v.NewHook = h.Secret, h
	v.Flash = v.T("notify.webhooks.created")
	s.render(w, r, http.StatusCreated, tplWebhooks, v)
}

// webhookIDs reads the organisation (as webhookOrg) and the endpoint's id
// of a route.
func (s *Server) webhookIDs(r *http.Request) (org.Org, int64, error) {
	o, err := s.webhookOrg(r)
	if err != nil {
		return o, 0, err
	}
	wid, err := intParam(r, "wid")
	return o, wid, err
}

func (s *Server) webhookView(r *http.Request) (webhookView, error) {
	o, wid, err := s.webhookIDs(r)
	if err != nil {
		return webhookView{}, err
	}
	return s.webhookViewOf(r, o, wid)
}

func (s *Server) webhookViewOf(r *http.Request, o org.Org, wid int64) (webhookView, error) {
	wh := whoFrom(r)
	h, err := s.Notify.Webhook(r.Context(), wh.Actor, o.ID, wid)
	if err != nil {
		return webhookView{}, err
	}
	log, err := s.Notify.WebhookLog(r.Context(), wh.Actor, o.ID, wid, 100)
	if err != nil {
		return webhookView{}, err
	}
	v := webhookView{Base: s.base(r, "notify.webhooks.title"), Org: o, Hook: h, Log: log, Kinds: kindChoices(wh.Lang),
		Form: webhookForm{URL: h.URL, Kinds: h.Kinds, Active: h.Active}}
	v.CanWrite = policy.Allowed(wh.Actor, policy.NotifyWebhookWrite, notify.WebhookResource(o.ID))
	return v, nil
}

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	v, err := s.webhookView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.render(w, r, http.StatusOK, tplWebhook, v)
}

func (s *Server) handleWebhookUpdate(w http.ResponseWriter, r *http.Request) {
	v, err := s.webhookView(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	f := webhookFormOf(r)
	_, err = s.Notify.UpdateWebhook(r.Context(), whoFrom(r).Actor, v.Org.ID, v.Hook.ID, notify.WebhookInput{URL: f.URL, Kinds: f.Kinds, Active: f.Active})
	if err != nil {
		if !showOnForm(err) {
			s.renderError(w, r, err, "")
			return
		}
		v.Form = f
		v.formErrors(err)
		s.render(w, r, formStatus(err), tplWebhook, v)
		return
	}
	s.redirect(w, r, "/orgs/"+itoa(v.Org.ID)+"/webhooks/"+itoa(v.Hook.ID), "notify.webhooks.saved")
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	o, wid, err := s.webhookIDs(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if err := s.Notify.DeleteWebhook(r.Context(), whoFrom(r).Actor, o.ID, wid); err != nil {
		s.renderError(w, r, err, "")
		return
	}
	s.redirect(w, r, "/orgs/"+itoa(o.ID)+"/webhooks", "notify.webhooks.deleted")
}

// handleWebhookTest sends a test call now and shows the endpoint with the
// outcome.
func (s *Server) handleWebhookTest(w http.ResponseWriter, r *http.Request) {
	o, wid, err := s.webhookIDs(r)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	d, err := s.Notify.TestWebhook(r.Context(), whoFrom(r).Actor, o.ID, wid)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v, err := s.webhookViewOf(r, o, wid)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	if d.Status == notify.StatusSent {
		v.Flash = v.T("notify.webhooks.test_ok", d.LastStatus)
	} else {
		v.Flash = v.T("notify.webhooks.test_failed", d.LastError)
	}
	s.render(w, r, http.StatusOK, tplWebhook, v)
}

// ---- Operations: the outbox ----

type outboxView struct {
	Base
	State notify.OutboxState
	Jobs  []jobs.Status
}

func (s *Server) handleOutbox(w http.ResponseWriter, r *http.Request) {
	st, err := s.Notify.Outbox(r.Context(), whoFrom(r).Actor)
	if err != nil {
		s.renderError(w, r, err, "")
		return
	}
	v := outboxView{Base: s.base(r, "notify.outbox.title"), State: st}
	if s.Jobs != nil {
		if js, err := s.Jobs.Statuses(r.Context()); err == nil {
			v.Jobs = js
		}
	}
	s.render(w, r, http.StatusOK, tplOutbox, v)
}
