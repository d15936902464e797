package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/notify/notifytest"
	"certnet/internal/policy"
	"certnet/internal/store"
)

const webTestKind = "web.test"

func init() {
	notify.RegisterKind(webTestKind, "notify.kind.webhook_test")
	addWMRoutes(wmNotifyRoutes)
}

// onInbox decides the pages of one's own inbox and settings.
func onInbox(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		return c.check(act, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: policy.TLPAmber, Subject: c.a.user.ID})
	}
}

// onWebhooks decides an organisation's webhook pages: the organisation
// must be readable, then the webhook actions in turn.
func onWebhooks(acts ...policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		if err := c.check(policy.OrgRead, c.t.org.Resource()); err != nil {
			return err
		}
		for _, act := range acts {
			if err := c.check(act, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}); err != nil {
				return err
			}
		}
		return nil
	}
}

// wmWebhook makes (as the system) a webhook of the target organisation.
func wmWebhook(t *testing.T, c *wmCase) notify.Webhook {
	// Keep under the per-organisation limit.
	old, _ := c.m.e.App.Notify.Webhooks(c.m.ctx, c.m.e.Sys, c.t.org.ID)
	for _, h := range old {
		c.m.e.App.Notify.DeleteWebhook(c.m.ctx, c.m.e.Sys, c.t.org.ID, h.ID)
	}
	h, err := c.m.e.App.Notify.CreateWebhook(c.m.ctx, c.m.e.Sys, c.t.org.ID,
		notify.WebhookInput{URL: fmt.Sprintf("http://127.0.0.1:1/hook/%d", c.n), Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// wmInboxEntry puts a notification into the actor's inbox and returns its
// entry's id.
func wmInboxEntry(t *testing.T, c *wmCase) int64 {
	e := c.m.e
	key := fmt.Sprintf("wm-inbox-%d", c.n)
	err := e.DB.InTx(c.m.ctx, func(tx *store.Tx) error {
		return notify.Enqueue(c.m.ctx, tx, e.Clock.Now(), notify.Message{Kind: webTestKind, Key: key, Users: []int64{c.a.user.ID},
			Subject: errs.Msg{Key: "notify.webhook.test_subject"}, Link: "/incidents", TLP: policy.TLPGreen})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Fan out everything pending: other routes of the matrix queue
	// messages too, and one run takes a batch.
	for {
		n, err := e.App.Notify.Fanout(c.m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	var id int64
	if err := e.DB.QueryRow(c.m.ctx, `SELECT i.id FROM notify_inbox i JOIN notifications n ON n.id = i.notification_id
		WHERE n.dedupe_key = ? AND i.user_id = ?`, key, c.a.user.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

var wmNotifyRoutes = map[string]wmRoute{
	"GET /inbox": {
		req:    wmGet(wmPath("/inbox")),
		decide: onInbox(policy.NotifyInboxRead),
	},
	"POST /inbox/{id}/read": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/inbox/1/read", form: url.Values{}}
			}
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/inbox/%d/read", wmInboxEntry(t, c)), form: url.Values{"open": {"1"}}}
		},
		decide: onInbox(policy.NotifyInboxWrite),
	},
	"POST /inbox/read-all": {
		req:    wmPost(wmPath("/inbox/read-all"), nil),
		decide: onInbox(policy.NotifyInboxWrite),
	},
	"GET /profile/notifications": {
		req:    wmGet(wmPath("/profile/notifications")),
		decide: onInbox(policy.NotifyInboxRead),
	},
	"POST /profile/notifications": {
		req: wmPost(wmPath("/profile/notifications"), func(c *wmCase) url.Values {
			return url.Values{"kind": {webTestKind}, "email": {webTestKind}}
		}),
		decide: onInbox(policy.NotifyInboxWrite),
	},
	"GET /orgs/{id}/webhooks": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/webhooks") }),
		decide: onWebhooks(policy.NotifyWebhookRead),
	},
	"POST /orgs/{id}/webhooks": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/webhooks") }, func(c *wmCase) url.Values {
			return url.Values{"url": {fmt.Sprintf("https://siem%d.matrix.vn/hook", c.n)}, "active": {"1"}}
		}),
		decide: onWebhooks(policy.NotifyWebhookWrite),
		after: func(t *testing.T, c *wmCase) {
			// Keep under the per-organisation limit.
			hooks, _ := c.m.e.App.Notify.Webhooks(c.m.ctx, c.m.e.Sys, c.t.org.ID)
			for _, h := range hooks {
				c.m.e.App.Notify.DeleteWebhook(c.m.ctx, c.m.e.Sys, c.t.org.ID, h.ID)
			}
		},
	},
	"GET /orgs/{id}/webhooks/{wid}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: c.orgPath(fmt.Sprintf("/webhooks/%d", wmWebhook(t, c).ID))}
		},
		decide: onWebhooks(policy.NotifyWebhookRead),
	},
	"POST /orgs/{id}/webhooks/{wid}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.orgPath(fmt.Sprintf("/webhooks/%d", wmWebhook(t, c).ID)),
				form: url.Values{"url": {fmt.Sprintf("https://edit%d.matrix.vn/hook", c.n)}, "active": {"1"}}}
		},
		decide: onWebhooks(policy.NotifyWebhookRead, policy.NotifyWebhookWrite),
	},
	"POST /orgs/{id}/webhooks/{wid}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.orgPath(fmt.Sprintf("/webhooks/%d/delete", wmWebhook(t, c).ID)), form: url.Values{}}
		},
		decide: onWebhooks(policy.NotifyWebhookWrite),
	},
	"POST /orgs/{id}/webhooks/{wid}/test": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.orgPath(fmt.Sprintf("/webhooks/%d/test", wmWebhook(t, c).ID)), form: url.Values{}}
		},
		decide: onWebhooks(policy.NotifyWebhookWrite),
	},
	"GET /admin/outbox": {
		req: wmGet(wmPath("/admin/outbox")),
		decide: func(c *wmCase) error {
			return c.check(policy.NotifyOutboxRead, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: policy.TLPAmber})
		},
	},
}

