// Package bus is certnet's durable transport: NATS JetStream, either an
// in-process server with file storage in the data folder (the default, no
// network listener) or an external cluster given by URL. It keeps one
// stream, INGEST (subjects ingest.>), of whole batches; Publish returns only
// once the stream has stored (and, embedded, fsynced) the message, and
// consumers are durable pull consumers with explicit acknowledgement.
package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream is the default name of the ingest stream; Prefix the default first
// token of its subjects (ingest.>).
const (
	Stream = "INGEST"
	Prefix = "ingest"
)

// Config says where the bus is and what the stream keeps.
type Config struct {
	// URL of an external NATS server or cluster (nats://host:4222, comma
	// separated for several); empty runs an embedded server.
	URL string
	// Dir is the embedded server's storage folder (<data>/jetstream).
	Dir string
	// MaxBytes bounds the stream's size; when it is full, Publish fails
	// (ErrFull) rather than dropping batches not yet processed. 0: no bound.
	MaxBytes int64
	// MaxAge is how long a batch is kept after it arrived (processed or
	// not): the retention window of raw events. 0: 7 days.
	MaxAge time.Duration
	// Dedup is the window in which a message id published twice is stored
	// once. 0: 2 minutes.
	Dedup time.Duration
	// MaxMsgSize is the largest message; 0: 64 MiB.
	MaxMsgSize int32
	// Replicas of the stream on an external cluster (1 when embedded).
	Replicas int
	// Stream and Prefix name the stream and its subjects (Prefix.>);
	// empty: Stream and Prefix. Tests on a shared server use their own.
	Stream, Prefix string
}

// DefaultMaxAge is the default retention window of raw events.
const DefaultMaxAge = 7 * 24 * time.Hour

// ErrFull is returned by Publish when the stream reached its size limit.
var ErrFull = errors.New("bus: stream full")

// ErrTooLarge is returned by Publish for a message over the size limit.
var ErrTooLarge = errors.New("bus: message too large")

// Bus is an open connection to JetStream with the ingest stream.
type Bus struct {
	srv    *server.Server // nil when external
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
	cfg    Config
}

