package match

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/ingest/decode"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// benchPerKind is how many indicators of each kind the benchmarks index.
const benchPerKind = 1_000_000

var benchKinds = []string{"ipv4", "ipv6", "cidr", "domain", "url", "md5", "sha1", "sha256", "email"}

func mix(i uint64) uint64 { // splitmix64
	i += 0x9e3779b97f4a7c15
	i = (i ^ i>>30) * 0xbf58476d1ce4e5b9
	i = (i ^ i>>27) * 0x94d049bb133111eb
	return i ^ i>>31
}

func benchIPv4(i int) netip.Addr {
	v := uint32(mix(uint64(i)))
	return netip.AddrFrom4([4]byte{byte(v>>24) | 1, byte(v >> 16), byte(v >> 8), byte(v)})
}

func benchIPv6(i int) netip.Addr {
	v := mix(uint64(i) + 1<<40)
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), 0, 0, 0, 0, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func benchHash(i, n int) string {
	b := make([]byte, 0, n)
	for k := uint64(0); len(b) < n; k++ {
		b = fmt.Appendf(b, "%016x", mix(uint64(i)<<8|k))
	}
	return string(b[:n])
}

// benchValue is indicator i of a kind, in normal form.
func benchValue(kind string, i int) string {
	switch kind {
	case "ipv4":
		return benchIPv4(i).String()
	case "ipv6":
		return benchIPv6(i).String()
	case "cidr":
		bits := []int{24, 26, 28, 30}[i%4] // ranges as blocklists hold them: small, sparse
		if i%10 == 9 {
			return netip.PrefixFrom(benchIPv6(i+1<<30), 48).Masked().String()
		}
		return netip.PrefixFrom(benchIPv4(i+1<<30), bits).Masked().String()
	case "domain":
		return fmt.Sprintf("c%d.bad%d.example", i, i%5000)
	case "url":
		return fmt.Sprintf("http://h%d.example.net/gate/%d.php?id=%d", i%100000, i, i%977)
	case "md5":
		return benchHash(i, 32)
	case "sha1":
		return benchHash(i, 40)
	case "sha256":
		return benchHash(i, 64)
	case "email":
		return fmt.Sprintf("u%d@m%d.example", i, i%10000)
	}
	panic(kind)
}

var (
	benchOnce sync.Once
	benchInds []Indicator
)

func benchIndicators() []Indicator {
	benchOnce.Do(func() {
		benchInds = make([]Indicator, 0, benchPerKind*len(benchKinds))
		id := int64(0)
		for _, k := range benchKinds {
			for i := range benchPerKind {
				id++
				benchInds = append(benchInds, Indicator{ID: id, Kind: k, Value: benchValue(k, i), Confidence: int(id % 101), OrgID: id % 200})
			}
		}
	})
	return benchInds
}

// benchEvents are realistic alerts: random public addresses (a few in the
// indicator set or its ranges), an eighth with a domain name (some a
// sub-domain of an indicator), a sixteenth with a URL, a sixteenth with a
// file hash.
func benchEvents(n int) []decode.Event {
	r := rand.New(rand.NewPCG(3, 4))
	evs := make([]decode.Event, n)
	for i := range evs {
		e := decode.Event{Time: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Kind: "alert", Count: 1,
			Src: netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}),
			Dst: netip.AddrFrom4([4]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})}
		switch {
		case i%50 == 0:
			e.Src = benchIPv4(r.IntN(benchPerKind)) // a listed address
		case i%50 == 1:
			e.Src = benchIPv6(r.IntN(benchPerKind))
		}
		if i%8 == 0 {
			if i%16 == 0 {
				e.Domains = []string{fmt.Sprintf("www.c%d.bad%d.example", i, i%5000)}
			} else {
				e.Domains = []string{fmt.Sprintf("cdn%d.good-site.example.com", i)}
			}
		}
		if i%16 == 3 {
			e.URLs = []string{benchValue("url", r.IntN(2*benchPerKind))} // half listed
		}
		if i%16 == 5 {
			e.Hashes = []string{benchHash(r.IntN(2*benchPerKind), 64)}
		}
		evs[i] = e
	}
	return evs
}

func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkBuild indexes 1 000 000 indicators of each of the nine kinds and
// reports the heap the index holds.
func BenchmarkBuild(b *testing.B) {
	inds := benchIndicators()
	b.ReportAllocs()
	var x *Index
	var mb float64
	for b.Loop() {
		x = nil
		before := heapMB()
		x = Build(inds)
		mb = heapMB() - before
	}
	b.ReportMetric(mb, "index-MiB")
	b.ReportMetric(float64(x.Len()), "indicators")
	runtime.KeepAlive(x)
}

// BenchmarkMatch matches realistic events against 9 000 000 indicators.
func BenchmarkMatch(b *testing.B) {
	x := Build(benchIndicators())
	evs := benchEvents(1 << 16)
	hits := 0
	dst := make([]Hit, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		dst = x.Match(&evs[i&(len(evs)-1)], dst[:0])
		hits += len(dst)
		i++
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(i)/s, "events/s")
	b.ReportMetric(float64(hits)/s, "matches/s")
	b.ReportMetric(float64(hits)/float64(i), "hits/event")
}

