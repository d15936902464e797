package org

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var keyRE = regexp.MustCompile(`"((?:org\.(?:err|import|whois)|field)\.[a-z0-9_]+)"`)

func listGoFiles() ([]string, error) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

func TestRanges(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.isp, policy.RoleAdmin)
		n0 := f.auditCount()
		r, err := f.s.AddRange(ctx, admin, f.isp.ID, "203.0.113.77/24", "khối chính")
		if err != nil {
			t.Fatal(err)
		}
		if r.CIDR != "203.0.113.0/24" || r.Family != 4 || r.Note != "khối chính" || r.ID == 0 {
			t.Errorf("range: %+v", r)
		}
		r6, err := f.s.AddRange(ctx, admin, f.isp.ID, "2001:DB8:10::/48", "")
		if err != nil || r6.CIDR != "2001:db8:10::/48" || r6.Family != 6 {
			t.Fatalf("ipv6: %+v %v", r6, err)
		}
		host, err := f.s.AddRange(ctx, admin, f.isp.ID, "198.51.100.7", "")
		if err != nil || host.CIDR != "198.51.100.7/32" {
			t.Fatalf("bare address: %+v %v", host, err)
		}
		mapped, err := f.s.AddRange(ctx, admin, f.isp.ID, "::ffff:192.0.2.0/120", "")
		if err != nil || mapped.CIDR != "192.0.2.0/24" || mapped.Family != 4 {
			t.Fatalf("mapped: %+v %v", mapped, err)
		}
		bad := []struct{ in, key string }{
			{"10.0.0.0/33", "org.err.cidr_format"},
			{"300.1.1.1", "org.err.cidr_format"},
			{"abc", "org.err.cidr_format"},
			{"10.0.0.0/-1", "org.err.cidr_format"},
			{"2001:db8::/129", "org.err.cidr_format"},
			{"fe80::1%eth0", "org.err.cidr_format"},
			{"", "field.required"},
			{"0.0.0.0/0", "org.err.range_too_broad"},
			{"2000::/3", "org.err.range_too_broad"},
			{"127.0.0.1", "org.err.range_reserved"},
			{"224.0.0.0/8", "org.err.range_reserved"},
			{"fe80::/64", "org.err.range_reserved"},
		}
		for _, b := range bad {
			_, err := f.s.AddRange(ctx, admin, f.isp.ID, b.in, "")
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Fields["cidr"].Key != b.key {
				t.Errorf("%q: got %v, want %s", b.in, err, b.key)
			}
		}
		own := []struct{ in, key string }{
			{"203.0.113.0/24", "org.err.range_duplicate_own"},
			{"203.0.113.128/25", "org.err.range_overlaps_own"},
			{"203.0.112.0/23", "org.err.range_overlaps_own"},
			{"2001:db8:10:5::/64", "org.err.range_overlaps_own"},
			{"2001:db8::/32", "org.err.range_overlaps_own"},
		}
		for _, o := range own {
			_, err := f.s.AddRange(ctx, admin, f.isp.ID, o.in, "")
			wantKind(t, err, errs.KindConflict, "cidr", o.key)
		}
		// Another organisation's range: refused, naming the owner and its range.
		bankAdmin := f.actor(f.bank, policy.RoleAdmin)
		for _, in := range []string{"203.0.113.0/24", "203.0.113.64/26", "203.0.0.0/16", "2001:db8:10:1::/64"} {
			_, err := f.s.AddRange(ctx, bankAdmin, f.bank.ID, in, "")
			wantKind(t, err, errs.KindConflict, "cidr", "org.err.range_overlaps_other")
			e, _ := errs.As(err)
			args := e.Message.Args
			if len(args) != 3 || args[2] != f.isp.Name || !strings.Contains(args[1].(string), "/") {
				t.Errorf("%s: message args %v", in, args)
			}
		}
		// Neighbours do not overlap.
		if _, err := f.s.AddRange(ctx, bankAdmin, f.bank.ID, "203.0.114.0/24", ""); err != nil {
			t.Errorf("adjacent range: %v", err)
		}
		if _, err := f.s.AddRange(ctx, bankAdmin, f.bank.ID, "2001:db8:11::/48", ""); err != nil {
			t.Errorf("adjacent ipv6: %v", err)
		}
		// Delegation: the ISP's administrator assigns a /26 of its block to
		// its customer (a child organisation); the customer cannot claim it
		// by itself, nor can an unrelated organisation.
		custAdmin := f.actor(f.cust, policy.RoleAdmin)
		_, err = f.s.AddRange(ctx, custAdmin, f.cust.ID, "203.0.113.0/26", "")
		wantKind(t, err, errs.KindConflict, "cidr", "org.err.range_overlaps_other")
		if _, err := f.s.AddRange(ctx, admin, f.cust.ID, "203.0.113.0/26", "giao cho khách hàng"); err != nil {
			t.Fatalf("delegation by the ISP: %v", err)
		}
		_, err = f.s.AddRange(ctx, admin, f.cust.ID, "203.0.113.0/27", "")
		wantKind(t, err, errs.KindConflict, "cidr", "org.err.range_overlaps_own")

		list, err := f.s.Ranges(ctx, f.actor(f.hn, policy.RoleViewer), f.isp.ID)
		if err != nil {
			t.Fatal(err)
		}
		var cidrs []string
		for _, r := range list {
			cidrs = append(cidrs, r.CIDR)
		}
		if !slices.Equal(cidrs, []string{"192.0.2.0/24", "198.51.100.7/32", "203.0.113.0/24", "2001:db8:10::/48"}) {
			t.Errorf("ranges in order: %v", cidrs)
		}
		if err := f.s.DeleteRange(ctx, admin, f.isp.ID, host.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteRange(ctx, admin, f.isp.ID, host.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		if err := f.s.DeleteRange(ctx, admin, f.isp.ID, r6.ID+1000); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("delete missing: %v", err)
		}
		// A range of one org cannot be deleted through another org's id.
		if err := f.s.DeleteRange(ctx, bankAdmin, f.bank.ID, r.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("delete another org's range: %v", err)
		}
		if n := f.auditCount(); n != n0+8 {
			t.Errorf("audit entries: %d, want 8", n-n0)
		}
		f.verifyAudit()
	})
}