// Open starts the embedded server (cfg.URL empty) or connects to the
// external one, and creates or updates the stream.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Dedup <= 0 {
		cfg.Dedup = 2 * time.Minute
	}
	if cfg.Dedup > cfg.MaxAge {
		cfg.Dedup = cfg.MaxAge
	}
	if cfg.Stream == "" {
		cfg.Stream = Stream
	}
	if cfg.Prefix == "" {
		cfg.Prefix = Prefix
	}
	if cfg.MaxMsgSize <= 0 {
		cfg.MaxMsgSize = 64 << 20
	}
	b := &Bus{log: log, cfg: cfg}
	var err error
	if cfg.URL == "" {
		if cfg.Dir == "" {
			return nil, errors.New("bus: embedded JetStream needs a storage folder")
		}
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("bus: create %s: %w", cfg.Dir, err)
		}
		opts := &server.Options{
			ServerName: "certnet-embedded",
			JetStream:  true,
			StoreDir:   cfg.Dir,
			// No network listener: the process talks to it in-process.
			DontListen: true,
			NoSigs:     true,
			NoLog:      true,
			// fsync every write, so an acknowledged publish survives a
			// kill -9 or a power cut.
			SyncAlways: true,
			// Messages are whole batches, so allow large payloads.
			MaxPayload: cfg.MaxMsgSize,
			MaxPending: max(2*int64(cfg.MaxMsgSize), 64<<20),
		}
		b.srv, err = server.NewServer(opts)
		if err != nil {
			return nil, fmt.Errorf("bus: embedded server: %w", err)
		}
		b.srv.Start()
		if !b.srv.ReadyForConnections(30 * time.Second) {
			b.srv.Shutdown()
			return nil, errors.New("bus: embedded server did not start")
		}
		b.nc, err = nats.Connect("", nats.InProcessServer(b.srv), nats.Name("certnet"), nats.MaxReconnects(-1))
		if err != nil {
			b.srv.Shutdown()
			return nil, fmt.Errorf("bus: connect to the embedded server: %w", err)
		}
		cfg.Replicas = 1
	} else {
		b.nc, err = nats.Connect(cfg.URL, nats.Name("certnet"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false),
			nats.Timeout(10*time.Second))
		if err != nil {
			return nil, fmt.Errorf("bus: connect %s: %w", redact(cfg.URL), err)
		}
		if cfg.Replicas <= 0 {
			cfg.Replicas = 1
		}
	}
	b.js, err = jetstream.New(b.nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	b.stream, err = b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "certnet: SOC event batches, kept for the retention window",
		Subjects:    []string{cfg.Prefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxBytes:    orUnlimited(cfg.MaxBytes),
		MaxAge:      cfg.MaxAge,
		MaxMsgSize:  cfg.MaxMsgSize,
		Discard:     jetstream.DiscardNew,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  cfg.Dedup,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: stream %s: %w", cfg.Stream, err)
	}
	b.cfg = cfg
	where := "embedded " + cfg.Dir
	if cfg.URL != "" {
		where = redact(cfg.URL)
	}
	log.Info("jetstream ready", "where", where, "stream", cfg.Stream, "max_age", cfg.MaxAge, "max_bytes", cfg.MaxBytes)
	return b, nil
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// redact hides a password in a NATS URL.
func redact(u string) string {
	for i := 0; i+3 <= len(u); i++ {
		if u[i:i+3] == "://" {
			rest := u[i+3:]
			for j := len(rest) - 1; j >= 0; j-- {
				if rest[j] == '@' {
					return u[:i+3] + "***@" + rest[j+1:]
				}
			}
			break
		}
	}
	return u
}

// MaxPayload is the largest message the server takes (an external server's
// max_payload, 1 MiB unless configured).
func (b *Bus) MaxPayload() int64 { return b.nc.MaxPayload() }

// Embedded reports whether the bus runs its own server.
func (b *Bus) Embedded() bool { return b.srv != nil }

// Where describes the bus for logs and the health view.
func (b *Bus) Where() string {
	if b.srv != nil {
		return "embedded " + b.cfg.Dir
	}
	return redact(b.cfg.URL)
}

// Published is the stream's answer to a publish.
type Published struct {
	Seq uint64
	// Duplicate: a message with the same id was stored within the dedup
	// window; this one was not stored again.
	Duplicate bool
}

// Publish stores data on subject with the message id (for deduplication;
// empty for none) and headers, and returns once the stream acknowledged it.
func (b *Bus) Publish(ctx context.Context, subject, msgID string, data []byte, hdr map[string]string) (Published, error) {
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ack, err := b.js.PublishMsg(ctx, m, opts...)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode {
			case 10077, 10047: // store failed (maximum bytes exceeded), insufficient storage
				return Published{}, fmt.Errorf("%w: %v", ErrFull, err)
			case jetstream.JSErrCodeStreamMessageExceedsMaximum:
				return Published{}, fmt.Errorf("%w: %v", ErrTooLarge, err)
			}
		}
		if errors.Is(err, nats.ErrMaxPayload) {
			return Published{}, fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return Published{}, fmt.Errorf("bus: publish %s: %w", subject, err)
	}
	return Published{Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// Msg is one delivered message.
type Msg struct {
	m jetstream.Msg
	// Subject, Data and Header of the message; ID its message id.
	Subject string
	Data    []byte
	ID      string
	// Seq is its stream sequence; Delivered how many times it was
	// delivered (1 the first time).
	Seq       uint64
	Delivered uint64
	// Time it was stored.
	Time time.Time
}

// Header returns a header of the message.
func (m *Msg) Header(k string) string { return m.m.Headers().Get(k) }

// Ack acknowledges the message and waits for the server to confirm, so a
// message whose processing was recorded is not redelivered.
func (m *Msg) Ack(ctx context.Context) error { return m.m.DoubleAck(ctx) }

// Nak asks for a redelivery after delay.
func (m *Msg) Nak(delay time.Duration) error { return m.m.NakWithDelay(delay) }

// InProgress extends the acknowledgement deadline.
func (m *Msg) InProgress() error { return m.m.InProgress() }

// Term stops redelivery of a message that can never be processed.
func (m *Msg) Term(reason string) error { return m.m.TermWithReason(reason) }

// Consumer is a durable pull consumer.
type Consumer struct {
	c jetstream.Consumer
}

// Consumer creates (or binds to) the durable pull consumer name on the
// stream, filtered to subject filter ("" for every subject), with explicit
// acks: a message not acknowledged within ackWait is delivered again.
func (b *Bus) Consumer(ctx context.Context, name, filter string, ackWait time.Duration) (*Consumer, error) {
	if ackWait <= 0 {
		ackWait = time.Minute
	}
	c, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		FilterSubject: filter,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1024,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s: %w", name, err)
	}
	return &Consumer{c: c}, nil
}

// Fetch returns at once the messages (at most max) waiting for the
// consumer; when none are, it waits up to wait for one. It returns none (and
// no error) when nothing came, and ctx.Err() when ctx ends.
func (c *Consumer) Fetch(ctx context.Context, max int, wait time.Duration) ([]*Msg, error) {
	if wait <= 0 {
		wait = time.Second
	}
	batch, err := c.c.FetchNoWait(max)
	if err != nil {
		return nil, fmt.Errorf("bus: fetch: %w", err)
	}
	out, err := collect(ctx, batch)
	if len(out) > 0 || err != nil {
		return out, err
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err = c.c.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("bus: fetch: %w", err)
	}
	return collect(ctx, batch)
}

func collect(ctx context.Context, batch jetstream.MessageBatch) ([]*Msg, error) {
	var out []*Msg
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			continue
		}
		out = append(out, &Msg{m: m, Subject: m.Subject(), Data: m.Data(), ID: m.Headers().Get(jetstream.MsgIDHeader),
			Seq: meta.Sequence.Stream, Delivered: meta.NumDelivered, Time: meta.Timestamp})
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) &&
		!errors.Is(err, jetstream.ErrNoMessages) {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("bus: fetch: %w", err)
		}
	}
	return out, nil
}