// BenchmarkMatchParallel is BenchmarkMatch with every core reading the one
// index, as the pipeline's workers do.
func BenchmarkMatchParallel(b *testing.B) {
	x := Build(benchIndicators())
	evs := benchEvents(1 << 16)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]Hit, 0, 16)
		i := rand.IntN(len(evs))
		for pb.Next() {
			dst = x.Match(&evs[i&(len(evs)-1)], dst[:0])
			i++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkPatch patches the 9 000 000-indicator index with 1 000 changes
// (half withdrawn, half new), as Refresh does between two loads.
func BenchmarkPatch(b *testing.B) {
	inds := benchIndicators()
	x := Build(inds)
	changes := make([]Change, 1000)
	for i := range changes {
		in := inds[i*9001%len(inds)]
		if i%2 == 1 {
			in = Indicator{ID: int64(len(inds) + i), Kind: "domain", Value: fmt.Sprintf("new%d.bad.example", i)}
		}
		changes[i] = Change{Indicator: in, Active: i%2 == 1}
	}
	b.ReportAllocs()
	var y *Index
	for b.Loop() {
		y = x.Patch(changes)
	}
	if y.Len() != x.Len() {
		b.Fatalf("Len %d, want %d", y.Len(), x.Len())
	}
}

// BenchmarkLoad reads 100 000 indicators of each kind from SQLite (and
// PostgreSQL when CERTNET_TEST_POSTGRES is set) into an index.
func BenchmarkLoad(b *testing.B) {
	const perKind = 100_000
	for _, eng := range testkit.Engines(b) {
		b.Run(string(eng.Name), func(b *testing.B) {
			db := eng.Open(b)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
			o, err := org.NewService(db, func() time.Time { return t0 }, nil).Create(ctx, policy.SystemActor("bench"),
				org.Input{Code: "VNCERT", Name: "VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
			if err != nil {
				b.Fatal(err)
			}
			err = db.InTx(ctx, func(tx *store.Tx) error {
				const per = 500
				var sb strings.Builder
				args := make([]any, 0, per*9)
				flush := func() error {
					if len(args) == 0 {
						return nil
					}
					_, err := tx.Exec(ctx, `INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, confidence, valid_from, tlp, stix_id, created_at, updated_at) VALUES `+
						strings.TrimSuffix(sb.String(), ",")+" ON CONFLICT DO NOTHING", args...) // random values may repeat
					sb.Reset()
					args = args[:0]
					return err
				}
				n := 0
				for _, k := range benchKinds {
					for i := range perKind {
						n++
						sb.WriteString("(?,?,?,'',?,?,'GREEN',?,?,?),")
						args = append(args, o.ID, k, benchValue(k, i), n%101, t0.Add(-time.Hour), fmt.Sprintf("indicator--%d", n), t0, t0)
						if len(args) == cap(args) {
							if err := flush(); err != nil {
								return err
							}
						}
					}
				}
				return flush()
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var x *Index
			for b.Loop() {
				if x, err = Load(ctx, db, t0); err != nil {
					b.Fatal(err)
				}
			}
			var rows int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM intel_indicators").Scan(&rows); err != nil {
				b.Fatal(err)
			}
			if x.Len() != rows || rows < perKind*len(benchKinds)*99/100 {
				b.Fatalf("Len %d of %d rows", x.Len(), rows)
			}
			b.ReportMetric(float64(b.N*x.Len())/b.Elapsed().Seconds(), "indicators/s")
		})
	}
}

// BenchmarkDecodeAndMatch is this package's share of the ingest hot path:
// a batch of 1 000 Suricata EVE alerts decoded and matched against
// 9 000 000 indicators.
func BenchmarkDecodeAndMatch(b *testing.B) {
	x := Build(benchIndicators())
	r := rand.New(rand.NewPCG(5, 6))
	var body []byte
	for i := range 1000 {
		src := netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		if i%50 == 0 {
			src = benchIPv4(r.IntN(benchPerKind))
		}
		body = fmt.Appendf(body, `{"timestamp":"2026-11-20T08:%02d:%02d.%06d+0700","flow_id":%d,"in_iface":"ens192","event_type":"alert","src_ip":"%s","src_port":%d,"dest_ip":"10.%d.%d.%d","dest_port":443,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":%d,"rev":5,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2,"metadata":{"created_at":["2019_07_26"],"signature_severity":["Major"]}},`,
			r.IntN(60), r.IntN(60), r.IntN(1000000), r.Int64(), src, 1024+r.IntN(60000), r.IntN(256), r.IntN(256), r.IntN(256), 2000000+r.IntN(40000))
		if i%8 == 0 {
			body = fmt.Appendf(body, `"tls":{"sni":"www.c%d.bad%d.example","version":"TLS 1.2"},`, i, i%5000)
		}
		body = append(body, `"flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":230,"bytes_toclient":140,"start":"2026-11-20T08:00:00.000000+0700"}}`+"\n"...)
	}
	evs := make([]decode.Event, 0, 1000)
	hits := make([]Hit, 0, 64)
	nHits := 0
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		evs, _, err = decode.Decode(decode.Suricata, body, evs[:0])
		if err != nil || len(evs) != 1000 {
			b.Fatal(err, len(evs))
		}
		for i := range evs {
			hits = x.Match(&evs[i], hits[:0])
			nHits += len(hits)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(nHits)/float64(b.N*1000), "hits/event")
}
