package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/notify/notifytest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// The notification jobs are registered with the runner, run from it, and
// the outbox shows on /metrics.
func TestNotifyWiring(t *testing.T) {
	e := apptest.StartSQLite(t)
	ctx := context.Background()
	smtp := notifytest.StartSMTP(t)
	e.App.Notify.Mailer, e.App.Notify.From = smtp.Mailer(), "certnet@vncert.vn"
	o := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	u := e.User(o.ID, "truc.ban", policy.RoleAnalyst)
	if _, err := e.DB.Exec(ctx, "UPDATE users SET email = 'truc.ban@vncert.vn' WHERE id = ?", u.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		return notify.Enqueue(ctx, tx, e.Clock.Now(), notify.Message{Kind: "app.test", Key: "wiring", Users: []int64{u.ID},
			Subject: errs.Msg{Key: "notify.webhook.test_subject"}})
	}); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, e.URL+"/metrics")
	if !strings.Contains(body, `certnet_notify_outbox{state="fanout"} 1`) {
		t.Fatalf("metrics:\n%s", body)
	}
	for _, job := range []string{notify.JobFanout, notify.JobDeliver} {
		if ran, err := e.App.Jobs.RunNow(ctx, job); !ran || err != nil {
			t.Fatalf("%s: ran=%v err=%v", job, ran, err)
		}
	}
	mails, err := smtp.Wait(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if mails[0].To[0] != "truc.ban@vncert.vn" || !strings.HasPrefix(mails[0].Subject, "[certnet][TLP:AMBER] ") {
		t.Fatalf("mail %+v", mails[0])
	}
	_, body = get(t, e.URL+"/metrics")
	if !strings.Contains(body, `certnet_notify_outbox{state="sent"} 1`) {
		t.Fatalf("metrics after:\n%s", body)
	}
}
