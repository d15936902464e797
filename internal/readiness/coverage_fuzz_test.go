package readiness

import (
	"testing"
	"time"
)

// FuzzCoverage feeds arbitrary shifts (as offsets in minutes from the week's
// start, which may be negative, overlapping, reversed or past the week) to
// ComputeCoverage and checks what must always hold: seven days, covered
// time within the week, gaps inside their day and in order, a night flag
// only on a gap that touches the night, and a full week with no gaps.
func FuzzCoverage(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{10, 0, 4, 0, 200, 1, 50, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := WeekStart(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
		var shifts []Shift
		for i := 0; i+3 < len(data) && len(shifts) < 64; i += 4 {
			from := (int(int8(data[i]))*256 + int(data[i+1])) % (9 * 24 * 60)
			length := (int(data[i+2])*256 + int(data[i+3])) % (2 * 24 * 60)
			s := start.Add(time.Duration(from) * time.Minute)
			shifts = append(shifts, Shift{StartsAt: s, EndsAt: s.Add(time.Duration(length) * time.Minute)})
		}
		c := ComputeCoverage(1, start, shifts)
		if len(c.Days) != 7 {
			t.Fatalf("%d days", len(c.Days))
		}
		if c.TotalMinutes != 7*24*60 || c.CoveredMinutes < 0 || c.CoveredMinutes > c.TotalMinutes {
			t.Fatalf("covered %d of %d", c.CoveredMinutes, c.TotalMinutes)
		}
		nights := 0
		for i, d := range c.Days {
			d1 := d.Date.AddDate(0, 0, 1)
			var prev time.Time
			for _, g := range d.Gaps {
				if !g.To.After(g.From) || g.From.Before(d.Date) || g.To.After(d1) || g.From.Before(prev) {
					t.Fatalf("day %d: bad gap %v–%v", i, g.From, g.To)
				}
				prev = g.To
				night := g.To.After(d.Date.Add(NightStart*time.Hour)) || g.From.Before(d.Date.Add(NightEnd*time.Hour))
				if g.Night != night {
					t.Fatalf("day %d: night flag %v for %v–%v", i, g.Night, g.From, g.To)
				}
			}
			if d.Covered != (len(d.Gaps) == 0) {
				t.Fatalf("day %d: covered %v with %d gaps", i, d.Covered, len(d.Gaps))
			}
			if d.NightUncovered {
				nights++
			}
		}
		if nights != c.UncoveredNight {
			t.Fatalf("nights %d, counted %d", nights, c.UncoveredNight)
		}
		if c.Full() && c.UncoveredNight > 0 && c.Days[6].NightUncovered == false {
			t.Fatalf("full week with an uncovered night inside it")
		}
	})
}