// Pending returns how many messages the consumer has not yet had delivered
// and how many were delivered but not acknowledged.
func (c *Consumer) Pending(ctx context.Context) (pending uint64, unacked int, err error) {
	info, err := c.c.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("bus: consumer info: %w", err)
	}
	return info.NumPending, info.NumAckPending, nil
}

// StreamInfo is the stream's state.
type StreamInfo struct {
	Msgs, Bytes uint64
	FirstSeq    uint64
	LastSeq     uint64
	MaxBytes    int64
	MaxAge      time.Duration
}

// Info returns the stream's state.
func (b *Bus) Info(ctx context.Context) (StreamInfo, error) {
	in, err := b.stream.Info(ctx)
	if err != nil {
		return StreamInfo{}, fmt.Errorf("bus: stream info: %w", err)
	}
	return StreamInfo{Msgs: in.State.Msgs, Bytes: in.State.Bytes, FirstSeq: in.State.FirstSeq, LastSeq: in.State.LastSeq,
		MaxBytes: in.Config.MaxBytes, MaxAge: in.Config.MaxAge}, nil
}

// Close drains nothing (callers stop their consumers first), closes the
// connection and shuts the embedded server down, flushing its storage.
func (b *Bus) Close() error {
	if b.nc != nil {
		b.nc.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	return nil
}

// Subject returns the subject of a source's batches.
func (b *Bus) Subject(sourceID int64) string {
	return b.cfg.Prefix + ".src." + strconv.FormatInt(sourceID, 10)
}

// Filter is the subject filter of every source's batches.
func (b *Bus) Filter() string { return b.cfg.Prefix + ".src.>" }

// DirIn returns the embedded storage folder inside the data folder.
func DirIn(data string) string { return filepath.Join(data, "jetstream") }
