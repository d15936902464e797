package taxii

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"certnet/internal/intel"
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
	// After is the cursor from next: the date added and id of the last
	// object already returned.
	AfterAdded time.Time
	AfterID    string
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
			ts, id, ok := strings.Cut(string(b), "|")
			t, err := time.Parse(time.RFC3339Nano, ts)
			if !ok || err != nil || id == "" {
				return q, fmt.Errorf("next: not a cursor")
			}
			q.AfterAdded, q.AfterID = t, id
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

// cursor encodes the position after o.
func cursor(o intel.SharedObject) string {
	return base64.RawURLEncoding.EncodeToString([]byte(o.Added.UTC().Format(time.RFC3339Nano) + "|" + o.ID))
}

func in(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// versionMatch reports whether an object's (only) version passes
// match[version]: certnet keeps the current version of each object, which
// is its first, last and all; a timestamp must equal it.
func versionMatch(q Query, version string) bool {
	if len(q.Versions) == 0 {
		return true
	}
	vt, err := parseTime(version)
	for _, v := range q.Versions {
		if v == "last" || v == "first" || v == "all" {
			return true
		}
		if t, e := parseTime(v); e == nil && err == nil && t.Equal(vt) {
			return true
		}
	}
	return false
}

// Select applies the filters and the cursor, and returns one page and
// whether more follows.
func Select(objs []intel.SharedObject, q Query) (page []intel.SharedObject, more bool) {
	for _, o := range objs {
		if !q.AfterAdded.IsZero() && (o.Added.Before(q.AfterAdded) || o.Added.Equal(q.AfterAdded) && o.ID <= q.AfterID) {
			continue
		}
		if !q.AddedAfter.IsZero() && !o.Added.After(q.AddedAfter) {
			continue
		}
		if len(q.IDs) > 0 && !in(q.IDs, o.ID) {
			continue
		}
		if len(q.Types) > 0 && !in(q.Types, o.Type) {
			continue
		}
		if len(q.SpecVersion) > 0 && !in(q.SpecVersion, "2.1") {
			continue
		}
		if !versionMatch(q, o.Version) {
			continue
		}
		if len(page) == q.Limit {
			return page, true
		}
		page = append(page, o)
	}
	return page, false
}
