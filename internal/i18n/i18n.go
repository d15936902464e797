// Package i18n holds certnet's message catalogues (Vietnamese first,
// English) and the locale-aware formatting of numbers, dates and search keys.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // air-gapped machines may lack a zoneinfo database
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

//go:embed catalog
var catalogFS embed.FS

// Lang is a supported interface language.
type Lang string

const (
	VI Lang = "vi"
	EN Lang = "en"
)

// Langs lists the supported languages, the default first.
var Langs = []Lang{VI, EN}

// Parse returns the language for s, Vietnamese when unknown.
func Parse(s string) Lang {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(s, "en") {
		return EN
	}
	return VI
}

var (
	loadOnce sync.Once
	catalogs map[Lang]map[string]string
	loadErr  error
)

func load() {
	catalogs = map[Lang]map[string]string{}
	// Each language is a folder of JSON files, one per area of the product
	// (catalog/vi/org.json…), merged; a key defined twice is an error.
	for _, l := range Langs {
		m := map[string]string{}
		files, err := fs.Glob(catalogFS, "catalog/"+string(l)+"/*.json")
		if err != nil {
			loadErr = err
			return
		}
		for _, f := range files {
			b, err := catalogFS.ReadFile(f)
			if err != nil {
				loadErr = err
				return
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				loadErr = fmt.Errorf("i18n: catalogue %s: %w", f, err)
				return
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					loadErr = fmt.Errorf("i18n: key %q defined twice (second in %s)", k, f)
					return
				}
				m[k] = v
			}
		}
		catalogs[l] = m
	}
}

// Catalog returns a language's catalogue (for tests).
func Catalog(l Lang) (map[string]string, error) {
	loadOnce.Do(load)
	return catalogs[l], loadErr
}

// Keys returns every key of a language, sorted.
func Keys(l Lang) []string {
	c, _ := Catalog(l)
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists in l.
func Has(l Lang, key string) bool {
	c, _ := Catalog(l)
	_, ok := c[key]
	return ok
}

// T translates key into l, formatting args with fmt verbs in the message. A
// missing key shows itself in brackets so it is noticed (and a test fails).
func T(l Lang, key string, args ...any) string {
	c, _ := Catalog(l)
	msg, ok := c[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Zone is Asia/Ho_Chi_Minh, where times are shown.
var Zone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

// FormatTime shows t as 26/11/2026 14:05 in Vietnam time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(Zone).Format("02/01/2006 15:04")
}

// FormatDate shows t as 26/11/2026.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(Zone).Format("02/01/2006")
}

// FormatInt groups digits: 1.234.567 in Vietnamese, 1,234,567 in English.
func FormatInt(l Lang, n int64) string {
	sep := "."
	if l == EN {
		sep = ","
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Fold makes a search key: lower case, diacritics removed, đ → d, spaces
// collapsed. "Hà Nội" and "ha noi" fold alike.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.Map(func(r rune) rune {
		switch r {
		case 'đ', 'Đ':
			return 'd'
		}
		return unicode.ToLower(r)
	}, out)
	return strings.Join(strings.Fields(out), " ")
}
