package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

func openEmbedded(t *testing.T, dir string, cfg Config) *Bus {
	t.Helper()
	cfg.Dir = dir
	b, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exercise publishes, consumes and acknowledges on b: the behaviour both the
// embedded and the external bus must have.
func exercise(t *testing.T, b *Bus, consumer string) {
	ctx := context.Background()
	p1, err := b.Publish(ctx, b.Subject(7), "batch-1", []byte("one"), map[string]string{"Certnet-Format": "suricata"})
	if err != nil {
		t.Fatal(err)
	}
	if p1.Duplicate || p1.Seq == 0 {
		t.Fatalf("first publish: %+v", p1)
	}
	// The same message id within the window is stored once.
	p2, err := b.Publish(ctx, b.Subject(7), "batch-1", []byte("one again"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Duplicate || p2.Seq != p1.Seq {
		t.Fatalf("duplicate publish: %+v, first %+v", p2, p1)
	}
	if _, err := b.Publish(ctx, b.Subject(8), "batch-2", []byte("two"), nil); err != nil {
		t.Fatal(err)
	}
	c, err := b.Consumer(ctx, consumer, b.Filter(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(ctx, 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 1 { // the second was not there yet when the first came
		more, err := c.Fetch(ctx, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, more...)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d messages, want 2", len(msgs))
	}
	m := msgs[0]
	if string(m.Data) != "one" || m.ID != "batch-1" || m.Header("Certnet-Format") != "suricata" || m.Subject != b.Subject(7) || m.Delivered != 1 {
		t.Fatalf("first message: %+v format %q", m, m.Header("Certnet-Format"))
	}
	if err := m.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	// The second is not acknowledged: it comes back after the ack wait.
	time.Sleep(300 * time.Millisecond)
	again, err := c.Fetch(ctx, 10, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || string(again[0].Data) != "two" || again[0].Delivered != 2 {
		t.Fatalf("redelivery: %d messages %+v", len(again), again)
	}
	if err := again[0].Ack(ctx); err != nil {
		t.Fatal(err)
	}
	none, err := c.Fetch(ctx, 10, 300*time.Millisecond)
	if err != nil || len(none) != 0 {
		t.Fatalf("after acks: %d messages, err %v", len(none), err)
	}
	pending, unacked, err := c.Pending(ctx)
	if err != nil || pending != 0 || unacked != 0 {
		t.Fatalf("pending %d unacked %d err %v", pending, unacked, err)
	}
}

func TestEmbeddedPublishConsume(t *testing.T) {
	b := openEmbedded(t, t.TempDir(), Config{})
	defer b.Close()
	if !b.Embedded() {
		t.Fatal("not embedded")
	}
	exercise(t, b, "test")
	info, err := b.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Acknowledged batches stay for the retention window (limits policy).
	if info.Msgs != 2 || info.MaxAge != DefaultMaxAge {
		t.Fatalf("stream info %+v", info)
	}
}

func TestEmbeddedRestartKeepsUnacked(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b := openEmbedded(t, dir, Config{})
	c, err := b.Consumer(ctx, "workers", b.Filter(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := b.Publish(ctx, b.Subject(1), fmt.Sprintf("k%d", i), []byte{byte('a' + i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := c.Fetch(ctx, 1, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %d %v", len(msgs), err)
	}
	if err := msgs[0].Ack(ctx); err != nil {
		t.Fatal(err)
	}
	// A second message delivered but not acknowledged when the process ends.
	if msgs, err = c.Fetch(ctx, 1, time.Second); err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %d %v", len(msgs), err)
	}
	b.Close()

	b = openEmbedded(t, dir, Config{})
	defer b.Close()
	c, err = b.Consumer(ctx, "workers", b.Filter(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		msgs, err := c.Fetch(ctx, 10, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			got = append(got, string(m.Data))
			m.Ack(ctx)
		}
	}
	slices.Sort(got)
	if fmt.Sprint(got) != "[b c]" {
		t.Fatalf("after restart got %v, want the unacknowledged b and the undelivered c", got)
	}
	// The dedup window survives the restart too.
	p, err := b.Publish(ctx, b.Subject(1), "k0", []byte("a"), nil)
	if err != nil || !p.Duplicate {
		t.Fatalf("republish after restart: %+v %v", p, err)
	}
}

func TestEmbeddedFull(t *testing.T) {
	b := openEmbedded(t, t.TempDir(), Config{MaxBytes: 4096})
	defer b.Close()
	ctx := context.Background()
	data := make([]byte, 1000)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = b.Publish(ctx, b.Subject(1), fmt.Sprint(i), data, nil)
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("publishing past max bytes: %v, want ErrFull", err)
	}
	if _, err := b.Publish(ctx, b.Subject(1), "big", make([]byte, 65<<20), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("publishing 65 MiB: %v, want ErrTooLarge", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), Config{}, nil); err == nil {
		t.Fatal("embedded without a folder opened")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Open(ctx, Config{URL: "nats://127.0.0.1:1"}, nil); err == nil {
		t.Fatal("connected to nothing")
	}
	if got := redact("nats://user:secret@host:4222"); got != "nats://***@host:4222" {
		t.Fatalf("redact: %s", got)
	}
}

// TestExternal runs the same checks against a NATS server with JetStream
// (CERTNET_TEST_NATS=nats://127.0.0.1:4222), in a stream of its own.
func TestExternal(t *testing.T) {
	url := os.Getenv("CERTNET_TEST_NATS")
	if url == "" {
		t.Skip("CERTNET_TEST_NATS not set: no external NATS server to test against (set it to nats://127.0.0.1:4222)")
	}
	ctx := context.Background()
	name := fmt.Sprintf("CERTNET_TEST_%d", time.Now().UnixNano())
	b, err := Open(ctx, Config{URL: url, Stream: name, Prefix: name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		b.js.DeleteStream(ctx, name)
		b.Close()
	}()
	if b.Embedded() {
		t.Fatal("external bus says embedded")
	}
	exercise(t, b, "test")
}
