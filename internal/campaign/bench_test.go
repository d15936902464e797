package campaign

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// BenchmarkImportCSV imports a list of 10 000 addresses (routed into the
// fixture's ranges, a tenth unrouted) into a new campaign per iteration.
func BenchmarkImportCSV(b *testing.B) {
	f := newFixture(b, testkit.NewSQLite(b))
	coord := f.actor(f.national, policy.RoleCoordinator)
	var sb strings.Builder
	sb.WriteString("ip,port,malware\n")
	for i := range 10_000 {
		if i%10 == 0 {
			fmt.Fprintf(&sb, "203.0.%d.%d,23,Mirai\n", i>>8&255, i&255)
			continue
		}
		fmt.Fprintf(&sb, "100.64.%d.%d,23,Mirai\n", i>>8&255, i&255)
	}
	list := sb.String()
	b.ResetTimer()
	for b.Loop() {
		c := f.campaign(coord, "amber")
		res, err := f.s.ImportCSV(context.Background(), coord, c.ID, "bench", strings.NewReader(list))
		if err != nil || res.New != 10_000 {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "addresses/s")
}
