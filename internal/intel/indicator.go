// Package intel keeps the network's threat intelligence: indicators (one row
// per normalised value and owning organisation, with every source that
// reported it and every sighting), the other STIX objects certnet models, and
// imports from STIX 2.1 bundles and MISP events. It is the one store of
// indicators: the SOC pipeline matches events against it.
package intel

import (
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"certnet/internal/intel/stix"
	"certnet/internal/policy"
)

// Kind is what an indicator's value is.
type Kind string

const (
	KindIPv4   Kind = "ipv4"
	KindIPv6   Kind = "ipv6"
	KindCIDR   Kind = "cidr"
	KindDomain Kind = "domain"
	KindURL    Kind = "url"
	KindMD5    Kind = "md5"
	KindSHA1   Kind = "sha1"
	KindSHA256 Kind = "sha256"
	KindEmail  Kind = "email"
	KindSTIX   Kind = "stix" // a full STIX pattern, kept as written
)

// Kinds lists every kind, for forms and filters.
var Kinds = []Kind{KindIPv4, KindIPv6, KindCIDR, KindDomain, KindURL, KindMD5, KindSHA1, KindSHA256, KindEmail, KindSTIX}

// ValidKind reports whether k is known.
func ValidKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Indicator is one indicator.
type Indicator struct {
	ID          int64
	OwnerOrgID  int64
	Kind        Kind
	Value       string // normalised
	Pattern     string // STIX pattern
	Name        string
	Description string
	Confidence  int // 0–100
	ValidFrom   time.Time
	ValidUntil  time.Time // zero: no expiry
	TLP         policy.TLP
	Tags        []string // RSIT machine tags
	KillChain   []string // kill_chain_name:phase_name
	STIXID      string
	Revoked     bool
	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time

	Sources   []Source
	Sightings []Sighting
}

// Active reports whether the indicator is in force at now.
func (i Indicator) Active(now time.Time) bool {
	if i.Revoked || now.Before(i.ValidFrom) {
		return false
	}
	return i.ValidUntil.IsZero() || now.Before(i.ValidUntil)
}

// Resource is the indicator as policy sees it.
func (i Indicator) Resource() policy.Resource {
	return policy.Resource{OwnerOrg: i.OwnerOrgID, TLP: i.TLP, CreatedBy: i.CreatedBy}
}

// Source is one report of an indicator.
type Source struct {
	Source    string    `json:"source"`
	Ref       string    `json:"ref,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Sighting is one sighting of an indicator.
type Sighting struct {
	STIXID    string    `json:"stix_id"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	Source    string    `json:"source,omitempty"`
	OrgID     int64     `json:"org_id,omitempty"`
}

// Normalise checks value as a kind and returns its canonical form. With kind
// empty it guesses the kind from the value. A CIDR of one address becomes
// that address; a STIX pattern that is a single matchable test becomes that
// test's kind.
func Normalise(kind Kind, value string) (Kind, string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", "", fmt.Errorf("empty value")
	}
	if kind == "" {
		kind = Guess(v)
	}
	switch kind {
	case KindIPv4, KindIPv6:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", "", fmt.Errorf("not an IP address")
		}
		a = a.Unmap()
		if a.Is4() {
			if kind == KindIPv6 {
				return "", "", fmt.Errorf("not an IPv6 address")
			}
			return KindIPv4, a.String(), nil
		}
		if kind == KindIPv4 {
			return "", "", fmt.Errorf("not an IPv4 address")
		}
		return KindIPv6, a.String(), nil
	case KindCIDR:
		p, err := netip.ParsePrefix(v)
		if err != nil {
			if a, err2 := netip.ParseAddr(v); err2 == nil && a.Zone() == "" {
				return Normalise("", a.String())
			}
			return "", "", fmt.Errorf("not an address range")
		}
		p = p.Masked()
		if p.IsSingleIP() {
			return Normalise("", p.Addr().String())
		}
		return KindCIDR, p.String(), nil
	case KindDomain:
		d := strings.TrimSuffix(strings.ToLower(v), ".")
		a, err := idna.Lookup.ToASCII(d)
		if err != nil || !validDomain(a) {
			return "", "", fmt.Errorf("not a domain name")
		}
		return KindDomain, a, nil
	case KindURL:
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || u.Hostname() == "" || u.Opaque != "" || u.User != nil || strings.ContainsAny(v, " \t\r\n") {
			return "", "", fmt.Errorf("not a URL with a scheme and a host")
		}
		u.Scheme = strings.ToLower(u.Scheme)
		host := strings.ToLower(u.Hostname())
		if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" {
			host = ip.String()
			if ip.Is6() {
				host = "[" + host + "]"
			}
		} else if a, err := idna.Lookup.ToASCII(host); err == nil && validDomain(a) {
			host = a
		} else {
			return "", "", fmt.Errorf("not a URL with a valid host")
		}
		if port := u.Port(); port != "" {
			host += ":" + port
		}
		u.Host = host
		u.Fragment = ""
		return KindURL, u.String(), nil
	case KindMD5, KindSHA1, KindSHA256:
		h := strings.ToLower(v)
		want := map[Kind]int{KindMD5: 32, KindSHA1: 40, KindSHA256: 64}[kind]
		if len(h) != want || !isHex(h) {
			return "", "", fmt.Errorf("not a %s hash (%d hexadecimal digits)", kind, want)
		}
		return kind, h, nil
	case KindEmail:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" || a.Address != v {
			return "", "", fmt.Errorf("not an e-mail address")
		}
		at := strings.LastIndexByte(a.Address, '@')
		dom, err := idna.Lookup.ToASCII(strings.ToLower(a.Address[at+1:]))
		if err != nil || !validDomain(dom) {
			return "", "", fmt.Errorf("not an e-mail address")
		}
		return KindEmail, a.Address[:at+1] + dom, nil
	case KindSTIX:
		p, err := stix.ParsePattern(v)
		if err != nil {
			return "", "", err
		}
		if terms, ok := p.SimpleTerms(); ok && len(terms) == 1 {
			if k, val, err := FromTerm(terms[0]); err == nil {
				return k, val, nil
			}
		}
		return KindSTIX, v, nil
	}
	return "", "", fmt.Errorf("unknown indicator type %q", kind)
}

