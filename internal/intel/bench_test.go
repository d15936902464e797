package intel

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// bundleOf streams a bundle of n IPv4 indicators without holding it.
func bundleOf(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, `{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[`)
		for i := range n {
			if i > 0 {
				pw.Write([]byte(","))
			}
			fmt.Fprintf(pw, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`,
				i, i>>16&255, i>>8&255, i&255)
		}
		fmt.Fprint(pw, `]}`)
		pw.Close()
	}()
	return pr
}

// BenchmarkImportSTIX imports b.N indicators from one streamed bundle into
// SQLite; it reports indicators/s and the peak heap.
func BenchmarkImportSTIX(b *testing.B) {
	db := testkit.NewSQLite(b)
	f := newFixture(b, db)
	a := f.actor(f.national, policy.RoleAnalyst)
	var peak uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}()
	b.ResetTimer()
	res, err := f.s.ImportSTIX(context.Background(), a, bundleOf(b.N), ImportOptions{Name: "bench"})
	b.StopTimer()
	close(done)
	if err != nil || res.Accepted != b.N {
		b.Fatalf("%+v %v", res.Accepted, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
