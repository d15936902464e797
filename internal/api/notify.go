package api

import (
	"net/http"
	"strconv"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/notify"
	"certnet/internal/policy"
)

func init() {
	register([]Route{
		{"GET", "/api/v1/inbox"},
		{"POST", "/api/v1/inbox/{id}/read"},
		{"POST", "/api/v1/inbox/read-all"},
		{"GET", "/api/v1/me/notification-preferences"},
		{"PUT", "/api/v1/me/notification-preferences"},
		{"GET", "/api/v1/orgs/{id}/webhooks"},
		{"POST", "/api/v1/orgs/{id}/webhooks"},
		{"GET", "/api/v1/orgs/{id}/webhooks/{wid}"},
		{"PUT", "/api/v1/orgs/{id}/webhooks/{wid}"},
		{"DELETE", "/api/v1/orgs/{id}/webhooks/{wid}"},
		{"POST", "/api/v1/orgs/{id}/webhooks/{wid}/test"},
		{"GET", "/api/v1/orgs/{id}/webhooks/{wid}/deliveries"},
	}, func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"GET /api/v1/inbox":                               s.authed(s.listInbox),
			"POST /api/v1/inbox/{id}/read":                    s.authed(s.readInbox),
			"POST /api/v1/inbox/read-all":                     s.authed(s.readAllInbox),
			"GET /api/v1/me/notification-preferences":         s.authed(s.getNotifPrefs),
			"PUT /api/v1/me/notification-preferences":         s.authed(s.putNotifPrefs),
			"GET /api/v1/orgs/{id}/webhooks":                  s.authed(s.listWebhooks),
			"POST /api/v1/orgs/{id}/webhooks":                 s.authed(s.createWebhook),
			"GET /api/v1/orgs/{id}/webhooks/{wid}":            s.authed(s.getWebhook),
			"PUT /api/v1/orgs/{id}/webhooks/{wid}":            s.authed(s.updateWebhook),
			"DELETE /api/v1/orgs/{id}/webhooks/{wid}":         s.authed(s.deleteWebhook),
			"POST /api/v1/orgs/{id}/webhooks/{wid}/test":      s.authed(s.testWebhook),
			"GET /api/v1/orgs/{id}/webhooks/{wid}/deliveries": s.authed(s.webhookDeliveries),
		}
	})
}

