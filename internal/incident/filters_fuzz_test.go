package incident

import (
	"net/url"
	"testing"

	"certnet/internal/errs"
)

// FuzzSavedQuery: whatever query string is offered to be saved, it is
// either refused as invalid (never another error, never a panic) or kept
// in a fixed form that the list's parser reads and that is its own fixed
// form.
func FuzzSavedQuery(f *testing.F) {
	for _, s := range []string{"", "?type=ddos", "overdue=1&type=malware&page=2", "q=c%E1%BB%95ng+h%C3%A0", "from=2026-13-01",
		"status=received&status=closed", "x=1", "q=%zz", "rsit=fraud&province=HN&dto=2026-06-30", "&&==;;", "q=a%00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := errs.Invalid("fuzz")
		q := normalizeQuery(v, raw)
		if err := v.OrNil(); err != nil {
			if !v.Has("query") || q != "" {
				t.Fatalf("%q: refused with %v and %q", raw, err, q)
			}
			return
		}
		vals, err := url.ParseQuery(q)
		if err != nil {
			t.Fatalf("%q: kept %q, which does not read: %v", raw, q, err)
		}
		if _, err := ParseQuery(vals); err != nil {
			t.Fatalf("%q: kept %q, which the list refuses: %v", raw, q, err)
		}
		v2 := errs.Invalid("fuzz")
		if again := normalizeQuery(v2, q); again != q || v2.OrNil() != nil {
			t.Fatalf("%q: kept %q, then %q (%v)", raw, q, again, v2.OrNil())
		}
	})
}
