package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/notify/notifytest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

const apiTestKind = "api.test"

func init() {
	notify.RegisterKind(apiTestKind, "notify.kind.webhook_test")
	addMatrixRoutes(notifyMatrix)
}

func ownInbox(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		return policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: policy.TLPAmber, Subject: c.a.user.ID})
	}
}

// decideWebhooks: the organisation must be readable, then the actions.
func decideWebhooks(acts ...policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		if err := c.check(policy.OrgRead); err != nil {
			return err
		}
		for _, act := range acts {
			if err := policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}); err != nil {
				return err
			}
		}
		return nil
	}
}

// mxWebhook makes (as the system) a webhook of the target, keeping the
// organisation under its limit.
func mxWebhook(t *testing.T, c *mCase) int64 {
	n := c.m.e.App.Notify
	old, _ := n.Webhooks(c.m.ctx, c.m.e.Sys, c.t.org.ID)
	for _, h := range old {
		n.DeleteWebhook(c.m.ctx, c.m.e.Sys, c.t.org.ID, h.ID)
	}
	h, err := n.CreateWebhook(c.m.ctx, c.m.e.Sys, c.t.org.ID, notify.WebhookInput{URL: fmt.Sprintf("http://127.0.0.1:1/mx/%d", c.n), Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return h.ID
}

func mxInboxEntry(t *testing.T, c *mCase) int64 {
	e := c.m.e
	key := fmt.Sprintf("mx-inbox-%d", c.n)
	if err := e.DB.InTx(c.m.ctx, func(tx *store.Tx) error {
		return notify.Enqueue(c.m.ctx, tx, e.Clock.Now(), notify.Message{Kind: apiTestKind, Key: key, Users: []int64{c.a.user.ID},
			Subject: errs.Msg{Key: "notify.webhook.test_subject"}, TLP: policy.TLPGreen})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Notify.Fanout(c.m.ctx); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := e.DB.QueryRow(c.m.ctx, `SELECT i.id FROM notify_inbox i JOIN notifications n ON n.id = i.notification_id
		WHERE n.dedupe_key = ? AND i.user_id = ?`, key, c.a.user.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

var notifyMatrix = map[string]mRoute{
	"GET /api/v1/inbox": {
		req:    static("/api/v1/inbox?unread=true", ""),
		decide: ownInbox(policy.NotifyInboxRead),
	},
	"POST /api/v1/inbox/{id}/read": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/inbox/%d/read", mxInboxEntry(t, c)), ""
		},
		decide: ownInbox(policy.NotifyInboxWrite),
	},
	"POST /api/v1/inbox/read-all": {
		req:    static("/api/v1/inbox/read-all", ""),
		decide: ownInbox(policy.NotifyInboxWrite),
	},
	"GET /api/v1/me/notification-preferences": {
		req:    static("/api/v1/me/notification-preferences", ""),
		decide: ownInbox(policy.NotifyInboxRead),
	},
	"PUT /api/v1/me/notification-preferences": {
		req:    static("/api/v1/me/notification-preferences", `{"preferences":[{"kind":"`+apiTestKind+`","email":false}]}`),
		decide: ownInbox(policy.NotifyInboxWrite),
	},
	"GET /api/v1/orgs/{id}/webhooks": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/webhooks"), "" },
		decide: decideWebhooks(policy.NotifyWebhookRead),
	},
	"POST /api/v1/orgs/{id}/webhooks": {
		req: func(t *testing.T, c *mCase) (string, string) {
			mxWebhook(t, c) // room under the limit
			return c.orgPath("/webhooks"), jsonBody(map[string]any{"url": fmt.Sprintf("https://siem%d.matrix.vn/h", c.n)})
		},
		decide: decideWebhooks(policy.NotifyWebhookWrite),
	},
	"GET /api/v1/orgs/{id}/webhooks/{wid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.orgPath(fmt.Sprintf("/webhooks/%d", mxWebhook(t, c))), ""
		},
		decide: decideWebhooks(policy.NotifyWebhookRead),
	},
	"PUT /api/v1/orgs/{id}/webhooks/{wid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.orgPath(fmt.Sprintf("/webhooks/%d", mxWebhook(t, c))), jsonBody(map[string]any{"url": "https://edit.matrix.vn/h", "active": false})
		},
		decide: decideWebhooks(policy.NotifyWebhookWrite),
	},
	"DELETE /api/v1/orgs/{id}/webhooks/{wid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.orgPath(fmt.Sprintf("/webhooks/%d", mxWebhook(t, c))), ""
		},
		decide: decideWebhooks(policy.NotifyWebhookWrite),
	},
	"POST /api/v1/orgs/{id}/webhooks/{wid}/test": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.orgPath(fmt.Sprintf("/webhooks/%d/test", mxWebhook(t, c))), ""
		},
		decide: decideWebhooks(policy.NotifyWebhookWrite),
	},
	"GET /api/v1/orgs/{id}/webhooks/{wid}/deliveries": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.orgPath(fmt.Sprintf("/webhooks/%d/deliveries", mxWebhook(t, c))), ""
		},
		decide: decideWebhooks(policy.NotifyWebhookRead),
	},
}

