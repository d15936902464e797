package readiness

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkPlanDiff: the comparison the plan page makes between two
// versions of a large plan (40 scenarios, each with ten steps and five
// people: about 800 lines), one step changed in every other scenario.
func BenchmarkPlanDiff(b *testing.B) {
	mk := func(changed bool) PlanContent {
		c := PlanContent{Title: "Phương án", Scope: strings.Repeat("Phạm vi áp dụng.\n", 5)}
		for i := range 40 {
			var steps []string
			for j := range 10 {
				s := fmt.Sprintf("%d. Bước xử lý số %d của kịch bản %d", j+1, j+1, i)
				if changed && i%2 == 0 && j == 5 {
					s += " (sửa đổi)"
				}
				steps = append(steps, s)
			}
			o := PlanOption{ScenarioID: int64(i), Title: fmt.Sprintf("Kịch bản %d", i), Score: 20, Steps: strings.Join(steps, "\n"),
				Equipment: "Máy chủ dự phòng", BudgetVND: 100_000_000}
			for k := range 5 {
				o.People = append(o.People, PlanRef{ID: int64(k), Name: fmt.Sprintf("Người %d", k)})
			}
			c.Options = append(c.Options, o)
		}
		return c
	}
	lbl := func(k string) string { return k }
	num := func(n int64) string { return strconv.FormatInt(n, 10) }
	old, new := PlanLines(mk(false), lbl, num), PlanLines(mk(true), lbl, num)
	for b.Loop() {
		if d := Diff(old, new); len(d) < len(new) {
			b.Fatal("short diff")
		}
	}
	b.ReportMetric(float64(len(new)), "lines")
}
