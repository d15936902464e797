package auth

import (
	"context"
	"database/sql"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/store"
)

// The login throttle keeps its counters in the login_throttle table so that
// every certnet node behind a load balancer sees the same failures. A key
// names what is counted: an account ("acct:alice"), a client address
// ("addr:203.0.113.7", IPv6 per /64) or a user's second factor ("mfa:42").

// throttleKey is a counter and the number of failures in a window that
// locks it.
type throttleKey struct {
	Key   string
	Limit int
}

func accountKey(username string) string {
	return "acct:" + truncate(NormalizeUsername(username), 2*MaxUsernameLen)
}

func mfaKey(userID int64) string { return "mfa:" + strconv.FormatInt(userID, 10) }

// addressKey names the client address ip counts under: an IPv4 address, or
// the IPv6 prefix of the given length (one customer usually has a whole /64).
// ip may carry a port ("203.0.113.7:51234", "[2001:db8::1]:443"). Text that
// is not an address is kept, shortened, so that it is still counted. Empty
// text has no key: there is no address to count.
func addressKey(ip string, v6bits int) string {
	ip = strings.TrimSpace(ip)
	if ip == "" {
		return ""
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(ip); err2 == nil {
			addr, err = ap.Addr(), nil
		} else if a, err3 := netip.ParseAddr(strings.Trim(ip, "[]")); err3 == nil {
			addr, err = a, nil
		}
	}
	if err != nil {
		return "addr:?" + truncate(ip, 64)
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is6() {
		if v6bits <= 0 || v6bits > 128 {
			v6bits = 64
		}
		p, _ := addr.Prefix(v6bits)
		return "addr:" + p.String()
	}
	return "addr:" + addr.String()
}

// truncate shortens s to at most n bytes without cutting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// loginKeys are the counters a password attempt touches.
func (s *Service) loginKeys(username, ip string) []throttleKey {
	t := s.throttle()
	keys := []throttleKey{{Key: accountKey(username), Limit: t.AccountLimit}}
	if k := addressKey(ip, t.IPv6PrefixBits); k != "" {
		keys = append(keys, throttleKey{Key: k, Limit: t.AddressLimit})
	}
	return keys
}

// lockedFor returns how much longer the longest lock among keys lasts, or 0.
func (s *Service) lockedFor(ctx context.Context, keys []throttleKey) (time.Duration, error) {
	now := s.now()
	var wait time.Duration
	for _, k := range keys {
		var until sql.NullTime
		err := s.DB.QueryRow(ctx, "SELECT locked_until FROM login_throttle WHERE key = ?", k.Key).Scan(&until)
		if store.IsNoRows(err) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if until.Valid && until.Time.After(now) {
			wait = max(wait, until.Time.Sub(now))
		}
	}
	return wait, nil
}

// countFailure adds one failure to each key inside tx and returns the keys
// this failure locked. A key whose window has passed starts a new window; a
// key that reaches its limit is locked for LockFor and starts counting again
// from zero.
func (s *Service) countFailure(ctx context.Context, tx *store.Tx, keys []throttleKey) ([]string, error) {
	t := s.throttle()
	now := s.now()
	var locked []string
	for _, k := range keys {
		// Make sure the row exists, then increment it: the UPDATE takes the
		// row lock on PostgreSQL (SQLite transactions are exclusive), so two
		// nodes counting the same key at once both count.
		if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (key, failures, window_start) VALUES (?, 0, ?)
			ON CONFLICT (key) DO NOTHING`, k.Key, now); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "UPDATE login_throttle SET failures = failures + 1 WHERE key = ?", k.Key); err != nil {
			return nil, err
		}
		var failures int
		var start time.Time
		var until sql.NullTime
		if err := tx.QueryRow(ctx, "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?", k.Key).
			Scan(&failures, &start, &until); err != nil {
			return nil, err
		}
		lockedUntil := any(nil)
		if until.Valid && until.Time.After(now) {
			lockedUntil = until.Time // still locked (a concurrent attempt): keep the lock
		}
		if !start.After(now.Add(-t.Window)) {
			failures, start = 1, now // the old window is over
		}
		if failures >= k.Limit {
			lockedUntil = now.Add(t.LockFor)
			failures, start = 0, now
			locked = append(locked, k.Key)
		}
		if _, err := tx.Exec(ctx, "UPDATE login_throttle SET failures = ?, window_start = ?, locked_until = ? WHERE key = ?",
			failures, start, lockedUntil, k.Key); err != nil {
			return nil, err
		}
	}
	return locked, nil
}

// clearThrottle forgets the failures of keys (after a success).
func clearThrottle(ctx context.Context, tx *store.Tx, keys ...string) error {
	for _, k := range keys {
		if _, err := tx.Exec(ctx, "DELETE FROM login_throttle WHERE key = ?", k); err != nil {
			return err
		}
	}
	return nil
}

// throttledErr tells the user how many minutes to wait (rounded up).
func throttledErr(op string, wait time.Duration) error {
	minutes := int((wait + time.Minute - 1) / time.Minute)
	return errs.TooMany(op, "auth.err.throttled", max(minutes, 1))
}