func TestASNsAndDomains(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.actor(f.isp, policy.RoleAdmin)
		a, err := f.s.AddASN(ctx, admin, f.isp.ID, "AS64500", "mạng chính")
		if err != nil || a.ASN != 64500 {
			t.Fatalf("asn: %+v %v", a, err)
		}
		if a2, err := f.s.AddASN(ctx, admin, f.isp.ID, "as1.10", ""); err != nil || a2.ASN != 65546 {
			t.Fatalf("asdot: %+v %v", a2, err)
		}
		if _, err := f.s.AddASN(ctx, admin, f.isp.ID, "4200000000", ""); err != nil {
			t.Fatalf("4-byte asn: %v", err)
		}
		for _, b := range []struct{ in, key string }{
			{"ASX", "org.err.asn_format"}, {"AS", "org.err.asn_format"}, {"-5", "org.err.asn_format"},
			{"4294967296", "org.err.asn_format"}, {"AS0", "org.err.asn_reserved"}, {"23456", "org.err.asn_reserved"},
			{"", "field.required"},
		} {
			_, err := f.s.AddASN(ctx, admin, f.isp.ID, b.in, "")
			wantKind(t, err, errs.KindInvalid, "asn", b.key)
		}
		_, err = f.s.AddASN(ctx, admin, f.isp.ID, "64500", "")
		wantKind(t, err, errs.KindConflict, "asn", "org.err.asn_taken_own")
		_, err = f.s.AddASN(ctx, f.actor(f.bank, policy.RoleAdmin), f.bank.ID, "AS64500", "")
		wantKind(t, err, errs.KindConflict, "asn", "org.err.asn_taken_other")
		asns, err := f.s.ASNs(ctx, f.sys, f.isp.ID)
		if err != nil || len(asns) != 3 || asns[0].ASN != 64500 {
			t.Errorf("asns: %+v %v", asns, err)
		}
		if err := f.s.DeleteASN(ctx, admin, f.isp.ID, asns[0].ID); err != nil {
			t.Fatal(err)
		}

		hnAdmin := f.actor(f.hn, policy.RoleAdmin)
		d, err := f.s.AddDomain(ctx, hnAdmin, f.hn.ID, " HaNoi.Gov.VN. ", "")
		if err != nil || d.Domain != "hanoi.gov.vn" {
			t.Fatalf("domain: %+v %v", d, err)
		}
		idn, err := f.s.AddDomain(ctx, hnAdmin, f.hn.ID, "sở-khoa-học.vn", "")
		if err != nil || !strings.HasPrefix(idn.Domain, "xn--") {
			t.Fatalf("IDN: %+v %v", idn, err)
		}
		for _, b := range []string{"-bad.vn", "bad-.vn", "a..vn", "vn", "under_score.vn", "*.hanoi.gov.vn",
			strings.Repeat("a", 64) + ".vn", strings.Repeat("abcdefghi.", 26) + "vn", "1.2.3", "ex ample.vn"} {
			_, err := f.s.AddDomain(ctx, hnAdmin, f.hn.ID, b, "")
			wantKind(t, err, errs.KindInvalid, "domain", "")
		}
		_, err = f.s.AddDomain(ctx, hnAdmin, f.hn.ID, "hanoi.gov.vn", "")
		wantKind(t, err, errs.KindConflict, "domain", "org.err.domain_taken_own")
		iocAdmin := f.actor(f.hnioc, policy.RoleAdmin)
		_, err = f.s.AddDomain(ctx, iocAdmin, f.hnioc.ID, "HANOI.gov.vn", "")
		wantKind(t, err, errs.KindConflict, "domain", "org.err.domain_taken_other")
		// A subdomain of another organisation's domain is allowed.
		if _, err := f.s.AddDomain(ctx, iocAdmin, f.hnioc.ID, "ioc.hanoi.gov.vn", ""); err != nil {
			t.Fatalf("subdomain: %v", err)
		}
		ds, err := f.s.Domains(ctx, f.sys, f.hn.ID)
		if err != nil || len(ds) != 2 {
			t.Fatalf("domains: %+v %v", ds, err)
		}
		if err := f.s.DeleteDomain(ctx, hnAdmin, f.hn.ID, idn.ID); err != nil {
			t.Fatal(err)
		}
		f.verifyAudit()
	})
}

