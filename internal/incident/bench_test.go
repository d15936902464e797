package incident

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// BenchmarkCreate measures incident creations per second on SQLite, with
// the reference, first report, observables, timeline and audit entry.
func BenchmarkCreate(b *testing.B) {
	f := newFixture(b, testkit.NewSQLite(b))
	rep := f.actor(f.hnm, policy.RoleReporter)
	in := input()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := f.s.Create(ctx, rep, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "incidents/s")
}

// BenchmarkList: 10 000 incidents on SQLite, a filtered page as a
// provincial analyst; reports the p95 latency.
func BenchmarkList(b *testing.B) {
	f := newFixture(b, testkit.NewSQLite(b))
	reps := []policy.Actor{f.actor(f.hnm, policy.RoleReporter), f.actor(f.dnm, policy.RoleReporter)}
	types := []Type{TypeDDoS, TypePhishing, TypeMalware, TypeDefacement}
	for i := range 10000 {
		i := i
		in := input(func(in *Input) {
			in.Type = types[i%len(types)]
			in.Title = fmt.Sprintf("Sự cố số %d tại hệ thống", i)
		})
		if _, err := f.s.Create(ctx, reps[i%2], in); err != nil {
			b.Fatal(err)
		}
		if i%500 == 0 {
			f.clock.Advance(time.Hour)
		}
	}
	an := f.actor(f.hn, policy.RoleAnalyst)
	filter := Filter{Type: TypeMalware, Status: StatusReceived, Q: "he thong", Limit: 50}
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		list, _, err := f.s.List(ctx, an, filter)
		if err != nil || len(list) == 0 {
			b.Fatalf("list: %d %v", len(list), err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
