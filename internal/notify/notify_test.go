package notify_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/jobs"
	"certnet/internal/notify"
	"certnet/internal/notify/notifytest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

const testKind = "test.notify"

func init() { notify.RegisterKind(testKind, "notify.kind.webhook_test") }

// world is a small network: the national coordinator, a province with a
// child member, and an unrelated member.
type world struct {
	env                      *apptest.Env
	svc                      *notify.Service
	national, prov, child, o org.Org
	nAdmin, pAdmin, pAnalyst auth.User
	pOff, cViewer, oUser     auth.User
	smtp                     *notifytest.SMTPServer
}

func newWorld(t *testing.T, db *store.DB) *world {
	env := apptest.Start(t, db)
	w := &world{env: env, svc: env.App.Notify}
	w.national = env.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	w.prov = env.Org("HN", "Sở Hà Nội", 0, org.RoleProvincialResponseUnit)
	w.child = env.Org("HN-BV", "Bệnh viện", w.prov.ID, org.RoleSystemOwner)
	w.o = env.Org("HCM", "Sở HCM", 0, org.RoleProvincialResponseUnit)
	w.nAdmin = env.User(w.national.ID, "nadmin", policy.RoleAdmin)
	w.pAdmin = env.User(w.prov.ID, "padmin", policy.RoleAdmin)
	w.pAnalyst = env.User(w.prov.ID, "panalyst", policy.RoleAnalyst)
	w.pOff = env.User(w.prov.ID, "poff", policy.RoleAnalyst)
	w.cViewer = env.User(w.child.ID, "cviewer", policy.RoleViewer)
	w.oUser = env.User(w.o.ID, "ouser", policy.RoleAnalyst)
	disabled := env.User(w.prov.ID, "pdisabled", policy.RoleAnalyst)
	ctx := context.Background()
	if err := env.App.Auth.SetDisabled(ctx, env.Sys, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.User{w.nAdmin, w.pAdmin, w.pAnalyst, w.pOff, w.cViewer, w.oUser, disabled} {
		locale := "vi"
		if u.ID == w.pAdmin.ID {
			locale = "en"
		}
		if _, err := db.Exec(ctx, "UPDATE users SET email = ?, locale = ? WHERE id = ?", u.Username+"@example.vn", locale, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.smtp = notifytest.StartSMTP(t)
	w.svc.Mailer = w.smtp.Mailer()
	w.svc.From = "certnet <certnet@vncert.vn>"
	w.svc.BaseURL = "https://certnet.example.vn"
	w.svc.Host = "certnet.example.vn"
	w.svc.AllowPrivateWebhooks = true // the receivers listen on 127.0.0.1
	return w
}

func (w *world) actor(t *testing.T, u auth.User) policy.Actor {
	a, err := w.env.App.Auth.ActorFor(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) enqueue(t *testing.T, m notify.Message) {
	t.Helper()
	if m.Kind == "" {
		m.Kind = testKind
	}
	if m.Subject.Key == "" {
		m.Subject = errs.Msg{Key: "notify.webhook.test_subject"}
		m.Body = errs.Msg{Key: "notify.webhook.test_body"}
	}
	if m.Link == "" {
		m.Link = "/incidents/SC-2026-000001"
	}
	err := w.env.DB.InTx(context.Background(), func(tx *store.Tx) error {
		return notify.Enqueue(context.Background(), tx, w.env.Clock.Now(), m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) fanout(t *testing.T) int {
	t.Helper()
	n, err := w.svc.Fanout(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (w *world) deliver(t *testing.T) int {
	t.Helper()
	n, err := w.svc.Deliver(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// inboxUsers returns the usernames whose inbox holds the notification.
func (w *world) inboxUsers(t *testing.T, key string) []string {
	t.Helper()
	rows, err := w.env.DB.Query(context.Background(), `SELECT u.username FROM notify_inbox i JOIN notifications n ON n.id = i.notification_id
		JOIN users u ON u.id = i.user_id WHERE n.dedupe_key = ? ORDER BY u.username`, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (w *world) deliveries(t *testing.T, key string) []string {
	t.Helper()
	rows, err := w.env.DB.Query(context.Background(), `SELECT d.channel, COALESCE(u.username, ''), d.address FROM notify_deliveries d
		JOIN notifications n ON n.id = d.notification_id LEFT JOIN users u ON u.id = d.user_id WHERE n.dedupe_key = ? ORDER BY d.channel, u.username, d.address`, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ch, u, addr string
		if err := rows.Scan(&ch, &u, &addr); err != nil {
			t.Fatal(err)
		}
		if ch == "email" {
			out = append(out, "email:"+u)
		} else {
			out = append(out, "webhook:"+addr)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFanoutRecipients(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		hookRcv := notifytest.StartReceiver(t)
		hook, err := w.svc.CreateWebhook(ctx, w.actor(t, w.pAdmin), w.prov.ID, notify.WebhookInput{URL: hookRcv.URL, Kinds: []string{testKind}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		other, err := w.svc.CreateWebhook(ctx, w.actor(t, w.pAdmin), w.prov.ID, notify.WebhookInput{URL: "https://siem.example.vn/other", Kinds: []string{notify.WebhookTestKind}, Active: true})
		if err != nil || other.ID == hook.ID {
			t.Fatal(err)
		}
		// poff turned e-mail off for the kind.
		if err := w.svc.SetPrefs(ctx, w.actor(t, w.pOff), []notify.Pref{{Kind: testKind, Email: false}}); err != nil {
			t.Fatal(err)
		}

		w.enqueue(t, notify.Message{Key: "roles", Orgs: []int64{w.prov.ID}, Roles: []policy.Role{policy.RoleAnalyst}, TLP: policy.TLPAmber})
		w.enqueue(t, notify.Message{Key: "everyone", Orgs: []int64{w.prov.ID}, Users: []int64{w.oUser.ID, w.pAdmin.ID}, TLP: policy.TLPGreen})
		w.enqueue(t, notify.Message{Key: "red", Orgs: []int64{w.prov.ID}, Users: []int64{w.cViewer.ID}, TLP: policy.TLPRed})
		w.enqueue(t, notify.Message{Key: "strict", Orgs: []int64{w.child.ID}, TLP: policy.TLPAmberStrict})
		w.enqueue(t, notify.Message{Key: "drill", Orgs: []int64{w.prov.ID}, TLP: policy.TLPGreen, Exercise: true})
		// A duplicate key is dropped.
		w.enqueue(t, notify.Message{Key: "roles", Orgs: []int64{w.o.ID}, TLP: policy.TLPAmber})

		if n := w.fanout(t); n != 5 {
			t.Fatalf("fanned %d, want 5", n)
		}
		if n := w.fanout(t); n != 0 {
			t.Fatalf("second fan-out fanned %d", n)
		}
		cases := []struct {
			key   string
			inbox []string
			out   []string
		}{
			// Analysts of the province; the disabled one is left out; poff
			// chose no e-mail.
			{"roles", []string{"panalyst", "poff"}, []string{"email:panalyst", "webhook:" + hookRcv.URL}},
			// Everyone in the province plus a named person elsewhere, once.
			{"everyone", []string{"ouser", "padmin", "panalyst", "poff"}, []string{"email:ouser", "email:padmin", "email:panalyst", "webhook:" + hookRcv.URL}},
			// RED: the named person only, and never a webhook.
			{"red", []string{"cviewer"}, []string{"email:cviewer"}},
			// AMBER+STRICT of the child: its own people only.
			{"strict", []string{"cviewer"}, []string{"email:cviewer"}},
			// An exercise: inboxes only.
			{"drill", []string{"padmin", "panalyst", "poff"}, nil},
		}
		for _, c := range cases {
			if got := w.inboxUsers(t, c.key); !slices.Equal(got, c.inbox) {
				t.Errorf("%s: inbox %v, want %v", c.key, got, c.inbox)
			}
			if got := w.deliveries(t, c.key); !slices.Equal(got, c.out) {
				t.Errorf("%s: deliveries %v, want %v", c.key, got, c.out)
			}
		}
	})
}

func TestEmailInRecipientsLanguage(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.enqueue(t, notify.Message{Key: "amber", Users: []int64{w.pAdmin.ID, w.pAnalyst.ID}, TLP: policy.TLPAmber})
		w.fanout(t)
		if n := w.deliver(t); n != 2 {
			t.Fatalf("delivered %d", n)
		}
		mails, err := w.smtp.Wait(2, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		byTo := map[string]notifytest.Mail{}
		for _, m := range mails {
			byTo[m.To[0]] = m
		}
		en, vi := byTo["padmin@example.vn"], byTo["panalyst@example.vn"]
		if en.Subject != "[certnet][TLP:AMBER] certnet test notification" {
			t.Errorf("en subject %q", en.Subject)
		}
		if vi.Subject != "[certnet][TLP:AMBER] Thông báo thử của certnet" {
			t.Errorf("vi subject %q", vi.Subject)
		}
		if !strings.Contains(string(vi.Raw), "Subject: =?utf-8?q?") {
			t.Errorf("subject not RFC 2047 encoded:\n%s", vi.Raw)
		}
		for _, m := range mails {
			if m.From != "certnet@vncert.vn" {
				t.Errorf("envelope from %q", m.From)
			}
			if !strings.HasPrefix(m.MessageID, "<certnet.delivery.") || !strings.HasSuffix(m.MessageID, "@certnet.example.vn>") {
				t.Errorf("message id %q", m.MessageID)
			}
			// AMBER: subject and link, never the body.
			if strings.Contains(m.Body, "configured correctly") || strings.Contains(m.Body, "cấu hình đúng") {
				t.Errorf("AMBER body sent by e-mail:\n%s", m.Body)
			}
			if !strings.Contains(m.Body, "https://certnet.example.vn/incidents/SC-2026-000001") || !strings.Contains(m.Body, "TLP:AMBER") {
				t.Errorf("body without link or label:\n%s", m.Body)
			}
		}
		// GREEN carries the body.
		w.enqueue(t, notify.Message{Key: "green", Users: []int64{w.pAnalyst.ID}, TLP: policy.TLPGreen})
		w.fanout(t)
		w.deliver(t)
		mails, err = w.smtp.Wait(3, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(mails[2].Body, "Điểm nhận webhook đã được cấu hình đúng.") {
			t.Errorf("GREEN body missing:\n%s", mails[2].Body)
		}
		// Nothing is sent twice.
		if n := w.deliver(t); n != 0 {
			t.Errorf("second run sent %d", n)
		}
	})
}

func TestWebhookSignedAndRetriedWithBackoff(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		rcv := notifytest.StartReceiver(t)
		hook, err := w.svc.CreateWebhook(ctx, w.actor(t, w.pAdmin), w.prov.ID, notify.WebhookInput{URL: rcv.URL, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hook.Secret, "whsec_") {
			t.Fatalf("secret %q", hook.Secret)
		}
		rcv.SetSecret(hook.Secret)
		rcv.Answer(500, 503)
		w.enqueue(t, notify.Message{Key: "hook", Orgs: []int64{w.prov.ID}, Roles: []policy.Role{policy.RoleAuditor}, TLP: policy.TLPGreen})
		w.fanout(t)
		w.deliver(t)
		log, err := w.svc.WebhookLog(ctx, w.actor(t, w.pAdmin), w.prov.ID, hook.ID, 10)
		if err != nil || len(log) != 1 {
			t.Fatalf("log %v %v", log, err)
		}
		d := log[0]
		if d.Status != notify.StatusPending || d.Attempts != 1 || d.LastStatus != 500 || !d.NextAttemptAt.Equal(w.env.Clock.Now().Truncate(time.Microsecond).Add(time.Minute)) {
			t.Fatalf("after a 500: %+v", d)
		}
		// Not due yet.
		if n := w.deliver(t); n != 0 {
			t.Fatalf("retried before the backoff: %d", n)
		}
		w.env.Clock.Advance(time.Minute)
		w.deliver(t) // 503
		log, _ = w.svc.WebhookLog(ctx, w.actor(t, w.pAdmin), w.prov.ID, hook.ID, 10)
		if log[0].Attempts != 2 || log[0].Status != notify.StatusPending {
			t.Fatalf("after a 503: %+v", log[0])
		}
		w.env.Clock.Advance(time.Minute)
		if n := w.deliver(t); n != 0 {
			t.Fatal("second backoff is 2 minutes")
		}
		w.env.Clock.Advance(time.Minute)
		w.deliver(t)
		log, _ = w.svc.WebhookLog(ctx, w.actor(t, w.pAdmin), w.prov.ID, hook.ID, 10)
		if log[0].Status != notify.StatusSent || log[0].Attempts != 3 || log[0].LastStatus != 204 || log[0].SentAt == nil {
			t.Fatalf("after success: %+v", log[0])
		}
		calls := rcv.Calls()
		if len(calls) != 3 {
			t.Fatalf("%d calls", len(calls))
		}
		for _, c := range calls {
			if !c.Valid {
				t.Errorf("signature did not verify: %+v", c)
			}
			if c.Delivery != strconv.FormatInt(d.ID, 10) || c.Event != testKind {
				t.Errorf("headers %+v", c)
			}
			if c.Payload.TLP != "GREEN" || c.Payload.Body == "" || c.Payload.Link != "https://certnet.example.vn/incidents/SC-2026-000001" || c.Payload.ID == 0 {
				t.Errorf("payload %+v", c.Payload)
			}
		}
		// A tampered body does not verify.
		if notify.Verify(hook.Secret, calls[0].Timestamp, append(calls[0].Body, ' '), calls[0].Signature) {
			t.Error("tampered body verified")
		}
		// AMBER: no body in the call.
		w.enqueue(t, notify.Message{Key: "hook-amber", Orgs: []int64{w.prov.ID}, TLP: policy.TLPAmber})
		w.fanout(t)
		w.deliver(t)
		calls = rcv.Calls()
		if last := calls[len(calls)-1]; last.Payload.Body != "" || last.Payload.TLP != "AMBER" || !last.Valid {
			t.Errorf("AMBER call %+v", last.Payload)
		}
		// Send a test.
		td, err := w.svc.TestWebhook(ctx, w.actor(t, w.pAdmin), w.prov.ID, hook.ID)
		if err != nil || td.Status != notify.StatusSent || td.Kind != notify.WebhookTestKind {
			t.Fatalf("test: %+v %v", td, err)
		}
	})
}

func TestDeadAfterMaxAttempts(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.svc.MaxAttempts = 3
		w.smtp.SetFail(true)
		w.enqueue(t, notify.Message{Key: "dead", Users: []int64{w.pAnalyst.ID}})
		w.fanout(t)
		for i := 0; i < 5; i++ {
			w.deliver(t)
			w.env.Clock.Advance(time.Hour)
		}
		st, err := w.svc.Outbox(context.Background(), w.actor(t, w.nAdmin))
		if err != nil {
			t.Fatal(err)
		}
		if st.Dead != 1 || st.Pending != 0 || len(st.DeadDeliveries) != 1 || st.DeadDeliveries[0].Attempts != 3 ||
			!strings.Contains(st.DeadDeliveries[0].LastError, "450") {
			t.Fatalf("outbox %+v", st)
		}
		// Only national administrators and auditors see the outbox.
		if _, err := w.svc.Outbox(context.Background(), w.actor(t, w.pAdmin)); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("provincial admin: %v", err)
		}
	})
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, d := range want {
		if got := notify.Backoff(i + 1); got != d {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, d)
		}
	}
	if notify.Backoff(1000) != time.Hour {
		t.Error("no cap")
	}
}

// A node claims a delivery and dies before sending: the claim expires and
// another node sends it, once.
func TestCrashAfterClaimSentOnceAfterLease(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		w.enqueue(t, notify.Message{Key: "crash", Users: []int64{w.pAnalyst.ID}})
		w.fanout(t)
		now := w.env.Clock.Now()
		if _, err := db.Exec(ctx, "UPDATE notify_deliveries SET claimed_until = ?, claimed_by = 'dead-node'", now.Add(notify.DefaultClaim)); err != nil {
			t.Fatal(err)
		}
		if n := w.deliver(t); n != 0 {
			t.Fatalf("sent under a live claim: %d", n)
		}
		w.env.Clock.Advance(notify.DefaultClaim)
		if n := w.deliver(t); n != 1 {
			t.Fatalf("not sent after the claim expired: %d", n)
		}
		w.env.Clock.Advance(notify.DefaultClaim * 2)
		w.deliver(t)
		if _, err := w.smtp.Wait(1, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(w.smtp.Mails()); n != 1 {
			t.Fatalf("%d mails, want exactly 1", n)
		}
	})
}

// Two nodes run fan-out and delivery at the same time, each several times:
// nobody is told twice.
func TestTwoNodesSendNothingTwice(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rcv := notifytest.StartReceiver(t)
		hook, err := w.svc.CreateWebhook(context.Background(), w.actor(t, w.pAdmin), w.prov.ID, notify.WebhookInput{URL: rcv.URL, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		rcv.SetSecret(hook.Secret)
		const msgs = 6
		for i := 0; i < msgs; i++ {
			w.enqueue(t, notify.Message{Key: "twice-" + strconv.Itoa(i), Orgs: []int64{w.prov.ID}, TLP: policy.TLPGreen})
		}
		// Node b: another service on the same database.
		b := notify.NewService(db, w.env.App.Orgs, w.env.Clock.Now, nil)
		b.Mailer, b.From, b.BaseURL, b.Host = w.svc.Mailer, w.svc.From, w.svc.BaseURL, w.svc.Host
		b.AllowPrivateWebhooks = true
		w.svc.SetNode("node-a")
		b.SetNode("node-b")
		var wg sync.WaitGroup
		for _, s := range []*notify.Service{w.svc, b} {
			for r := 0; r < 2; r++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 3; i++ {
						if _, err := s.Fanout(context.Background()); err != nil {
							t.Error(err)
						}
						if _, err := s.Deliver(context.Background()); err != nil {
							t.Error(err)
						}
					}
				}()
			}
		}
		wg.Wait()
		// Whatever is left (a run that found nothing yet) goes now.
		w.fanout(t)
		w.deliver(t)
		// 3 people with e-mail in the province (padmin, panalyst, poff).
		mails, err := w.smtp.Wait(msgs*3, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if got := len(w.smtp.Mails()); got != msgs*3 {
			t.Fatalf("%d mails, want %d", got, msgs*3)
		}
		ids := map[string]bool{}
		for _, m := range mails {
			if ids[m.MessageID] {
				t.Fatalf("sent twice: %s", m.MessageID)
			}
			ids[m.MessageID] = true
		}
		calls := rcv.Calls()
		seen := map[string]bool{}
		for _, c := range calls {
			if seen[c.Delivery] {
				t.Fatalf("webhook delivery %s twice", c.Delivery)
			}
			seen[c.Delivery] = true
		}
		if len(calls) != msgs {
			t.Fatalf("%d webhook calls, want %d", len(calls), msgs)
		}
		var inbox int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM notify_inbox").Scan(&inbox); err != nil {
			t.Fatal(err)
		}
		if inbox != msgs*3 {
			t.Fatalf("%d inbox rows, want %d", inbox, msgs*3)
		}
	})
}

// Two job runners with leases, twice each: the jobs run one at a time and
// nothing is sent twice.
func TestJobsRunners(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.enqueue(t, notify.Message{Key: "jobs", Users: []int64{w.pAnalyst.ID, w.oUser.ID}})
		for i := 0; i < 2; i++ {
			for _, job := range []string{notify.JobFanout, notify.JobDeliver} {
				if _, err := w.env.App.Jobs.RunNow(context.Background(), job); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := w.smtp.Wait(2, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(w.smtp.Mails()); n != 2 {
			t.Fatalf("%d mails", n)
		}

		// Two runners (two nodes, each with its own service) at once.
		other := notify.NewService(db, w.env.App.Orgs, w.env.Clock.Now, nil)
		other.Mailer, other.From, other.Host = w.svc.Mailer, w.svc.From, w.svc.Host
		r2 := jobs.New(db, w.env.Clock.Now, nil)
		r2.Every(notify.JobFanout, time.Minute, func(ctx context.Context) error { _, err := other.Fanout(ctx); return err })
		r2.Every(notify.JobDeliver, time.Minute, func(ctx context.Context) error { _, err := other.Deliver(ctx); return err })
		for i := 0; i < 5; i++ {
			w.enqueue(t, notify.Message{Key: "runners-" + strconv.Itoa(i), Users: []int64{w.pAnalyst.ID, w.oUser.ID}})
		}
		var wg sync.WaitGroup
		for _, r := range []*jobs.Runner{w.env.App.Jobs, r2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 4; i++ {
					for _, job := range []string{notify.JobFanout, notify.JobDeliver} {
						if _, err := r.RunNow(context.Background(), job); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		for _, job := range []string{notify.JobFanout, notify.JobDeliver} {
			w.env.App.Jobs.RunNow(context.Background(), job)
		}
		if _, err := w.smtp.Wait(12, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		ids := map[string]bool{}
		for _, m := range w.smtp.Mails() {
			if ids[m.MessageID] {
				t.Fatalf("sent twice: %s", m.MessageID)
			}
			ids[m.MessageID] = true
		}
		if len(ids) != 12 {
			t.Fatalf("%d mails, want 12", len(ids))
		}
	})
}

func TestInbox(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		a := w.actor(t, w.pAnalyst)
		for i := 0; i < 3; i++ {
			w.enqueue(t, notify.Message{Key: "inbox-" + strconv.Itoa(i), Users: []int64{w.pAnalyst.ID}, Link: "/incidents/" + strconv.Itoa(i)})
			w.env.Clock.Advance(time.Second)
		}
		w.fanout(t)
		if n, err := w.svc.Unread(ctx, a); err != nil || n != 3 {
			t.Fatalf("unread %d %v", n, err)
		}
		items, total, err := w.svc.Inbox(ctx, a, notify.InboxFilter{})
		if err != nil || total != 3 || len(items) != 3 || items[0].Link != "/incidents/2" {
			t.Fatalf("inbox %+v %d %v", items, total, err)
		}
		// Mark the newest read: it moves after the unread ones.
		link, err := w.svc.MarkRead(ctx, a, items[0].ID)
		if err != nil || link != "/incidents/2" {
			t.Fatal(link, err)
		}
		items, _, _ = w.svc.Inbox(ctx, a, notify.InboxFilter{})
		if items[0].Link != "/incidents/1" || items[2].Link != "/incidents/2" || items[2].ReadAt == nil {
			t.Fatalf("order after read: %+v", items)
		}
		if _, total, _ := w.svc.Inbox(ctx, a, notify.InboxFilter{UnreadOnly: true}); total != 2 {
			t.Fatalf("unread only: %d", total)
		}
		// Someone else's entry does not exist for me.
		if _, err := w.svc.MarkRead(ctx, w.actor(t, w.oUser), items[0].ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("other's entry: %v", err)
		}
		if n, err := w.svc.MarkAllRead(ctx, a); err != nil || n != 2 {
			t.Fatalf("mark all %d %v", n, err)
		}
		if n, _ := w.svc.Unread(ctx, a); n != 0 {
			t.Fatalf("unread after all: %d", n)
		}
		// A read-only token may read but not mark.
		ro := a
		ro.TokenScopes = []string{"read"}
		if _, _, err := w.svc.Inbox(ctx, ro, notify.InboxFilter{}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.MarkAllRead(ctx, ro); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("read token marks: %v", err)
		}
	})
}

func TestPreferences(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		a := w.actor(t, w.pAnalyst)
		prefs, err := w.svc.Prefs(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(prefs, func(p notify.Pref) bool { return p.Kind == testKind })
		if i < 0 || !prefs[i].Email {
			t.Fatalf("default: %+v", prefs)
		}
		if err := w.svc.SetPrefs(ctx, a, []notify.Pref{{Kind: testKind, Email: false}}); err != nil {
			t.Fatal(err)
		}
		prefs, _ = w.svc.Prefs(ctx, a)
		if prefs[i].Email {
			t.Fatal("not saved")
		}
		err = w.svc.SetPrefs(ctx, a, []notify.Pref{{Kind: testKind, Email: true}, {Kind: "no.such", Email: true}})
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Fields["preferences[1].kind"].Key != "notify.err.unknown_kind" {
			t.Fatalf("unknown kind: %v", err)
		}
		prefs, _ = w.svc.Prefs(ctx, a)
		if prefs[i].Email {
			t.Fatal("a refused change was saved")
		}
	})
}

func TestWebhookAdmin(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		admin := w.actor(t, w.pAdmin)
		for _, bad := range []string{"", "ftp://x.vn/h", "https://user:pw@x.vn/h", "javascript:alert(1)", "https:///nohost", "http://x.vn/a b"} {
			_, err := w.svc.CreateWebhook(ctx, admin, w.prov.ID, notify.WebhookInput{URL: bad, Active: true})
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || !e.Has("url") {
				t.Errorf("url %q: %v", bad, err)
			}
		}
		if _, err := w.svc.CreateWebhook(ctx, admin, w.prov.ID, notify.WebhookInput{URL: "https://x.vn/h", Kinds: []string{"nope"}}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("unknown kind: %v", err)
		}
		h, err := w.svc.CreateWebhook(ctx, admin, w.prov.ID, notify.WebhookInput{URL: " https://siem.hanoi.vn/certnet ", Active: true})
		if err != nil || h.URL != "https://siem.hanoi.vn/certnet" {
			t.Fatal(h, err)
		}
		// The secret is shown once.
		list, err := w.svc.Webhooks(ctx, admin, w.prov.ID)
		if err != nil || len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("list %+v %v", list, err)
		}
		// An analyst may not manage webhooks; another organisation's admin
		// does not see them; the national admin manages them.
		if _, err := w.svc.CreateWebhook(ctx, w.actor(t, w.pAnalyst), w.prov.ID, notify.WebhookInput{URL: "https://x.vn/h"}); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("analyst: %v", err)
		}
		if _, err := w.svc.Webhooks(ctx, w.actor(t, w.oUser), w.prov.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("other org: %v", err)
		}
		if _, err := w.svc.UpdateWebhook(ctx, w.actor(t, w.nAdmin), w.prov.ID, h.ID, notify.WebhookInput{URL: h.URL, Kinds: []string{testKind}}); err != nil {
			t.Errorf("national admin: %v", err)
		}
		// A webhook of another organisation is not found through this one.
		if err := w.svc.DeleteWebhook(ctx, w.actor(t, w.nAdmin), w.o.ID, h.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("wrong org: %v", err)
		}
		if err := w.svc.DeleteWebhook(ctx, admin, w.prov.ID, h.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := w.svc.Webhooks(ctx, admin, w.prov.ID); len(list) != 0 {
			t.Fatal("deleted webhook listed")
		}
		var audited int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE entity = 'webhook'").Scan(&audited); err != nil {
			t.Fatal(err)
		}
		if audited != 3 {
			t.Errorf("%d audit entries, want 3", audited)
		}
	})
}

// The SMTP client: STARTTLS and AUTH against a server that requires both;
// STARTTLS required against a server without it is an error, optional
// sends in the clear.
func TestSMTPClient(t *testing.T) {
	ctx := context.Background()
	msg := []byte("From: a@vncert.vn\r\nTo: b@vncert.vn\r\nSubject: x\r\n\r\nhello\r\n")
	secure := notifytest.StartSMTPTLS(t, "certnet", "mật-khẩu")
	if err := secure.Mailer().Send(ctx, "a@vncert.vn", "b@vncert.vn", msg); err != nil {
		t.Fatal(err)
	}
	if got := secure.Authed(); len(got) != 1 || got[0] != "certnet" {
		t.Fatalf("authed %v", got)
	}
	bad := secure.Mailer()
	bad.Password = "sai"
	if err := bad.Send(ctx, "a@vncert.vn", "b@vncert.vn", msg); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("wrong password: %v", err)
	}
	untrusted := secure.Mailer()
	untrusted.TLS = nil // the system roots do not know the test certificate
	if err := untrusted.Send(ctx, "a@vncert.vn", "b@vncert.vn", msg); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("untrusted certificate: %v", err)
	}

	plain := notifytest.StartSMTP(t)
	m := plain.Mailer()
	m.StartTLS = notify.StartTLSRequired
	if err := m.Send(ctx, "a@vncert.vn", "b@vncert.vn", msg); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("required without STARTTLS: %v", err)
	}
	m.StartTLS = notify.StartTLSOptional
	if err := m.Send(ctx, "a@vncert.vn", "b@vncert.vn", msg); err != nil {
		t.Fatal(err)
	}
	if mails, err := plain.Wait(1, 5*time.Second); err != nil || mails[0].Body != "hello\n" {
		t.Fatalf("%v %+v", err, mails)
	}
}

// By default a webhook may not reach inside addresses, also through a
// name; the refusal is the delivery's error.
func TestWebhookPrivateAddressRefused(t *testing.T) {
	w := newWorld(t, testkit.NewSQLite(t))
	w.svc.AllowPrivateWebhooks = false
	ctx := context.Background()
	rcv := notifytest.StartReceiver(t)
	for _, u := range []string{rcv.URL, strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)} {
		h, err := w.svc.CreateWebhook(ctx, w.actor(t, w.pAdmin), w.prov.ID, notify.WebhookInput{URL: u, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		d, err := w.svc.TestWebhook(ctx, w.actor(t, w.pAdmin), w.prov.ID, h.ID)
		if err != nil || d.Status != notify.StatusPending || !strings.Contains(d.LastError, "not allowed") {
			t.Fatalf("%s: %+v %v", u, d, err)
		}
	}
	if n := len(rcv.Calls()); n != 0 {
		t.Fatalf("%d calls reached the inside", n)
	}
}
