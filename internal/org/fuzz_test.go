package org

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"certnet/internal/errs"
)

// FuzzImportCSV feeds any bytes to the CSV reader and the header and row
// checks of every import kind: they must never panic, and every row they
// return must carry a line number inside the file.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte(goodOrgsCSV))
	f.Add([]byte("org_code,value,note\nISP,203.0.113.0/24,x\nISP,AS64500,\nHN,hanoi.gov.vn,\n"))
	f.Add([]byte("org_code;kind;name;email\nHN;primary;\"Nguyễn\nVăn A\";a@b.vn\n"))
	f.Add([]byte("\"unterminated,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		records, lines, err := readCSV(data)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(records) != len(lines) {
			t.Fatalf("%d records, %d lines", len(records), len(lines))
		}
		total := strings.Count(string(data), "\n") + 1
		for _, kind := range []string{ImportOrgs, ImportContacts, ImportRanges} {
			rows, _, err := parseImportTable(kind, records, lines)
			if err != nil {
				continue
			}
			for _, r := range rows {
				if r.line < 2 || r.line > total {
					t.Fatalf("row line %d outside 2..%d", r.line, total)
				}
				if kind == ImportRanges {
					if v, err := ParseConstituencyValue(r.cells["value"]); err == nil && v.String() == "" {
						t.Fatalf("empty canonical value for %q", r.cells["value"])
					}
				}
			}
		}
	})
}

// FuzzParseConstituencyValue checks that a value that parses has a
// canonical form that parses to itself, and that ranges and domains are in
// their canonical shape.
func FuzzParseConstituencyValue(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "203.0.113.9", "2001:db8::/32", "::ffff:10.0.0.0/104", "AS64500",
		"64500", "as1.10", "hanoi.gov.vn", "Bộ-Y-Tế.VN.", "10.0.0.0/33", "300.1.1.1", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseConstituencyValue(s)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || !e.Has("value") {
				t.Fatalf("%q: error %v is not invalid(value)", s, err)
			}
			return
		}
		c := v.String()
		again, err := ParseConstituencyValue(c)
		if err != nil || again.String() != c || again.Kind != v.Kind {
			t.Fatalf("%q → %q → %+v %v", s, c, again, err)
		}
		switch v.Kind {
		case KindCIDR:
			if v.Prefix != v.Prefix.Masked() || v.Prefix.Addr().Is4In6() || v.Prefix.Addr().Zone() != "" {
				t.Fatalf("%q: prefix %s not canonical", s, v.Prefix)
			}
			start, end := rangeKeys(v.Prefix)
			if len(start) != 32 || len(end) != 32 || start > end {
				t.Fatalf("%q: keys %s %s", s, start, end)
			}
		case KindASN:
			if v.ASN <= 0 || v.ASN > 4294967295 {
				t.Fatalf("%q: asn %d", s, v.ASN)
			}
		case KindDomain:
			if !validDomainASCII(v.Domain) || !utf8.ValidString(v.Domain) {
				t.Fatalf("%q: domain %q", s, v.Domain)
			}
		default:
			t.Fatalf("%q: kind %q", s, v.Kind)
		}
	})
}

// FuzzWhoisQuery checks the whois query parser never panics, classifies
// what it accepts, and that a lookup of any accepted query on a small index
// is safe.
func FuzzWhoisQuery(f *testing.F) {
	for _, s := range []string{"10.1.2.3", "10.0.0.0/8", "::ffff:10.1.2.3", "2001:db8::1", "AS64500", "64500",
		"www.hanoi.gov.vn", "https://ioc.hanoi.gov.vn:8443/x", "abuse@hanoi.gov.vn", "http://[2001:db8::5]/",
		"fe80::1%eth0", "300.1.1.1", "", "a b"} {
		f.Add(s)
	}
	x := NewIndex()
	x.AddRange(netip.MustParsePrefix("10.0.0.0/8"), 1)
	x.AddRange(netip.MustParsePrefix("2001:db8::/32"), 2)
	x.AddASN(64500, 3)
	x.AddDomain("hanoi.gov.vn", 4)
	f.Fuzz(func(t *testing.T, s string) {
		q, key := parseWhoisQuery(s)
		if key != "" {
			if q.kind != "" {
				t.Fatalf("%q: refused but kind %q", s, q.kind)
			}
			return
		}
		switch q.kind {
		case KindIP:
			if !q.addr.IsValid() || q.addr.Is4In6() || q.addr.Zone() != "" {
				t.Fatalf("%q: addr %v", s, q.addr)
			}
			x.Lookup(q.addr)
		case KindCIDR:
			if !q.prefix.IsValid() {
				t.Fatalf("%q: prefix %v", s, q.prefix)
			}
			x.LookupPrefix(q.prefix)
		case KindASN:
			x.LookupASN(q.asn)
		case KindDomain:
			if !validDomainASCII(q.domain) {
				t.Fatalf("%q: domain %q", s, q.domain)
			}
			x.LookupDomain(q.domain)
		default:
			t.Fatalf("%q: kind %q", s, q.kind)
		}
	})
}