func TestAPINotifications(t *testing.T) {
	e := apptest.StartSQLite(t)
	ctx := context.Background()
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Sở Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	admin := e.User(hn.ID, "quantri.hn", policy.RoleAdmin)
	viewer := e.User(hn.ID, "xem.hn", policy.RoleViewer)
	adminTok, viewerTok := e.Token(admin), e.Token(viewer)
	readTok := e.Token(viewer, "read")

	// Webhook CRUD by the organisation's admin; the secret once.
	rcv := notifytest.StartReceiver(t)
	e.App.Notify.AllowPrivateWebhooks = true // the receiver listens on 127.0.0.1
	base := fmt.Sprintf("/api/v1/orgs/%d/webhooks", hn.ID)
	r := call(t, e, "POST", base, adminTok, `{"url":"gopher://x"}`, nil)
	if r.Status != http.StatusBadRequest || r.errDetail(t).Fields["url"] == "" {
		t.Fatalf("bad url: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "POST", base, adminTok, `{"url":"`+rcv.URL+`","kinds":["`+apiTestKind+`"]}`, nil)
	var h notify.Webhook
	r.into(t, &h)
	if r.Status != http.StatusCreated || h.Secret == "" || !h.Active {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	rcv.SetSecret(h.Secret)
	r = call(t, e, "GET", fmt.Sprintf("%s/%d", base, h.ID), adminTok, "", nil)
	var got notify.Webhook
	r.into(t, &got)
	if got.Secret != "" || got.URL != rcv.URL {
		t.Fatalf("get: %s", r.Body)
	}
	if r := call(t, e, "POST", base, viewerTok, `{"url":"https://x.vn/h"}`, nil); r.Status != http.StatusForbidden {
		t.Fatalf("viewer creates: %d", r.Status)
	}
	r = call(t, e, "POST", fmt.Sprintf("%s/%d/test", base, h.ID), adminTok, "", nil)
	var d notify.Delivery
	r.into(t, &d)
	if r.Status != http.StatusOK || d.Status != notify.StatusSent || d.LastStatus != 204 {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}

	// A notification for Hanoi: inbox, read, read-all; the webhook signed.
	if err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		return notify.Enqueue(ctx, tx, e.Clock.Now(), notify.Message{Kind: apiTestKind, Key: "api-1", Orgs: []int64{hn.ID},
			Subject: errs.Msg{Key: "notify.webhook.test_subject"}, Link: "/orgs", TLP: policy.TLPAmber})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Notify.Fanout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Notify.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := rcv.Calls(); len(calls) != 2 || !calls[1].Valid || calls[1].Event != apiTestKind {
		t.Fatalf("webhook calls %+v", calls)
	}
	r = call(t, e, "GET", "/api/v1/inbox?unread=true", readTok, "", map[string]string{"Accept-Language": "en"})
	var inbox struct {
		Items []struct {
			ID      int64  `json:"id"`
			Subject string `json:"subject"`
			Link    string `json:"link"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r.into(t, &inbox)
	if r.Status != http.StatusOK || inbox.Total != 1 || inbox.Items[0].Subject != "certnet test notification" || inbox.Items[0].Link != "/orgs" {
		t.Fatalf("inbox: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/inbox/%d/read", inbox.Items[0].ID), readTok, "", nil); r.Status != http.StatusForbidden {
		t.Fatalf("read token marks: %d", r.Status)
	}
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/inbox/%d/read", inbox.Items[0].ID), adminTok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("someone else's entry: %d", r.Status)
	}
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/inbox/%d/read", inbox.Items[0].ID), viewerTok, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "GET", "/api/v1/inbox?unread=true", viewerTok, "", nil)
	r.into(t, &inbox)
	if inbox.Total != 0 {
		t.Fatalf("unread after read: %s", r.Body)
	}
	if r := call(t, e, "GET", "/api/v1/inbox?unread=maybe", viewerTok, "", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("unread=maybe: %d", r.Status)
	}

	// Preferences.
	r = call(t, e, "PUT", "/api/v1/me/notification-preferences", viewerTok, `{"preferences":[{"kind":"`+apiTestKind+`","email":false}]}`, nil)
	var prefs struct {
		Preferences []struct {
			Kind  string `json:"kind"`
			Email bool   `json:"email"`
		} `json:"preferences"`
	}
	r.into(t, &prefs)
	found := false
	for _, p := range prefs.Preferences {
		if p.Kind == apiTestKind {
			found = !p.Email
		}
	}
	if r.Status != http.StatusOK || !found {
		t.Fatalf("prefs: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "PUT", "/api/v1/me/notification-preferences", viewerTok, `{"preferences":[{"kind":"nope","email":true}]}`, nil); r.Status != http.StatusBadRequest {
		t.Fatalf("unknown kind: %d", r.Status)
	}
	if r := call(t, e, "PUT", "/api/v1/me/notification-preferences", viewerTok, `{"preferences":[{"kind":"`+apiTestKind+`"}]}`, nil); r.Status != http.StatusBadRequest {
		t.Fatalf("missing email: %d", r.Status)
	}

	// Delete: gone from the list, the log stays readable.
	if r := call(t, e, "DELETE", fmt.Sprintf("%s/%d", base, h.ID), adminTok, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := call(t, e, "GET", fmt.Sprintf("%s/%d", base, h.ID), adminTok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("deleted: %d", r.Status)
	}
	r = call(t, e, "GET", fmt.Sprintf("%s/%d/deliveries", base, h.ID), adminTok, "", nil)
	var log struct {
		Items []notify.Delivery `json:"items"`
	}
	r.into(t, &log)
	if r.Status != http.StatusOK || len(log.Items) != 2 {
		t.Fatalf("log of the deleted webhook: %d %s", r.Status, r.Body)
	}
	auditClean(t, e)
}
