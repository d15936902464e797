package federation_test

import (
	"encoding/json"
	"testing"

	"certnet/internal/federation"
)

// FuzzParsePage: whatever the parent answers, the envelope parser returns
// a page whose objects are JSON objects and whose more has a next, or an
// error; it never panics.
func FuzzParsePage(f *testing.F) {
	for _, s := range []string{
		`{"more":false,"objects":[{"type":"indicator","id":"indicator--1"}]}`,
		`{"more":true,"next":"abc","objects":[{"id":"x"},{"id":"y"}]}`,
		`{"more":true,"objects":[]}`,
		`{}`, `{"objects":[1,2]}`, `{"objects":null}`, `[]`, `null`, `{"more":"yes"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := federation.ParsePage(b)
		if err != nil {
			return
		}
		if p.More && p.Next == "" {
			t.Fatalf("more without next accepted: %q", b)
		}
		for _, o := range p.Objects {
			var m map[string]any
			if json.Unmarshal(o, &m) != nil {
				t.Fatalf("object %q is not a JSON object", o)
			}
		}
	})
}

// FuzzParseStatus: a status is accepted only with an id, a known status
// and counts that are not negative.
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		`{"id":"st-1","status":"complete","total_count":2,"success_count":2,"failure_count":0,"pending_count":0}`,
		`{"id":"st-1","status":"pending","total_count":2,"pending_count":2}`,
		`{"id":"st-1","status":"complete","failures":[{"id":"indicator--1","version":"v","message":"bad"}],"failure_count":1}`,
		`{"id":"","status":"complete"}`, `{"id":"x","status":"done"}`, `{"id":"x","status":"complete","total_count":-1}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := federation.ParseStatus(b)
		if err != nil {
			return
		}
		if st.ID == "" || (st.Status != "complete" && st.Status != "pending") || st.TotalCount < 0 || st.SuccessCount < 0 ||
			st.FailureCount < 0 || st.PendingCount < 0 {
			t.Fatalf("accepted %+v from %q", st, b)
		}
	})
}
