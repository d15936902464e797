package taxii

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/intel"
	"certnet/internal/policy"
)

// Query is a parsed TAXII object query: the filters AND together, the
// values inside one filter OR.
type Query struct {
	Limit       int
	AddedAfter  time.Time
	IDs         []string
	Types       []string
	Versions    []string // "last", "first", "all" or STIX timestamps
	SpecVersion []string
	// After is the cursor from next: the place of the last object
	// already returned.
	After intel.Cursor
}

// ParseQuery reads the query string of a list endpoint; any unknown
// match[...] filter, a bad limit, a bad time or a bad cursor is refused.
// maxLimit caps limit (and is the default).
func ParseQuery(v url.Values, maxLimit int) (Query, error) {
	q := Query{Limit: maxLimit}
	for k, vals := range v {
		if len(vals) != 1 {
			return q, fmt.Errorf("%s given %d times", k, len(vals))
		}
		val := vals[0]
		switch k {
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return q, fmt.Errorf("limit must be a positive integer")
			}
			q.Limit = min(n, maxLimit)
		case "added_after":
			t, err := parseTime(val)
			if err != nil {
				return q, fmt.Errorf("added_after: %v", err)
			}
			q.AddedAfter = t
		case "next":
			b, err := base64.RawURLEncoding.DecodeString(val)
			if err != nil {
				return q, fmt.Errorf("next: not a cursor")
			}
			ts, key, ok := strings.Cut(string(b), "|")
			t, err := time.Parse(time.RFC3339Nano, ts)
			if !ok || err != nil {
				return q, fmt.Errorf("next: not a cursor")
			}
			if q.After, ok = intel.ParseCursorKey(t, key); !ok {
				return q, fmt.Errorf("next: not a cursor")
			}
		case "match[id]":
			l, err := list(k, val, func(s string) bool { return intel.ValidSTIXID(s, "") })
			if err != nil {
				return q, err
			}
			q.IDs = l
		case "match[type]":
			l, err := list(k, val, validType)
			if err != nil {
				return q, err
			}
			q.Types = l
		case "match[version]":
			l, err := list(k, val, func(s string) bool {
				if s == "last" || s == "first" || s == "all" {
					return true
				}
				_, err := parseTime(s)
				return err == nil
			})
			if err != nil {
				return q, err
			}
			q.Versions = l
		case "match[spec_version]":
			l, err := list(k, val, func(s string) bool { return s == "2.0" || s == "2.1" })
			if err != nil {
				return q, err
			}
			q.SpecVersion = l
		default:
			return q, fmt.Errorf("unknown parameter %q", k)
		}
	}
	return q, nil
}

func list(k, v string, ok func(string) bool) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" || !ok(s) {
			return nil, fmt.Errorf("%s: %q is not a valid value", k, s)
		}
		out = append(out, s)
	}
	return out, nil
}

func validType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return t.UTC(), nil
}

// cursor encodes a place in a collection for next.
func cursor(c intel.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Added.UTC().Format(time.RFC3339Nano) + "|" + c.Key()))
}

// Shared is the query for intel over the collection's labels:
// match[version] "first", "last" and "all" are the one version certnet
// keeps (no filter), timestamps select that version; match[spec_version]
// without 2.1 selects nothing.
func (q Query) Shared(tlps []policy.TLP) intel.SharedQuery {
	sq := intel.SharedQuery{TLPs: tlps, Limit: q.Limit, After: q.After, AddedAfter: q.AddedAfter, IDs: q.IDs, Types: q.Types}
	all := false
	for _, v := range q.Versions {
		if v == "last" || v == "first" || v == "all" {
			all = true
		} else if t, err := parseTime(v); err == nil {
			sq.Versions = append(sq.Versions, t)
		}
	}
	if all {
		sq.Versions = nil
	}
	if len(q.SpecVersion) > 0 && !slices.Contains(q.SpecVersion, "2.1") {
		sq.None = true
	}
	return sq
}
