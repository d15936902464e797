package forward

import (
	"context"
	"time"
)

// WithCrash sets the crash hook: fn is asked at each point ("read",
// "spooled", "saved", "sending", "sent") and true stops the forwarder as a
// kill would.
func WithCrash(c Config, fn func(point string) bool) Config { c.crash = fn; return c }

// WithSleep replaces the backoff wait.
func WithSleep(c Config, fn func(ctx context.Context, d time.Duration) error) Config {
	c.sleep = fn
	return c
}

// ErrCrash is what Run returns after a simulated crash.
var ErrCrash = errCrash
