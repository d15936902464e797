package infosys

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestICS(t *testing.T) {
	d := []Due{{SystemID: 7, SystemName: "Cổng DVC; tỉnh, Huế\\mới\nhai", Kind: KindScan, Next: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC), State: DueSoonS}}
	out := ICS(d, t0, func(k string) string { return "Rà quét lỗ hổng" })
	if !strings.HasPrefix(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") || !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Fatalf("frame:\n%s", out)
	}
	// 20:00 UTC on 1 Dec is 2 Dec in Vietnam.
	if !strings.Contains(out, "DTSTART;VALUE=DATE:20261202\r\n") {
		t.Fatalf("date:\n%s", out)
	}
	unfolded := strings.ReplaceAll(out, "\r\n ", "")
	if !strings.Contains(unfolded, `SUMMARY:Rà quét lỗ hổng: Cổng DVC\; tỉnh\, Huế\\mới\nhai`) {
		t.Fatalf("escaping:\n%s", unfolded)
	}
	checkLines(t, out)
}

func checkLines(t testing.TB, out string) {
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 || !utf8.ValidString(l) || strings.ContainsAny(l, "\r\n") {
			t.Fatalf("bad line %q", l)
		}
	}
}

// FuzzICS: whatever the system's name, the feed has valid, folded lines and
// one event per obligation.
func FuzzICS(f *testing.F) {
	f.Add("Hệ thống một cửa điện tử", 3)
	f.Add("a;b,c\\d\r\ne", 1)
	f.Add(strings.Repeat("ĐĐ", 100), 2)
	f.Fuzz(func(t *testing.T, name string, n int) {
		if n < 0 || n > 20 {
			return
		}
		var ds []Due
		for i := range n {
			ds = append(ds, Due{SystemID: int64(i), SystemName: name, Kind: KindHunt, Next: t0.AddDate(0, i, 0), State: DueOK})
		}
		out := ICS(ds, t0, func(k string) string { return k })
		checkLines(t, out)
		if got := strings.Count(out, "BEGIN:VEVENT\r\n"); got != n {
			t.Fatalf("%d events, want %d", got, n)
		}
	})
}
