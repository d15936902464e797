package infosys

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ICS renders the due dates as an iCalendar feed (RFC 5545): one all-day
// event per obligation, texts escaped, lines folded at 75 octets and ended
// with CRLF. label names an obligation kind in the reader's language.
func ICS(dues []Due, now time.Time, label func(kind string) string) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//certnet//infosys//VI")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	stamp := now.UTC().Format("20060102T150405Z")
	for _, d := range dues {
		day := d.Next.In(Local)
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:infosys-%d-%s-%s@certnet", d.SystemID, d.Kind, day.Format("20060102")))
		line("DTSTAMP:" + stamp)
		line("DTSTART;VALUE=DATE:" + day.Format("20060102"))
		line("DTEND;VALUE=DATE:" + day.AddDate(0, 0, 1).Format("20060102"))
		line("SUMMARY:" + EscapeText(label(d.Kind)+": "+d.SystemName))
		line("CATEGORIES:" + EscapeText(d.State))
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// EscapeText escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon,
// comma and newlines; other control characters are dropped.
func EscapeText(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fold splits a content line into lines of at most 75 octets, never inside
// a UTF-8 sequence, continuation lines starting with a space.
func fold(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