func TestWhois(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ispAdmin := f.actor(f.isp, policy.RoleAdmin)
		for _, c := range []struct {
			org  Org
			cidr string
		}{
			{f.isp, "100.64.0.0/16"}, {f.cust, "100.64.7.0/24"}, {f.isp, "2001:db8::/32"},
			{f.cust, "2001:db8:7::/48"}, {f.isp, "192.0.2.0/24"},
		} {
			if _, err := f.s.AddRange(ctx, ispAdmin, c.org.ID, c.cidr, ""); err != nil {
				t.Fatalf("%s: %v", c.cidr, err)
			}
		}
		if _, err := f.s.AddASN(ctx, ispAdmin, f.isp.ID, "AS64500", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddDomain(ctx, f.sys, f.hn.ID, "hanoi.gov.vn", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddDomain(ctx, f.sys, f.hnioc.ID, "ioc.hanoi.gov.vn", ""); err != nil {
			t.Fatal(err)
		}
		viewer := f.actor(f.bank, policy.RoleViewer)
		cases := []struct {
			q, kind, matched, org string
			chain                 []string
		}{
			{"100.64.7.9", KindIP, "100.64.7.0/24", "CUST", []string{"ISP", "VNCERT"}},
			{"100.64.8.9", KindIP, "100.64.0.0/16", "ISP", []string{"VNCERT"}},
			{"::ffff:100.64.7.1", KindIP, "100.64.7.0/24", "CUST", []string{"ISP", "VNCERT"}},
			{" 2001:db8:7::1 ", KindIP, "2001:db8:7::/48", "CUST", []string{"ISP", "VNCERT"}},
			{"2001:db8:8::1", KindIP, "2001:db8::/32", "ISP", []string{"VNCERT"}},
			{"100.64.7.128/25", KindCIDR, "100.64.7.0/24", "CUST", []string{"ISP", "VNCERT"}},
			{"100.64.0.0/20", KindCIDR, "100.64.0.0/16", "ISP", []string{"VNCERT"}},
			{"192.0.2.0/24", KindCIDR, "192.0.2.0/24", "ISP", []string{"VNCERT"}},
			{"AS64500", KindASN, "AS64500", "ISP", []string{"VNCERT"}},
			{"64500", KindASN, "AS64500", "ISP", []string{"VNCERT"}},
			{"www.hanoi.gov.vn", KindDomain, "hanoi.gov.vn", "HN", []string{"VNCERT"}},
			{"HANOI.GOV.VN.", KindDomain, "hanoi.gov.vn", "HN", []string{"VNCERT"}},
			{"a.b.ioc.hanoi.gov.vn", KindDomain, "ioc.hanoi.gov.vn", "HNIOC", []string{"HN", "VNCERT"}},
			{"https://ioc.hanoi.gov.vn:8443/login?x=1", KindDomain, "ioc.hanoi.gov.vn", "HNIOC", []string{"HN", "VNCERT"}},
			{"abuse@hanoi.gov.vn", KindDomain, "hanoi.gov.vn", "HN", []string{"VNCERT"}},
			{"http://[2001:db8:7::5]/", KindIP, "2001:db8:7::/48", "CUST", []string{"ISP", "VNCERT"}},
		}
		for _, c := range cases {
			t.Run(c.q, func(t *testing.T) {
				res, err := f.s.Whois(ctx, viewer, c.q)
				if err != nil {
					t.Fatal(err)
				}
				if res.Kind != c.kind || res.Matched != c.matched || res.Org.Code != c.org || !slices.Equal(codes(res.Chain), c.chain) {
					t.Errorf("got %s %s %s %v", res.Kind, res.Matched, res.Org.Code, codes(res.Chain))
				}
			})
		}
		for _, q := range []string{"100.65.0.1", "100.64.0.0/8", "AS64501", "example.com", "2001:db9::1"} {
			_, err := f.s.Whois(ctx, viewer, q)
			wantKind(t, err, errs.KindNotFound, "", "org.whois.not_found")
		}
		for _, q := range []string{"", "abc", "300.1.1.1", "10.0.0.0/33", "AS99999999999", "a b", "::g", "-x.vn"} {
			_, err := f.s.Whois(ctx, viewer, q)
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || !e.Has("q") {
				t.Errorf("%q: got %v, want invalid q", q, err)
			}
		}
		if _, err := f.s.Whois(ctx, policy.Actor{}, "100.64.7.9"); err == nil {
			t.Error("anonymous whois answered")
		}
		// Deleting the customer's range hands the address back to the ISP.
		rs, _ := f.s.Ranges(ctx, f.sys, f.cust.ID)
		if err := f.s.DeleteRange(ctx, ispAdmin, f.cust.ID, rs[0].ID); err != nil {
			t.Fatal(err)
		}
		if res, err := f.s.Whois(ctx, viewer, "100.64.7.9"); err != nil || res.Org.Code != "ISP" {
			t.Errorf("after delete: %+v %v", res.Org.Code, err)
		}
	})
}

