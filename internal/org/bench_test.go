package org

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
)

// benchIndex builds an index of n ranges: IPv4 /16 to /29 and one in ten
// IPv6 /32 to /64, and returns addresses to look up (most inside a range).
func benchIndex(n int) (*Index, []netip.Addr) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := NewIndex()
	var addrs []netip.Addr
	for i := 0; i < n; i++ {
		var p netip.Prefix
		if i%10 == 9 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for j := 2; j < 8; j++ {
				b[j] = byte(rng.Uint32())
			}
			p = netip.PrefixFrom(netip.AddrFrom16(b), 32+rng.IntN(33)).Masked()
		} else {
			v := rng.Uint32()
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 16+rng.IntN(14)).Masked()
		}
		x.AddRange(p, int64(i%5000+1))
		if len(addrs) < 1<<16 {
			b := p.Addr().As16()
			b[15] ^= byte(rng.Uint32()) // stay (mostly) inside the prefix
			a := netip.AddrFrom16(b)
			if p.Addr().Is4() {
				a = a.Unmap()
			}
			addrs = append(addrs, a)
		}
	}
	// A share of misses.
	for i := 0; i < len(addrs)/4; i++ {
		v := rng.Uint32()
		addrs[i*4] = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return x, addrs
}

// BenchmarkWhoisLookup: longest-prefix lookups on one core against 100 000
// ranges. Target ≥ 1 000 000 lookups/s.
func BenchmarkWhoisLookup(b *testing.B) {
	x, addrs := benchIndex(100_000)
	b.ReportAllocs()
	hits := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, _, ok := x.Lookup(addrs[i&(len(addrs)-1)]); ok {
			hits++
		}
	}
	el := time.Since(start)
	b.StopTimer()
	if b.N >= 1000 && hits == 0 {
		b.Fatal("no hits")
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "lookups/s")
}

// benchService fills a SQLite registry with n organisations through Import
// (one transaction) and returns the service.
func benchService(b testing.TB, n int) *Service {
	b.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	s := NewService(db, time.Now, nil)
	sys := policy.SystemActor("bench")
	provinces := []string{"Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Huế", "Cao Bằng",
		"Lào Cai", "Nghệ An", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "An Giang", "Cà Mau"}
	for i, p := range provinces {
		if err := s.SaveProvince(ctx, sys, Province{Code: fmt.Sprintf("P%02d", i), Name: p, Region: Regions[i%3], SortOrder: i}); err != nil {
			b.Fatal(err)
		}
	}
	words := []string{"Sở", "Trung tâm", "Công ty", "Ngân hàng", "Bệnh viện", "Cục", "Viện", "Tổng công ty"}
	fields := []string{"Thông tin", "Tài chính", "Giám sát", "Điện lực", "Viễn thông", "Y tế", "Giao thông", "Dữ liệu"}
	var buf bytes.Buffer
	buf.WriteString("code,name,name_en,parent_code,roles,province_code,sector\n")
	buf.WriteString("ROOT,Cơ quan điều phối quốc gia,National coordinator,,national_coordinator,,\n")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 1; i < n; i++ {
		parent := "ROOT"
		if i > 100 {
			parent = fmt.Sprintf("M%05d", 1+rng.IntN(100))
		}
		role := Roles[2+rng.IntN(len(Roles)-2)]
		sector := ""
		if role == RoleSectorCERT {
			sector = string(Sectors[rng.IntN(len(Sectors))])
		}
		p := rng.IntN(len(provinces))
		fmt.Fprintf(&buf, "M%05d,%s %s %s %d,Member %d,%s,%s,P%02d,%s\n", i, words[rng.IntN(len(words))],
			fields[rng.IntN(len(fields))], provinces[p], i, i, parent, role, p, sector)
	}
	rep, err := s.Import(ctx, sys, &buf, ImportOptions{Kind: ImportOrgs})
	if err != nil || rep.Imported != n || len(rep.Errors) > 0 {
		b.Fatalf("seed: %+v %v", rep, err)
	}
	return s
}

func benchList(b *testing.B, filters []ListFilter) {
	ctx := context.Background()
	s := benchService(b, 10_000)
	a := policy.Actor{UserID: 1, OrgID: 2, Roles: []policy.Role{policy.RoleViewer}, Scope: policy.Scope{Orgs: map[int64]bool{2: true}}}
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		orgs, total, err := s.List(ctx, a, filters[i%len(filters)])
		durs = append(durs, time.Since(t))
		if err != nil || (total > 0 && len(orgs) == 0) {
			b.Fatalf("list: %d/%d %v", len(orgs), total, err)
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	p95 := durs[min(len(durs)-1, len(durs)*95/100)]
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
}

// BenchmarkList pages through the directory of 10 000 organisations with
// the usual filters and sorts. Target p95 < 20 ms.
func BenchmarkList(b *testing.B) {
	benchList(b, []ListFilter{
		{}, {Offset: 5000}, {Sort: "code", Offset: 2000}, {Sort: "province"}, {Sort: "updated"},
		{Role: RoleISP}, {ProvinceCode: "P03"}, {Sector: SectorBanking}, {Region: "south", Sort: "code"},
		{ParentID: 5},
	})
}

// BenchmarkSearch searches the directory of 10 000 organisations, ignoring
// diacritics. Target p95 < 20 ms.
func BenchmarkSearch(b *testing.B) {
	benchList(b, []ListFilter{
		{Q: "ha noi"}, {Q: "Đà Nẵng"}, {Q: "vien thong"}, {Q: "M0042"}, {Q: "ngan hang can tho"},
		{Q: "member 99"}, {Q: "so y te", Role: RoleSystemOwner}, {Q: "xyz không có"},
	})
}
