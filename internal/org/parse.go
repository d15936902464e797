package org

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"certnet/internal/errs"
)

// Kinds of constituency values and of whois queries.
const (
	KindIP     = "ip"
	KindCIDR   = "cidr"
	KindASN    = "asn"
	KindDomain = "domain"
)

// Shortest prefixes an organisation may register: wider ranges are typing
// mistakes, not constituencies.
const (
	minBits4 = 8
	minBits6 = 16
)

// reserved ranges can never belong to a member.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/3"), // multicast, class E and broadcast
	netip.MustParsePrefix("::/127"),      // unspecified and loopback
	netip.MustParsePrefix("::ffff:0:0/96"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// canonicalPrefix masks p and turns an IPv4-mapped IPv6 prefix into IPv4.
func canonicalPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// parsePrefix parses a CIDR, or a bare address when bare is set (it becomes
// a /32 or /128), and returns it canonical, or the i18n key of the problem.
func parsePrefix(s string, bare bool) (netip.Prefix, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, "field.required"
	}
	if len(s) > 64 {
		return netip.Prefix{}, "org.err.cidr_format"
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, "org.err.cidr_format"
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || !bare || a.Zone() != "" {
			return netip.Prefix{}, "org.err.cidr_format"
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = canonicalPrefix(p)
	if !p.IsValid() {
		return netip.Prefix{}, "org.err.cidr_format"
	}
	if (p.Addr().Is4() && p.Bits() < minBits4) || (p.Addr().Is6() && p.Bits() < minBits6) {
		return netip.Prefix{}, "org.err.range_too_broad"
	}
	for _, r := range reserved {
		if r.Overlaps(p) {
			return netip.Prefix{}, "org.err.range_reserved"
		}
	}
	return p, ""
}

// family is 4 or 6.
func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 4
	}
	return 6
}

// addrKey is the address as 32 hex digits, IPv4 mapped into IPv6, so that
// keys of both families compare as the addresses do.
func addrKey(a netip.Addr) string {
	b := a.As16()
	return hex.EncodeToString(b[:])
}

// rangeKeys returns the first and last address of p as keys.
func rangeKeys(p netip.Prefix) (start, end string) {
	p = p.Masked()
	b := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return addrKey(p.Addr()), hex.EncodeToString(b[:])
}

// supernetKeys returns the start keys of every prefix strictly containing p:
// an existing range that contains p must start at one of them.
func supernetKeys(p netip.Prefix) []string {
	seen := map[string]bool{}
	var out []string
	for b := p.Bits() - 1; b >= 0; b-- {
		k := addrKey(netip.PrefixFrom(p.Addr(), b).Masked().Addr())
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// parseASN accepts "AS64500", "as64500", "64500" and the asdot form
// "AS1.10" (= 65546), and returns the number or the i18n key of the problem.
func parseASN(s string) (int64, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "field.required"
	}
	if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
		s = s[2:]
		if hi, lo, ok := strings.Cut(s, "."); ok {
			h, err1 := strconv.ParseUint(hi, 10, 16)
			l, err2 := strconv.ParseUint(lo, 10, 16)
			if err1 != nil || err2 != nil || h == 0 {
				return 0, "org.err.asn_format"
			}
			s = strconv.FormatUint(h<<16|l, 10)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, "org.err.asn_format"
	}
	switch n {
	case 0, 23456, 4294967295: // reserved, AS_TRANS, last
		return 0, "org.err.asn_reserved"
	}
	return int64(n), ""
}

// domainProfile maps for lookup (lower case, Unicode normalisation), checks
// the letters-digits-hyphen rule and DNS lengths and turns Unicode names
// into their xn-- form.
var domainProfile = idna.New(idna.MapForLookup(), idna.VerifyDNSLength(true), idna.BidiRule(),
	idna.Transitional(false))

// parseDomain returns the canonical (lower-case ASCII, no trailing dot)
// domain or the i18n key of the problem. A domain has at least two labels
// and a top-level label that is not all digits.
func parseDomain(s string) (string, string) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", "field.required"
	}
	if len(s) > 1000 || !utf8.ValidString(s) {
		return "", "org.err.domain_format"
	}
	d, err := domainProfile.ToASCII(s)
	if err != nil {
		return "", "org.err.domain_format"
	}
	d = strings.ToLower(d)
	if !validDomainASCII(d) {
		return "", "org.err.domain_format"
	}
	// The canonical form must be stable: its xn-- labels must decode to
	// something the profile accepts.
	if again, err := domainProfile.ToASCII(d); err != nil || again != d {
		return "", "org.err.domain_format"
	}
	return d, ""
}

// CanonicalDomain returns a domain in the registry's canonical form
// (lower-case ASCII, Unicode labels in their xn-- form, no trailing dot)
// and true, or false when the registry would refuse it as a domain. Other
// packages that hold domains of members compare them in this form.
func CanonicalDomain(s string) (string, bool) {
	d, problem := parseDomain(s)
	return d, problem == ""
}

// validDomainASCII is the hand check behind the IDNA mapping: labels of 1–63
// letters, digits and hyphens, not starting or ending with a hyphen, 253
// characters in all, at least two labels, a top-level label with a letter.
func validDomainASCII(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.TrimLeft(tld, "0123456789") != ""
}

// Value is one constituency entry as written in an import file or a form:
// a range (Kind "cidr"; a bare address becomes a /32 or /128), an AS number
// (Kind "asn") or a domain (Kind "domain").
type Value struct {
	Kind   string
	Prefix netip.Prefix
	ASN    int64
	Domain string
}

// String is the canonical text of the value.
func (v Value) String() string {
	switch v.Kind {
	case KindCIDR:
		return v.Prefix.String()
	case KindASN:
		return "AS" + strconv.FormatInt(v.ASN, 10)
	case KindDomain:
		return v.Domain
	}
	return ""
}

// looksLikeASN reports whether s is written as an AS number.
func looksLikeASN(s string) bool {
	if len(s) > 2 && strings.EqualFold(s[:2], "AS") && s[2] >= '0' && s[2] <= '9' {
		return true
	}
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// ParseConstituencyValue reads a CIDR, a bare IP address, an AS number
// ("AS64500" or "64500") or a domain. The error is errs.Invalid with a
// message on the field "value".
func ParseConstituencyValue(s string) (Value, error) {
	const op = "org: parse value"
	s = strings.TrimSpace(s)
	if s == "" {
		return Value{}, errs.Invalid(op).Field("value", "field.required")
	}
	if strings.Contains(s, "/") || strings.Contains(s, ":") || looksLikeIP(s) {
		p, key := parsePrefix(s, true)
		if key != "" {
			return Value{}, errs.Invalid(op).Field("value", key)
		}
		return Value{Kind: KindCIDR, Prefix: p}, nil
	}
	if looksLikeASN(s) {
		n, key := parseASN(s)
		if key != "" {
			return Value{}, errs.Invalid(op).Field("value", key)
		}
		return Value{Kind: KindASN, ASN: n}, nil
	}
	d, key := parseDomain(s)
	if key != "" {
		return Value{}, errs.Invalid(op).Field("value", key)
	}
	return Value{Kind: KindDomain, Domain: d}, nil
}

// looksLikeIP reports whether s is made of digits and dots only, like an
// IPv4 address (so that "300.1.1.1" is a bad address, not a domain).
func looksLikeIP(s string) bool {
	return strings.Contains(s, ".") && strings.Trim(s, "0123456789.") == ""
}