func TestOverlapsReport(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.s.AddRange(ctx, f.sys, f.isp.ID, "100.64.0.0/16", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddRange(ctx, f.sys, f.cust.ID, "100.64.1.0/24", ""); err != nil { // delegation
			t.Fatal(err)
		}
		if _, err := f.s.AddRange(ctx, f.sys, f.bank.ID, "2001:db8::/32", ""); err != nil {
			t.Fatal(err)
		}
		// An older import wrote overlaps straight into the table.
		for _, raw := range []struct {
			org  int64
			cidr string
		}{{f.hn.ID, "100.64.2.0/24"}, {f.hn.ID, "100.64.2.128/25"}, {f.isp.ID, "2001:db8:5::/48"}} {
			p := netip.MustParsePrefix(raw.cidr)
			start, end := rangeKeys(p)
			if _, err := db.Exec(ctx, `INSERT INTO org_ranges (org_id, cidr, family, start_key, end_key, note, created_at)
				VALUES (?, ?, ?, ?, ?, '', ?)`, raw.org, raw.cidr, family(p), start, end, t0); err != nil {
				t.Fatal(err)
			}
		}
		f.s.Invalidate()
		got, err := f.s.Overlaps(ctx, f.actor(f.national, policy.RoleAdmin))
		if err != nil {
			t.Fatal(err)
		}
		var pairs []string
		for _, o := range got {
			pairs = append(pairs, o.A.CIDR+"("+o.AName+") ⊃ "+o.B.CIDR+"("+o.BName+")")
		}
		want := []string{
			"100.64.0.0/16(" + f.isp.Name + ") ⊃ 100.64.2.0/24(" + f.hn.Name + ")",
			"100.64.0.0/16(" + f.isp.Name + ") ⊃ 100.64.2.128/25(" + f.hn.Name + ")",
			"100.64.2.0/24(" + f.hn.Name + ") ⊃ 100.64.2.128/25(" + f.hn.Name + ")",
			"2001:db8::/32(" + f.bank.Name + ") ⊃ 2001:db8:5::/48(" + f.isp.Name + ")",
		}
		if !slices.Equal(pairs, want) {
			t.Errorf("overlaps:\n got %q\nwant %q", pairs, want)
		}
		// Whois follows the longest prefix even in such data.
		res, err := f.s.Whois(ctx, f.sys, "100.64.2.200")
		if err != nil || res.Matched != "100.64.2.128/25" || res.Org.ID != f.hn.ID {
			t.Errorf("whois in overlapping data: %+v %v", res, err)
		}
	})
}

