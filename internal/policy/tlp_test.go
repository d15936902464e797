package policy_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"certnet/internal/policy"
)

func TestParseTLP(t *testing.T) {
	good := map[string]policy.TLP{
		"CLEAR":              policy.TLPClear,
		"clear":              policy.TLPClear,
		"TLP:CLEAR":          policy.TLPClear,
		"TLP:WHITE":          policy.TLPClear,
		"white":              policy.TLPClear,
		"tlp:white":          policy.TLPClear,
		"GREEN":              policy.TLPGreen,
		"TLP:GREEN":          policy.TLPGreen,
		" Green ":            policy.TLPGreen,
		"AMBER":              policy.TLPAmber,
		"TLP:AMBER":          policy.TLPAmber,
		"TLP: AMBER":         policy.TLPAmber,
		"TLP : amber":        policy.TLPAmber,
		"\tamber\n":          policy.TLPAmber,
		"amber+strict":       policy.TLPAmberStrict,
		"AMBER+STRICT":       policy.TLPAmberStrict,
		"TLP:AMBER+STRICT":   policy.TLPAmberStrict,
		"tlp:amber + strict": policy.TLPAmberStrict,
		"amber strict":       policy.TLPAmberStrict,
		"amber-strict":       policy.TLPAmberStrict,
		"RED":                policy.TLPRed,
		"tlp:red":            policy.TLPRed,
	}
	for in, want := range good {
		got, err := policy.ParseTLP(in)
		if err != nil || got != want {
			t.Errorf("ParseTLP(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"", " ", "TLP:", "TLP", "garbage", "AMBER+", "AMBER+STRICTER", "STRICT", "amber+red",
		"TLP:TLP:AMBER", "TLP-AMBER", "REDD", "WHITE+STRICT", "GREEN\x00",
		"whıte",        // dotless i: strings.ToUpper makes it WHITE
		"amber+ſtrict", // long s: strings.ToUpper makes it S
		"ＲＥＤ",          // full-width letters
		"AMBER\u200b",  // zero-width space inside
	}
	for _, in := range bad {
		got, err := policy.ParseTLP(in)
		if err == nil || got != "" {
			t.Errorf("ParseTLP(%q) = %q, %v; want an error", in, got, err)
		} else if !strings.Contains(err.Error(), "unknown TLP label") {
			t.Errorf("ParseTLP(%q) error %q", in, err)
		}
	}
	// Every label round-trips through its own name and its printed form.
	for _, l := range policy.TLPs {
		for _, s := range []string{string(l), l.Label(), strings.ToLower(l.Label())} {
			if got, err := policy.ParseTLP(s); err != nil || got != l {
				t.Errorf("ParseTLP(%q) = %q, %v", s, got, err)
			}
		}
	}
}

func TestRankValidLabel(t *testing.T) {
	want := []struct {
		tlp   policy.TLP
		rank  int
		label string
		css   string
	}{
		{policy.TLPClear, 0, "TLP:CLEAR", "tlp-clear"},
		{policy.TLPGreen, 1, "TLP:GREEN", "tlp-green"},
		{policy.TLPAmber, 2, "TLP:AMBER", "tlp-amber"},
		{policy.TLPAmberStrict, 3, "TLP:AMBER+STRICT", "tlp-amber-strict"},
		{policy.TLPRed, 4, "TLP:RED", "tlp-red"},
	}
	if len(policy.TLPs) != len(want) {
		t.Fatalf("TLPs = %v", policy.TLPs)
	}
	for i, w := range want {
		if policy.TLPs[i] != w.tlp {
			t.Errorf("TLPs[%d] = %q, want %q", i, policy.TLPs[i], w.tlp)
		}
		if got := w.tlp.Rank(); got != w.rank {
			t.Errorf("%s.Rank() = %d, want %d", w.tlp, got, w.rank)
		}
		if !w.tlp.Valid() {
			t.Errorf("%s not Valid", w.tlp)
		}
		if got := w.tlp.Label(); got != w.label {
			t.Errorf("Label = %q, want %q", got, w.label)
		}
		if got := w.tlp.CSSClass(); got != w.css {
			t.Errorf("CSSClass = %q, want %q", got, w.css)
		}
	}
	// Unknown labels rank as the most restrictive and are not valid.
	for _, l := range []policy.TLP{"", "WHITE", "amber", "TLP:RED", "PURPLE"} {
		if l.Valid() {
			t.Errorf("%q is Valid", l)
		}
		if l.Rank() != policy.TLPRed.Rank() {
			t.Errorf("%q.Rank() = %d, want RED's", l, l.Rank())
		}
	}
}

// FuzzParseTLP: the parser never panics, answers either a valid label or an
// error with no label, accepts nothing with letters outside ASCII, and what
// it accepts is stable: the label it returns parses back to itself.
func FuzzParseTLP(f *testing.F) {
	for _, s := range []string{"TLP:CLEAR", "white", "amber+strict", "TLP: RED", "nonsense"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := policy.ParseTLP(s)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseTLP(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if !got.Valid() {
			t.Fatalf("ParseTLP(%q) = %q, not a valid label", s, got)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("ParseTLP accepted invalid UTF-8 %q", s)
		}
		for _, r := range strings.TrimSpace(s) {
			if r >= utf8.RuneSelf {
				t.Fatalf("ParseTLP(%q) accepted a non-ASCII rune %q", s, r)
			}
		}
		for _, again := range []string{string(got), got.Label(), strings.ToLower(got.Label())} {
			if back, err := policy.ParseTLP(again); err != nil || back != got {
				t.Fatalf("ParseTLP(%q) = %q, but ParseTLP(%q) = %q, %v", s, got, again, back, err)
			}
		}
	})
}
