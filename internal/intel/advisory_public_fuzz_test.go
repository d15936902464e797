package intel

import (
	"testing"

	"certnet/internal/errs"
)

// FuzzParsePublicCursor: the public page's ?before= comes from anyone; it
// is read or refused as invalid, never panics, and what it reads writes
// back the same.
func FuzzParsePublicCursor(f *testing.F) {
	for _, s := range []string{"", "1764115200000000-42", "0-1", "-1", "1-", "1-2-3", "x-y", "9223372036854775807-1", "١-٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParsePublicCursor(s)
		if err != nil {
			if !errs.Is(err, errs.KindInvalid) {
				t.Fatalf("%q: %v, want invalid", s, err)
			}
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatalf("empty cursor read as %+v", c)
			}
			return
		}
		back, err := ParsePublicCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("%q → %+v → %q → %+v %v", s, c, c.String(), back, err)
		}
	})
}
