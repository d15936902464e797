package coord

import (
	"math"
	"strings"
	"testing"
)

func TestParsers(t *testing.T) {
	if got := ParseCodes(" isp-saomai, ISP-HONGLAM;isp-saomai\nHNI-UCSC "); strings.Join(got, "|") != "ISP-SAOMAI|ISP-HONGLAM|HNI-UCSC" {
		t.Fatalf("codes %v", got)
	}
	for in, want := range map[string]int64{"2.500.000": 2500000, "2,500,000": 2500000, "2 500 000 ₫": 2500000, "0": 0} {
		if got, err := ParseVND(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1e6", "-5", "12.5x", "99999999999999999999"} {
		if _, err := ParseVND(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if h, err := ParseDecimal("6,5"); err != nil || h != 6.5 {
		t.Fatalf("6,5: %v %v", h, err)
	}
	for _, in := range []string{"", "NaN", "Inf", "1e400", "x"} {
		if v, err := ParseDecimal(in); err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Errorf("%q gave %v", in, v)
		}
	}
}

// FuzzParseForm: the form parsers never panic, codes are upper case
// without separators, amounts are never negative.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"ISP-SAOMAI, ISP-HONGLAM", "2.500.000", "6,5", "", "\x00", "１２３", "-0", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range ParseCodes(s) {
			if c == "" || strings.ContainsAny(c, ",; \t\n") || c != strings.ToUpper(c) {
				t.Fatalf("code %q from %q", c, s)
			}
		}
		if n, err := ParseVND(s); err == nil && n < 0 {
			t.Fatalf("negative amount %d from %q", n, s)
		}
		if v, err := ParseDecimal(s); err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("%v from %q", v, s)
		}
	})
}
