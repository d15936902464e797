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
		env.DB.Exec(context.Background(), "UPDATE users SET email = ? WHERE id = ?", fmt.Sprintf("u%02d@bench.vn", i), u.ID)
		ids = append(ids, u.ID)
	}
	env.App.Notify.Mailer = nopMailer{}
	return env, o, ids
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
		env.DB.InTx(ctx, func(tx *store.Tx) error {
			return notify.Enqueue(ctx, tx, env.Clock.Now(), notify.Message{Kind: "bench", Key: fmt.Sprint("b", i), Orgs: []int64{o.ID},
				Subject: errs.Msg{Key: "notify.webhook.test_subject"}})
		})
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
		env.DB.InTx(ctx, func(tx *store.Tx) error {
			return notify.Enqueue(ctx, tx, env.Clock.Now(), notify.Message{Kind: "bench", Key: fmt.Sprint("u", i), Orgs: []int64{o.ID},
				Subject: errs.Msg{Key: "notify.webhook.test_subject"}})
		})
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
	u, _ := env.App.Auth.GetUser(ctx, env.Sys, ids[0])
	a, _ := env.App.Auth.ActorFor(ctx, u, "")
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
		env.DB.InTx(ctx, func(tx *store.Tx) error {
			return notify.Enqueue(ctx, tx, env.Clock.Now(), notify.Message{Kind: "bench", Key: fmt.Sprint("d", i), Orgs: []int64{o.ID},
				Subject: errs.Msg{Key: "notify.webhook.test_subject"}})
		})
		env.App.Notify.Fanout(ctx)
		b.StartTimer()
		if n, err := env.App.Notify.Deliver(ctx); err != nil || n != 50 {
			b.Fatal(n, err)
		}
	}
}