var webhookSecretRe = regexp.MustCompile(`id="new-secret"[^>]*value="(whsec_[0-9a-f]+)"`)

func TestWebNotifications(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	smtp := notifytest.StartSMTP(t)
	e.App.Notify.Mailer, e.App.Notify.From = smtp.Mailer(), "certnet@vncert.vn"

	// The Hanoi admin creates a webhook: a bad URL is shown next to its
	// field; a good one shows the secret once.
	ab := newOrgBrowser(t, e)
	ab.login(n.hanoiAdmin)
	hooks := "/orgs/" + orgID(n.hanoi.ID) + "/webhooks"
	p := ab.post(hooks, url.Values{"url": {"ftp://siem.hanoi.vn"}, "active": {"1"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="url-err"`) || !strings.Contains(p.Body, `value="ftp://siem.hanoi.vn"`) {
		t.Fatalf("bad url: %d\n%s", p.Status, p.Body)
	}
	rcv := notifytest.StartReceiver(t)
	e.App.Notify.AllowPrivateWebhooks = true // the receiver listens on 127.0.0.1
	p = ab.post(hooks, url.Values{"url": {rcv.URL}, "active": {"1"}, "kinds": {webTestKind}})
	m := webhookSecretRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || m == nil {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	rcv.SetSecret(m[1])
	if p := ab.get(hooks); strings.Contains(p.Body, m[1]) {
		t.Fatal("secret shown a second time")
	}
	list, _ := e.App.Notify.Webhooks(ctx, e.Sys, n.hanoi.ID)
	hookPath := hooks + "/" + orgID(list[0].ID)
	p = ab.post(hookPath+"/test", url.Values{})
	if p.Status != http.StatusOK || len(rcv.Calls()) != 1 || !rcv.Calls()[0].Valid {
		t.Fatalf("test: %d %+v", p.Status, rcv.Calls())
	}
	orgWant(t, "test", p.Body, "Gửi thử thành công (HTTP 204).")
	p = ab.get(hookPath)
	orgWant(t, "log", p.Body, "<td>204</td>", "Đã gửi")
	// The sent delivery shows when it was sent as well as when it was made.
	if n := strings.Count(p.Body, `<time datetime="`); n != 2 {
		t.Fatalf("log: %d times, want created and sent\n%s", n, p.Body)
	}

	// A viewer of Hanoi gets a notification: the badge, the inbox, read.
	vb := newOrgBrowser(t, e)
	vb.login(n.viewerHN)
	if p := vb.get("/"); strings.Contains(p.Body, "badge-unread") {
		t.Fatal("badge with nothing unread")
	}
	err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		return notify.Enqueue(ctx, tx, e.Clock.Now(), notify.Message{Kind: webTestKind, Key: "web-1", Orgs: []int64{n.hanoi.ID},
			Subject: errs.Msg{Key: "notify.webhook.test_subject"}, Body: errs.Msg{Key: "notify.webhook.test_body"},
			Link: "/orgs/" + orgID(n.hanoi.ID), TLP: policy.TLPGreen})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Notify.Fanout(ctx); err != nil {
		t.Fatal(err)
	}
	p = vb.get("/")
	orgWant(t, "badge and what needs me now", p.Body, "badge-unread", "1 thông báo chưa đọc", `href="/inbox?unread=1"`)
	p = vb.get("/inbox")
	orgWant(t, "inbox", p.Body, "Thông báo thử của certnet", "Điểm nhận webhook đã được cấu hình đúng.", "TLP:GREEN")
	id := regexp.MustCompile(`action="/inbox/(\d+)/read"`).FindStringSubmatch(p.Body)
	if id == nil {
		t.Fatalf("no read form\n%s", p.Body)
	}
	p = vb.post("/inbox/"+id[1]+"/read", url.Values{"open": {"1"}})
	if p.Status != http.StatusSeeOther || p.Location != "/orgs/"+orgID(n.hanoi.ID) {
		t.Fatalf("open: %d %q", p.Status, p.Location)
	}
	if p := vb.get("/inbox"); strings.Contains(p.Body, "badge-unread") {
		t.Fatal("still unread")
	}
	// Another user's entry is not found.
	if p := ab.post("/inbox/"+id[1]+"/read", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("someone else's entry: %d", p.Status)
	}

	// Preferences: e-mail off for the kind.
	p = vb.get("/profile/notifications")
	orgWant(t, "prefs", p.Body, `value="`+webTestKind+`" checked`)
	p = vb.post("/profile/notifications", url.Values{"kind": {webTestKind}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save prefs: %d\n%s", p.Status, p.Body)
	}
	if p := vb.get("/profile/notifications"); strings.Contains(p.Body, `value="`+webTestKind+`" checked`) {
		t.Fatal("preference not saved")
	}
	if p := vb.post("/profile/notifications", url.Values{"kind": {"no.such"}}); p.Status != http.StatusBadRequest {
		t.Fatalf("unknown kind: %d", p.Status)
	}

	// The outbox page: the national admin only.
	nb := newOrgBrowser(t, e)
	nb.login(n.adminName)
	p = nb.get("/admin/outbox")
	orgWant(t, "outbox", p.Body, "Hàng đợi thông báo")
	if p := ab.get("/admin/outbox"); p.Status != http.StatusForbidden {
		t.Fatalf("provincial admin on the outbox: %d", p.Status)
	}
}
