package taxii_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestMatrix: route × role × TLP. HN owns one object per label; each
// caller reads it from its collection, lists the collection, and posts.
func TestMatrix(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db)
		e := w.e
		labels := []struct{ tlp, col string }{{"CLEAR", "indicators-clear"}, {"GREEN", "indicators-green"}, {"AMBER", "amber"}, {"AMBER+STRICT", "amber"}}
		ids := map[string]string{}
		for i, l := range labels {
			id := "indicator--" + uuid.NewString()
			ids[l.tlp] = id
			if r := do(t, e, "POST", root+"collections/"+l.col+"/objects/", "Bearer "+w.hnAnalyst,
				envelope(indicator(id, fmt.Sprintf("192.0.2.%d", i+1), l.tlp, e.Clock.Now())), nil); r.Status != 202 {
				t.Fatalf("seed %s: %d %s", l.tlp, r.Status, r.Body)
			}
		}
		// caller → labels it may read (HN's own scope; DN a sibling).
		callers := []struct {
			name, tok string
			reads     map[string]bool
			writes    bool
		}{
			{"hn-analyst", w.hnAnalyst, map[string]bool{"CLEAR": true, "GREEN": true, "AMBER": true, "AMBER+STRICT": true}, true},
			{"hn-viewer", w.hnViewer, map[string]bool{"CLEAR": true, "GREEN": true, "AMBER": true, "AMBER+STRICT": true}, false},
			{"dn-analyst", w.dnAnalyst, map[string]bool{"CLEAR": true, "GREEN": true}, true},
		}
		for _, c := range callers {
			for _, l := range labels {
				want := 404
				if c.reads[l.tlp] {
					want = 200
				}
				r := do(t, e, "GET", root+"collections/"+l.col+"/objects/"+ids[l.tlp]+"/", "Bearer "+c.tok, "", nil)
				if r.Status != want {
					t.Errorf("%s GET %s object: %d, want %d", c.name, l.tlp, r.Status, want)
				}
				var p page
				do(t, e, "GET", root+"collections/"+l.col+"/objects/?match[id]="+ids[l.tlp], "Bearer "+c.tok, "", nil).into(t, &p)
				if (len(p.Objects) == 1) != c.reads[l.tlp] {
					t.Errorf("%s lists %s: %d objects", c.name, l.tlp, len(p.Objects))
				}
				want = 403
				if c.writes {
					want = 202
				}
				r = do(t, e, "POST", root+"collections/"+l.col+"/objects/", "Bearer "+c.tok,
					envelope(indicator("indicator--"+uuid.NewString(), "203.0.113.9", l.tlp, e.Clock.Now())), nil)
				if r.Status != want {
					t.Errorf("%s POST %s: %d, want %d", c.name, l.tlp, r.Status, want)
				}
			}
		}
		// The national coordinator does not get HN's AMBER+STRICT.
		if r := do(t, e, "GET", root+"collections/amber/objects/"+ids["AMBER+STRICT"]+"/", "Bearer "+w.nat, "", nil); r.Status != 404 {
			t.Errorf("national reads AMBER+STRICT: %d", r.Status)
		}
	})
}
