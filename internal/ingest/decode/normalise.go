package decode

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/intel"
)

// parseTime reads the timestamps SOC tools write: RFC 3339 ("…Z",
// "…+07:00"), Suricata's and Wazuh's "2015-03-29T11:01:38.221126-0600" and,
// when zoneless is set, a time without a zone (taken as UTC, as some
// Suricata deployments log). A space may stand for the "T". The result is in
// UTC. It is written by hand because it runs once per event: time.Parse
// allocates a zone for every numeric offset.
func parseTime(s string, zoneless bool) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("timestamp %q %s", clip(s), why)
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return bad("is not RFC 3339 (2006-01-02T15:04:05Z)")
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return bad("is not RFC 3339 (2006-01-02T15:04:05Z)")
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return bad("is not a valid date and time")
	}
	if year < 1970 {
		return bad("is out of range")
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100_000_000
		for i < len(rest) && isDigitB(rest[i]) {
			if i <= 9 {
				nsec += int(rest[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == 1 {
			return bad("has an empty fraction of a second")
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "Z" || rest == "z":
	case rest == "":
		if !zoneless {
			return bad("has no time zone")
		}
	case (rest[0] == '+' || rest[0] == '-') && (len(rest) == 6 && rest[3] == ':' || len(rest) == 5):
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[len(rest)-2:])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return bad("has a bad time zone offset")
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad("has a bad time zone")
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second), nil
}

// digits reads a short run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseIP reads an address without a zone; IPv4-mapped IPv6 addresses become
// IPv4.
func parseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// normDomain lower-cases a name and drops its trailing dot; a name with
// non-ASCII letters goes through internal/intel's normaliser (IDNA). ok is
// false for what cannot be a DNS name (empty, spaces, control characters).
func normDomain(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" || len(s) > 253 || s[0] == '.' {
		return "", false
	}
	upper := false
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if label == 0 {
				return "", false // an empty label
			}
			label = 0
			continue
		}
		if label++; label > 63 {
			return "", false
		}
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_':
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 0x80:
			_, v, err := intel.Normalise(intel.KindDomain, s)
			if err != nil {
				return "", false
			}
			return v, true
		default:
			return "", false
		}
	}
	if label == 0 {
		return "", false // "a.." ends in an empty label
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true
}

// normURL normalises a URL as internal/intel stores URL indicators.
func normURL(s string) (string, bool) {
	_, v, err := intel.Normalise(intel.KindURL, s)
	if err != nil {
		return "", false
	}
	return v, true
}

// normEmail normalises an e-mail address as internal/intel does (the domain
// lower-case and in ASCII); "Name <a@b>" and "<a@b>" give the bare address.
func normEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		s = s[i+1 : len(s)-1]
	}
	_, v, err := intel.Normalise(intel.KindEmail, s)
	if err != nil {
		return "", false
	}
	return v, true
}

// normHash accepts an MD5, SHA-1 or SHA-256 in hex and lower-cases it.
func normHash(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 32, 40, 64:
	default:
		return "", false
	}
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return "", false
		}
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true
}

// normCVE accepts "CVE-2021-44228" in any case (and the "CVE_2021_44228"
// form of Emerging Threats metadata) and returns it upper-case with hyphens.
func normCVE(s string) (string, bool) {
	s = strings.TrimSpace(s)
	id, n := cveAt(s, 0)
	if id == "" || n != len(s) {
		return "", false
	}
	return id, true
}

// cveAt reads a CVE id at s[i:]; it returns the id and the index after it,
// or "" when there is none.
func cveAt(s string, i int) (string, int) {
	if len(s)-i < 13 || s[i]|0x20 != 'c' || s[i+1]|0x20 != 'v' || s[i+2]|0x20 != 'e' {
		return "", i
	}
	j := i + 3
	if s[j] != '-' && s[j] != '_' {
		return "", i
	}
	j++
	for k := 0; k < 4; k++ {
		if !isDigitB(s[j+k]) {
			return "", i
		}
	}
	year := s[j : j+4]
	j += 4
	if s[j] != '-' && s[j] != '_' {
		return "", i
	}
	j++
	start := j
	for j < len(s) && isDigitB(s[j]) && j-start < 8 {
		j++
	}
	if j-start < 4 || j < len(s) && isDigitB(s[j]) {
		return "", i
	}
	return "CVE-" + year + "-" + s[start:j], j
}

func isDigitB(c byte) bool { return c >= '0' && c <= '9' }

// scanCVEs appends the CVE ids written anywhere in text to dst, once each.
func scanCVEs(text string, dst []string) []string {
	for i := 0; i+13 <= len(text); i++ {
		c := text[i] | 0x20
		if c != 'c' {
			continue
		}
		if i > 0 && isAlnum(text[i-1]) {
			continue
		}
		id, j := cveAt(text, i)
		if id == "" {
			continue
		}
		dst = addUnique(dst, id)
		i = j - 1
	}
	return dst
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// addUnique appends s unless dst already holds it.
func addUnique(dst []string, s string) []string {
	for _, x := range dst {
		if x == s {
			return dst
		}
	}
	return append(dst, s)
}

// severityOf clamps a 1 (high) … 4 (low) severity; anything else is 0,
// unknown.
func severityOf(n int) int {
	if n < 1 || n > 4 {
		return 0
	}
	return n
}

// port reads a port number; ok is false outside 0–65535.
func port(n int64) (uint16, bool) {
	if n < 0 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// urlHost returns the host name of a normalised URL, or "" when its host is
// an address.
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "[") {
		return ""
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	if _, err := netip.ParseAddr(rest); err == nil || rest == "" {
		return ""
	}
	return rest
}

// tidy makes the free-text fields of an event safe to store and show: valid
// UTF-8 (PostgreSQL refuses anything else), no NUL bytes (which no text
// column holds) and of bounded length.
func tidy(e *Event) {
	e.Kind = text(e.Kind, 32)
	e.Proto = text(e.Proto, 16)
	e.Sensor = text(e.Sensor, 256)
	e.Signature = text(e.Signature, 1024)
	e.Category = text(e.Category, 512)
	e.Ref = text(e.Ref, 256)
	for i, t := range e.Tags {
		e.Tags[i] = text(t, 64)
	}
	for i, m := range e.Emails {
		e.Emails[i] = text(m, 320)
	}
	for i, u := range e.URLs {
		e.URLs[i] = text(u, 8192)
	}
}

// text is s as valid UTF-8 without NUL bytes, cut to at most max bytes on a
// character boundary. The common case (clean and short) returns s as is.
func text(s string, max int) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if !clean {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		if strings.IndexByte(s, 0) >= 0 {
			s = strings.ReplaceAll(s, "\x00", "")
		}
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