func TestIndexLookupDoesNotAllocate(t *testing.T) {
	x := NewIndex()
	x.AddRange(netip.MustParsePrefix("10.0.0.0/8"), 1)
	x.AddRange(netip.MustParsePrefix("10.1.0.0/16"), 2)
	x.AddRange(netip.MustParsePrefix("2001:db8::/32"), 3)
	x.AddDomain("example.vn", 4)
	a4 := netip.MustParseAddr("10.1.2.3")
	a6 := netip.MustParseAddr("2001:db8::1")
	m := netip.MustParseAddr("::ffff:10.9.9.9")
	allocs := testing.AllocsPerRun(1000, func() {
		if id, _, ok := x.Lookup(a4); !ok || id != 2 {
			t.Fatal("v4")
		}
		if id, _, ok := x.Lookup(a6); !ok || id != 3 {
			t.Fatal("v6")
		}
		if id, _, ok := x.Lookup(m); !ok || id != 1 {
			t.Fatal("mapped")
		}
		if id, _, ok := x.LookupDomain("a.b.example.vn"); !ok || id != 4 {
			t.Fatal("domain")
		}
	})
	if allocs != 0 {
		t.Errorf("lookups allocate: %.1f per run", allocs)
	}
	var nilIndex *Index
	if _, _, ok := nilIndex.Lookup(a4); ok {
		t.Error("nil index answered")
	}
	if _, _, ok := x.Lookup(netip.Addr{}); ok {
		t.Error("invalid address answered")
	}
}

// A hidden owner (AMBER+STRICT) of the longest match is skipped: the actor
// gets the nearest owner they may see, as if the hidden range did not exist.
func TestWhoisSkipsHiddenOwner(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		in := InputOf(f.cust)
		in.TLP = policy.TLPAmberStrict
		if _, err := f.s.Update(ctx, f.sys, f.cust.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddRange(ctx, f.sys, f.isp.ID, "10.20.0.0/16", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddRange(ctx, f.sys, f.cust.ID, "10.20.30.0/24", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddDomain(ctx, f.sys, f.isp.ID, "vt.example", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddDomain(ctx, f.sys, f.cust.ID, "kh.vt.example", ""); err != nil {
			t.Fatal(err)
		}
		outsider := f.actor(f.hn, policy.RoleAnalyst)
		for q, want := range map[string]string{"10.20.30.7": "10.20.0.0/16", "10.20.30.0/25": "10.20.0.0/16", "www.kh.vt.example": "vt.example"} {
			res, err := f.s.Whois(ctx, outsider, q)
			if err != nil || res.Org.ID != f.isp.ID || res.Matched != want {
				t.Errorf("outsider whois %s: %+v %v, want the ISP by %s", q, res.Matched, err, want)
			}
		}
		own := f.actor(f.cust, policy.RoleAnalyst)
		res, err := f.s.Whois(ctx, own, "10.20.30.7")
		if err != nil || res.Org.ID != f.cust.ID || res.Matched != "10.20.30.0/24" {
			t.Errorf("member's own whois: %+v %v", res, err)
		}
		// Nothing wider: not found, as before.
		if _, err := f.s.Whois(ctx, outsider, "10.99.0.1"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("unowned address: %v", err)
		}
	})
}
