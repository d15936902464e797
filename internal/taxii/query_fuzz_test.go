package taxii

import (
	"net/url"
	"testing"

	"certnet/internal/intel"
)

// FuzzParseQuery: any query string either is refused or gives a query
// whose limit is within bounds and whose page respects it.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"limit=3", "limit=0", "limit=-1", "limit=99999", "added_after=2026-11-26T07:00:00Z",
		"match[id]=indicator--0e5e7c8a-2f1d-4c9b-8a4e-3c2b1a0f9e8d,indicator--x",
		"match[type]=indicator,malware&match[version]=all", "match[version]=2026-11-26T07:00:00.123Z,first",
		"match[spec_version]=2.1", "next=MjAyNi0xMS0yNlQwNzowMDowMFp8aW5kaWNhdG9yLS1h", "next=%%%", "match[x]=1", "limit=1&limit=2",
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
		objs := make([]intel.SharedObject, 60)
		for i := range objs {
			objs[i] = intel.SharedObject{ID: "indicator--x", Type: "indicator", Version: "2026-11-26T07:00:00Z"}
		}
		p, _ := Select(objs, q)
		if len(p) > q.Limit {
			t.Fatalf("page of %d past limit %d", len(p), q.Limit)
		}
	})
}