// Guess names the kind a bare value looks like.
func Guess(v string) Kind {
	switch {
	case strings.HasPrefix(v, "["):
		return KindSTIX
	case strings.Contains(v, "://"):
		return KindURL
	case strings.Contains(v, "/"):
		return KindCIDR
	case strings.Contains(v, "@"):
		return KindEmail
	}
	if a, err := netip.ParseAddr(v); err == nil {
		if a.Unmap().Is4() {
			return KindIPv4
		}
		return KindIPv6
	}
	if isHex(v) {
		switch len(v) {
		case 32:
			return KindMD5
		case 40:
			return KindSHA1
		case 64:
			return KindSHA256
		}
	}
	return KindDomain
}

// FromTerm turns a simple pattern's term into an indicator value.
func FromTerm(t stix.Term) (Kind, string, error) {
	var k Kind
	switch t.Type {
	case "ipv4-addr", "ipv6-addr":
		k = KindCIDR // a single address normalises to its own kind
		kk, v, err := Normalise(k, t.Value)
		if err != nil {
			return "", "", err
		}
		if (t.Type == "ipv4-addr") != strings.Contains(v, ".") {
			return "", "", fmt.Errorf("%s value of the other address family", t.Type)
		}
		return kk, v, nil
	case "domain-name":
		k = KindDomain
	case "url":
		k = KindURL
	case "email-addr":
		k = KindEmail
	case "file":
		switch strings.ToUpper(t.Property) {
		case "HASHES.MD5":
			k = KindMD5
		case "HASHES.SHA-1", "HASHES.SHA1":
			k = KindSHA1
		default:
			k = KindSHA256
		}
	default:
		return "", "", fmt.Errorf("%s is not matchable", t.Type)
	}
	return Normalise(k, t.Value)
}

// PatternOf writes the STIX pattern of a normalised value.
func PatternOf(k Kind, v string) string {
	switch k {
	case KindIPv4:
		return "[ipv4-addr:value = " + stix.Quote(v) + "]"
	case KindIPv6:
		return "[ipv6-addr:value = " + stix.Quote(v) + "]"
	case KindCIDR:
		if strings.Contains(v, ":") {
			return "[ipv6-addr:value = " + stix.Quote(v) + "]"
		}
		return "[ipv4-addr:value = " + stix.Quote(v) + "]"
	case KindDomain:
		return "[domain-name:value = " + stix.Quote(v) + "]"
	case KindURL:
		return "[url:value = " + stix.Quote(v) + "]"
	case KindEmail:
		return "[email-addr:value = " + stix.Quote(v) + "]"
	case KindMD5:
		return "[file:hashes.MD5 = " + stix.Quote(v) + "]"
	case KindSHA1:
		return "[file:hashes.'SHA-1' = " + stix.Quote(v) + "]"
	case KindSHA256:
		return "[file:hashes.'SHA-256' = " + stix.Quote(v) + "]"
	}
	return v
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// RSIT classes (ENISA Reference Security Incident Taxonomy) and their types.
var rsit = map[string][]string{
	"abusive-content":              {"spam", "harmful-speech", "violence"},
	"malicious-code":               {"infected-system", "c2-server", "malware-distribution", "malware-configuration"},
	"information-gathering":        {"scanner", "sniffing", "social-engineering"},
	"intrusion-attempts":           {"ids-alert", "brute-force", "exploit"},
	"intrusions":                   {"privileged-account-compromise", "unprivileged-account-compromise", "application-compromise", "system-compromise", "burglary"},
	"availability":                 {"dos", "ddos", "misconfiguration", "sabotage", "outage"},
	"information-content-security": {"unauthorised-information-access", "unauthorised-information-modification", "data-loss", "data-leak"},
	"fraud":                        {"unauthorised-use-of-resources", "copyright", "masquerade", "phishing"},
	"vulnerable":                   {"weak-crypto", "ddos-amplifier", "potentially-unwanted-accessible", "information-disclosure", "vulnerable-system"},
	"other":                        {"other", "undetermined"},
	"test":                         {"test"},
}

// NormaliseRSIT accepts `rsit:class="type"` (quotes optional, any case) and
// returns the canonical machine tag.
func NormaliseRSIT(tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	rest, ok := strings.CutPrefix(t, "rsit:")
	if !ok {
		return "", fmt.Errorf("not an RSIT tag")
	}
	class, typ, _ := strings.Cut(rest, "=")
	typ = strings.Trim(typ, `"`)
	types, ok := rsit[class]
	if !ok {
		return "", fmt.Errorf("unknown RSIT class %q", class)
	}
	if typ == "" && class == "test" {
		typ = "test"
	}
	for _, x := range types {
		if x == typ {
			return fmt.Sprintf("rsit:%s=%q", class, typ), nil
		}
	}
	return "", fmt.Errorf("unknown RSIT type %q in class %q", typ, class)
}