// inboxItemOut is an inbox entry with its subject and body in the
// caller's language.
type inboxItemOut struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body,omitempty"`
	Link      string     `json:"link"`
	TLP       policy.TLP `json:"tlp"`
	Exercise  bool       `json:"exercise"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

func (s *Server) listInbox(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	unread := false
	switch r.URL.Query().Get("unread") {
	case "", "false", "0":
	case "true", "1":
		unread = true
	default:
		return nil, 0, errs.Invalid("api: inbox").Field("unread", "field.invalid_choice")
	}
	items, total, err := s.Notify.Inbox(r.Context(), a, notify.InboxFilter{UnreadOnly: unread, Limit: limit, Offset: offset})
	if err != nil {
		return nil, 0, err
	}
	l := lang(r)
	out := List[inboxItemOut]{Items: []inboxItemOut{}, Total: total, Limit: limit, Offset: offset}
	for _, it := range items {
		out.Items = append(out.Items, inboxItemOut{ID: it.ID, Kind: it.Kind, Subject: notify.Render(l, it.Subject), Body: notify.Render(l, it.Body),
			Link: it.Link, TLP: it.TLP, Exercise: it.Exercise, CreatedAt: it.CreatedAt, ReadAt: it.ReadAt})
	}
	return out, http.StatusOK, nil
}

func (s *Server) readInbox(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	if _, err := s.Notify.MarkRead(r.Context(), a, id); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

func (s *Server) readAllInbox(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	n, err := s.Notify.MarkAllRead(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	return map[string]int{"marked": n}, http.StatusOK, nil
}

// prefOut is one kind's choice with its label in the caller's language.
type prefOut struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Email bool   `json:"email"`
	Inbox bool   `json:"inbox"`
}

type prefsBody struct {
	Preferences []struct {
		Kind  string `json:"kind"`
		Email *bool  `json:"email"`
	} `json:"preferences"`
}

func (s *Server) prefsOut(r *http.Request, a policy.Actor) (any, int, error) {
	prefs, err := s.Notify.Prefs(r.Context(), a)
	if err != nil {
		return nil, 0, err
	}
	l := lang(r)
	out := []prefOut{}
	for _, p := range prefs {
		out = append(out, prefOut{Kind: p.Kind, Label: i18n.T(l, p.LabelKey), Email: p.Email, Inbox: true})
	}
	return map[string]any{"preferences": out}, http.StatusOK, nil
}

func (s *Server) getNotifPrefs(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	return s.prefsOut(r, a)
}

func (s *Server) putNotifPrefs(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	// Policy before reading the body: a read-only token learns nothing
	// from a validation error.
	if err := policy.Check(a, policy.NotifyInboxWrite, notify.InboxResource(a)); err != nil {
		return nil, 0, err
	}
	var b prefsBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	v := errs.Invalid("api: notification preferences")
	var prefs []notify.Pref
	for i, p := range b.Preferences {
		if p.Email == nil {
			v.Field("preferences["+strconv.Itoa(i)+"].email", "field.required")
			continue
		}
		prefs = append(prefs, notify.Pref{Kind: p.Kind, Email: *p.Email})
	}
	if err := v.OrNil(); err != nil {
		return nil, 0, err
	}
	if err := s.Notify.SetPrefs(r.Context(), a, prefs); err != nil {
		return nil, 0, err
	}
	return s.prefsOut(r, a)
}

// webhookBody is an endpoint as a client sends it; active defaults to
// true.
type webhookBody struct {
	URL    string   `json:"url"`
	Kinds  []string `json:"kinds"`
	Active *bool    `json:"active"`
}

func (b webhookBody) input() notify.WebhookInput {
	in := notify.WebhookInput{URL: b.URL, Kinds: b.Kinds, Active: true}
	if b.Active != nil {
		in.Active = *b.Active
	}
	return in
}

// webhookOrg reads the organisation (the caller must see it) of a webhook
// route.
func (s *Server) webhookOrg(r *http.Request, a policy.Actor) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if _, err := s.Orgs.Get(r.Context(), a, id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) webhookIDs(r *http.Request, a policy.Actor) (orgID, wid int64, err error) {
	if orgID, err = s.webhookOrg(r, a); err != nil {
		return 0, 0, err
	}
	wid, err = pathID(r, "wid")
	return orgID, wid, err
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, err := s.webhookOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	hooks, err := s.Notify.Webhooks(r.Context(), a, orgID)
	if err != nil {
		return nil, 0, err
	}
	return List[notify.Webhook]{Items: hooks, Total: len(hooks), Limit: len(hooks)}, http.StatusOK, nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, err := s.webhookOrg(r, a)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.NotifyWebhookWrite, notify.WebhookResource(orgID)); err != nil {
		return nil, 0, err
	}
	var b webhookBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	h, err := s.Notify.CreateWebhook(r.Context(), a, orgID, b.input())
	if err != nil {
		return nil, 0, err
	}
	return h, http.StatusCreated, nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, wid, err := s.webhookIDs(r, a)
	if err != nil {
		return nil, 0, err
	}
	h, err := s.Notify.Webhook(r.Context(), a, orgID, wid)
	if err != nil {
		return nil, 0, err
	}
	return h, http.StatusOK, nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, wid, err := s.webhookIDs(r, a)
	if err != nil {
		return nil, 0, err
	}
	if err := policy.Check(a, policy.NotifyWebhookWrite, notify.WebhookResource(orgID)); err != nil {
		return nil, 0, err
	}
	var b webhookBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	h, err := s.Notify.UpdateWebhook(r.Context(), a, orgID, wid, b.input())
	if err != nil {
		return nil, 0, err
	}
	return h, http.StatusOK, nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, wid, err := s.webhookIDs(r, a)
	if err != nil {
		return nil, 0, err
	}
	if err := s.Notify.DeleteWebhook(r.Context(), a, orgID, wid); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, wid, err := s.webhookIDs(r, a)
	if err != nil {
		return nil, 0, err
	}
	d, err := s.Notify.TestWebhook(r.Context(), a, orgID, wid)
	if err != nil {
		return nil, 0, err
	}
	return d, http.StatusOK, nil
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	orgID, wid, err := s.webhookIDs(r, a)
	if err != nil {
		return nil, 0, err
	}
	limit, _, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	log, err := s.Notify.WebhookLog(r.Context(), a, orgID, wid, limit)
	if err != nil {
		return nil, 0, err
	}
	return List[notify.Delivery]{Items: log, Total: len(log), Limit: limit}, http.StatusOK, nil
}
