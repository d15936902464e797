package readiness

import (
	"fmt"
	"strings"
)

// A version of a plan as numbered lines of text, in the order of the QĐ 05
// outline, so that two versions compare line by line (what changed between
// the approved plan and its new draft).

// PlanLines renders the content as lines. label names a section or field
// (a catalogue key: readiness.plan.sec.* and readiness.plan.f.*); num
// writes an amount of VND.
func PlanLines(c PlanContent, label func(key string) string, num func(int64) string) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	block := func(indent, s string) {
		for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				add("%s%s", indent, l)
			}
		}
	}
	if c.Title != "" {
		add("%s: %s", label("readiness.plan.f.title"), c.Title)
	}
	add("1. %s", label("readiness.plan.sec.scope"))
	block("   ", c.Scope)
	for _, x := range c.Systems {
		add("   %s: %s", label("readiness.plan.f.system"), x.Name)
	}
	add("2. %s", label("readiness.plan.sec.scenarios"))
	for i, o := range c.Options {
		add("2.%d. %s (%s %d)", i+1, o.Title, label("readiness.plan.f.score"), o.Score)
		add("   %s:", label("readiness.plan.f.steps"))
		block("     ", o.Steps)
		for _, p := range o.People {
			add("   %s: %s", label("readiness.plan.f.person"), p.Name)
		}
		if o.Equipment != "" {
			add("   %s:", label("readiness.plan.f.equipment"))
			block("     ", o.Equipment)
		}
		add("   %s: %s", label("readiness.plan.f.budget"), num(o.BudgetVND))
	}
	add("   %s: %s", label("readiness.plan.f.budget_total"), num(c.Budget()))
	add("3. %s", label("readiness.plan.sec.priorities"))
	block("   ", c.Priorities)
	add("4. %s", label("readiness.plan.sec.contacts"))
	for _, x := range c.Contacts {
		parts := []string{x.Name}
		for _, s := range []string{x.Title, x.Phone247, x.Phone, x.Email} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		add("   %s", strings.Join(parts, " · "))
	}
	for _, x := range c.Teams {
		add("   %s: %s", label("readiness.plan.f.team"), x.Name)
	}
	add("5. %s", label("readiness.plan.sec.escalation"))
	block("   ", c.Escalation)
	return out
}

// DiffLine is one line of a comparison: Op is ' ' (in both), '-' (only in
// the older) or '+' (only in the newer).
type DiffLine struct {
	Op   byte   `json:"op"`
	Text string `json:"text"`
}

// Changed reports whether the line was added or removed.
func (d DiffLine) Changed() bool { return d.Op != ' ' }

// Added reports whether the line is only in the newer text.
func (d DiffLine) Added() bool { return d.Op == '+' }

// maxDiffLines bounds the comparison (a plan is a few hundred lines; the
// table is quadratic).
const maxDiffLines = 4000

// Diff compares old and new line by line (a longest common subsequence):
// the lines of new in order, with those of old that are gone before the
// place they were.
func Diff(old, new []string) []DiffLine {
	if len(old) > maxDiffLines || len(new) > maxDiffLines {
		var out []DiffLine
		for _, l := range old {
			out = append(out, DiffLine{'-', l})
		}
		for _, l := range new {
			out = append(out, DiffLine{'+', l})
		}
		return out
	}
	// The lines both share at the start and at the end are kept as they
	// are; the table is built for the middle only (one changed step in a
	// plan of hundreds of lines costs a few cells, not the whole square).
	pre := 0
	for pre < len(old) && pre < len(new) && old[pre] == new[pre] {
		pre++
	}
	suf := 0
	for suf < len(old)-pre && suf < len(new)-pre && old[len(old)-1-suf] == new[len(new)-1-suf] {
		suf++
	}
	out := make([]DiffLine, 0, max(len(old), len(new))+1)
	for _, l := range new[:pre] {
		out = append(out, DiffLine{' ', l})
	}
	out = diffMiddle(out, old[pre:len(old)-suf], new[pre:len(new)-suf])
	for _, l := range new[len(new)-suf:] {
		out = append(out, DiffLine{' ', l})
	}
	return out
}

// diffMiddle appends the comparison of old and new by their longest common
// subsequence.
func diffMiddle(out []DiffLine, old, new []string) []DiffLine {
	n, m := len(old), len(new)
	// lcs[i][j]: length of the common subsequence of old[i:] and new[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if old[i] == new[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case old[i] == new[j]:
			out = append(out, DiffLine{' ', new[j]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{'-', old[i]})
			i++
		default:
			out = append(out, DiffLine{'+', new[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{'-', old[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{'+', new[j]})
	}
	return out
}
