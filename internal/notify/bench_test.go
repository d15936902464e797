package notify_test

import (
	"context"
	"fmt"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// benchWorld: one organisation of 50 people with e-mail addresses.
func benchWorld(b *testing.B) (*apptest.Env, org.Org, []int64) {
	env := apptest.Start(b, testkit.NewSQLite(b))
	o := env.Org("BENCH", "Đơn vị đo", 0, org.RoleNationalCoordinator)
	var ids []int64
	for i := 0; i < 50; i++ {
		u := env.User(o.ID, fmt.Sprintf("u%02d", i), policy.RoleAnalyst)
		if _, err := env.DB.Exec(context.Background(), "UPDATE users SET email = ? WHERE id = ?", fmt.Sprintf("u%02d@bench.vn", i), u.ID); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	env.App.Notify.Mailer = nopMailer{}
	return env, o, ids
}

// benchEnqueue queues one message with the given key to the organisation.
func benchEnqueue(b *testing.B, env *apptest.Env, orgID int64, key string) {
	ctx := context.Background()
	if err := env.DB.InTx(ctx, func(tx *store.Tx) error {
		return notify.Enqueue(ctx, tx, env.Clock.Now(), notify.Message{Kind: "bench", Key: key, Orgs: []int64{orgID},
			Subject: errs.Msg{Key: "notify.webhook.test_subject"}})
	}); err != nil {
		b.Fatal(err)
	}
}

type nopMailer struct{}

func (nopMailer) Send(context.Context, string, string, []byte) error { return nil }

// BenchmarkFanout: one notification to an organisation of 50 people (50
// inbox rows and 50 e-mail deliveries in one transaction).
func BenchmarkFanout(b *testing.B) {
	env, o, _ := benchWorld(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		benchEnqueue(b, env, o.ID, fmt.Sprint("b", i))
		b.StartTimer()
		if n, err := env.App.Notify.Fanout(ctx); err != nil || n != 1 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkUnread: the header badge's count for someone with 1,000 inbox
// entries, half of them unread.
func BenchmarkUnread(b *testing.B) {
	env, o, ids := benchWorld(b)
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		benchEnqueue(b, env, o.ID, fmt.Sprint("u", i))
	}
	for {
		n, err := env.App.Notify.Fanout(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	u, err := env.App.Auth.GetUser(ctx, env.Sys, ids[0])
	if err != nil {
		b.Fatal(err)
	}
	a, err := env.App.Auth.ActorFor(ctx, u, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := env.DB.Exec(ctx, "UPDATE notify_inbox SET read_at = created_at WHERE user_id = ? AND notification_id % 2 = 0", ids[0]); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := env.App.Notify.Unread(ctx, a); err != nil || n != 500 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkDeliver: sending 50 e-mail deliveries (to a mailer that accepts
// at once): claim, load, render, record.
func BenchmarkDeliver(b *testing.B) {
	env, o, _ := benchWorld(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		benchEnqueue(b, env, o.ID, fmt.Sprint("d", i))
		if _, err := env.App.Notify.Fanout(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := env.App.Notify.Deliver(ctx); err != nil || n != 50 {
			b.Fatal(n, err)
		}
	}
}
