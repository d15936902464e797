package taxii

import (
	"net/url"
	"testing"

	"certnet/internal/policy"
)

// FuzzParseQuery: any query string either is refused or gives a query
// whose limit is within bounds, which passes to intel whole, and whose
// cursor survives its encoding.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"limit=3", "limit=0", "limit=-1", "limit=99999", "added_after=2026-11-26T07:00:00Z",
		"match[id]=indicator--0e5e7c8a-2f1d-4c9b-8a4e-3c2b1a0f9e8d,indicator--x",
		"match[type]=indicator,malware&match[version]=all", "match[version]=2026-11-26T07:00:00.123Z,first",
		"match[spec_version]=2.1", "next=MjAyNi0xMS0yNlQwNzowMDowMFp8aW5kaWNhdG9yLS1h", "next=MjAyNi0xMS0yNlQwNzowMDowMC4xMjM0NTZafDE6NDI", "next=%%%", "match[x]=1", "limit=1&limit=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v, 50)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > 50 {
			t.Fatalf("limit %d from %q", q.Limit, raw)
		}
		sq := q.Shared([]policy.TLP{policy.TLPGreen})
		if sq.Limit != q.Limit || len(sq.IDs) != len(q.IDs) || len(sq.Types) != len(q.Types) || sq.After != q.After {
			t.Fatalf("shared query %+v from %+v", sq, q)
		}
		if len(sq.Versions) > len(q.Versions) {
			t.Fatalf("versions %v from %v", sq.Versions, q.Versions)
		}
		// A cursor survives its own encoding.
		if !q.After.IsZero() {
			back, err := ParseQuery(url.Values{"next": {cursor(q.After)}}, 50)
			if err != nil || !back.After.Added.Equal(q.After.Added) || back.After.Key() != q.After.Key() {
				t.Fatalf("cursor %+v comes back as %+v (%v)", q.After, back.After, err)
			}
		}
	})
}
