package stix

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Indicator is an indicator object read by ReadIndicator: the properties
// certnet keeps, as they came.
type Indicator struct {
	ID             string
	Created        string
	Modified       string
	Name           string
	Description    string
	Pattern        string
	PatternType    string
	ValidFrom      time.Time
	ValidUntil     time.Time // zero when absent
	Confidence     int64
	HasConfidence  bool
	Revoked        bool
	Labels         []string
	MarkingRefs    []string
	KillChain      []KillChainPhase
	Term           Term // the one test of a simple pattern when Simple
	Simple         bool
	indicatorTypes bool
}

// KillChainPhase is one entry of kill_chain_phases.
type KillChainPhase struct {
	Chain, Phase string
}

// ReadIndicator is the fast path of an import for the common case: one
// indicator object of the usual properties, read straight from its JSON
// text without the generic decoder and the schema walk. It returns ok only
// when every property is one it knows, of the right JSON type, and every
// rule of the schemas and of Semantic holds — so that ok implies that
// Validator.Validate would accept the object. Anything else (an unknown or
// custom property, null, an extension, an external reference, a number
// that is not a plain integer, a fault) gives ok false, and the caller
// takes the full path, which also names the fault. raw must be valid JSON
// (as ReadObjects hands it over).
//
// When the pattern is one equality test of a matchable property with a
// string literal free of escapes ("[ipv4-addr:value = '198.51.100.7']"),
// Term holds it and Simple is true, as ParsePattern and SimpleTerms would
// give; other patterns are parsed in full.
func ReadIndicator(raw []byte, cache *TimeCache) (ind Indicator, ok bool) {
	if !utf8.Valid(raw) {
		return Indicator{}, false // encoding/json would replace the bad bytes: take its path
	}
	r := flatReader{b: raw}
	r.ws()
	if !r.eat('{') {
		return Indicator{}, false
	}
	seen := 0 // bit per property
	var typ, spec, createdBy, validFrom, validUntil string
	var hasValidUntil, hasCreatedBy bool
	for first := true; ; first = false {
		r.ws()
		if r.eat('}') {
			break
		}
		if !first && !(r.eat(',') && r.ws0()) {
			return Indicator{}, false
		}
		key, kok := r.str()
		if !kok {
			return Indicator{}, false
		}
		r.ws()
		if !r.eat(':') {
			return Indicator{}, false
		}
		r.ws()
		bit := 0
		var okv bool
		switch key {
		case "type":
			bit = 1
			typ, okv = r.str()
		case "spec_version":
			bit = 2
			spec, okv = r.str()
		case "id":
			bit = 4
			ind.ID, okv = r.str()
		case "created":
			bit = 8
			ind.Created, okv = r.str()
		case "modified":
			bit = 16
			ind.Modified, okv = r.str()
		case "name":
			bit = 32
			ind.Name, okv = r.str()
		case "description":
			bit = 64
			ind.Description, okv = r.str()
		case "pattern":
			bit = 128
			ind.Pattern, okv = r.str()
		case "pattern_type":
			bit = 256
			ind.PatternType, okv = r.str()
		case "pattern_version":
			bit = 512
			_, okv = r.str()
		case "valid_from":
			bit = 1024
			validFrom, okv = r.str()
		case "valid_until":
			bit = 2048
			validUntil, okv = r.str()
			hasValidUntil = true
		case "confidence":
			bit = 4096
			ind.Confidence, okv = r.integer()
			ind.HasConfidence = true
			okv = okv && ind.Confidence >= 0 && ind.Confidence <= 100
		case "revoked":
			bit = 8192
			ind.Revoked, okv = r.boolean()
		case "labels":
			bit = 1 << 14
			ind.Labels, okv = r.strings()
		case "object_marking_refs":
			bit = 1 << 15
			ind.MarkingRefs, okv = r.strings()
			for _, m := range ind.MarkingRefs {
				okv = okv && validIdentifier(m, "")
			}
		case "created_by_ref":
			bit = 1 << 16
			createdBy, okv = r.str()
			hasCreatedBy = true
		case "indicator_types":
			bit = 1 << 17
			_, okv = r.strings()
			ind.indicatorTypes = true
		case "lang":
			bit = 1 << 18
			_, okv = r.str()
		case "kill_chain_phases":
			bit = 1 << 19
			ind.KillChain, okv = r.killChain()
		}
		if bit == 0 || !okv || seen&bit != 0 {
			return Indicator{}, false // unknown property, wrong type, or given twice
		}
		seen |= bit
	}
	r.ws()
	if r.i != len(r.b) {
		return Indicator{}, false
	}
	const required = 1 | 2 | 4 | 8 | 16 | 128 | 256 | 1024
	if seen&required != required || typ != "indicator" || (spec != "2.1" && spec != "2.0") {
		return Indicator{}, false
	}
	if !validIdentifier(ind.ID, "indicator") || hasCreatedBy && !validIdentifier(createdBy, "") {
		return Indicator{}, false
	}
	created, ok1 := cache.parse(ind.Created, true)
	modified, ok2 := cache.parse(ind.Modified, true)
	from, ok3 := cache.parse(validFrom, false)
	if !ok1 || !ok2 || !ok3 || modified.Before(created) {
		return Indicator{}, false
	}
	ind.ValidFrom = from
	if hasValidUntil {
		until, ok := cache.parse(validUntil, false)
		if !ok || !until.After(from) {
			return Indicator{}, false
		}
		ind.ValidUntil = until
	}
	if ind.PatternType == "stix" {
		if t, ok := simpleTerm(ind.Pattern); ok {
			ind.Term, ind.Simple = t, true
		} else if _, err := ParsePattern(ind.Pattern); err != nil {
			return Indicator{}, false
		}
	}
	return ind, true
}

// TimeCache remembers the last timestamps read: the objects of one bundle
// mostly share their created, modified and valid_from.
type TimeCache struct {
	keys [4]string
	vals [4]time.Time
	next int
}

// parse checks a STIX timestamp as the schema's pattern and ParseTime do
// (millis: at least three digits of fraction, as created and modified need).
func (c *TimeCache) parse(s string, millis bool) (time.Time, bool) {
	if !timestampShape(s, millis) {
		return time.Time{}, false
	}
	if c != nil {
		for i, k := range c.keys {
			if k == s && k != "" {
				return c.vals[i], true
			}
		}
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, false
	}
	if c != nil {
		c.keys[c.next], c.vals[c.next] = s, t
		c.next = (c.next + 1) % len(c.keys)
	}
	return t, true
}

// timestampShape is the schemas' timestamp pattern
// ^YYYY-MM-DDTHH:MM:SS(.d+)?Z$ with its ranges, minus the leap second
// (which ParseTime refuses anyway).
func timestampShape(s string, millis bool) bool {
	if len(s) < 20 || s[len(s)-1] != 'Z' {
		return false
	}
	d := func(i int) bool { return s[i] >= '0' && s[i] <= '9' }
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !d(i) {
			return false
		}
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	two := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	if m := two(5); m < 1 || m > 12 {
		return false
	}
	if dd := two(8); dd < 1 || dd > 31 {
		return false
	}
	if two(11) > 23 || two(14) > 59 || two(17) > 59 {
		return false
	}
	frac := s[19 : len(s)-1]
	if frac == "" {
		return !millis
	}
	if frac[0] != '.' || len(frac) < 2 || millis && len(frac) < 4 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}

// validIdentifier is the schemas' identifier pattern
// ^[a-z][a-z0-9-]+[a-z0-9]--UUID (version 1–5, variant 8–b), and for a
// typed id that the type is typ (Semantic's rule).
func validIdentifier(id, typ string) bool {
	n := len(id) - 38
	if n < 3 || id[n] != '-' || id[n+1] != '-' {
		return false
	}
	t := id[:n]
	if typ != "" && t != typ {
		return false
	}
	if t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i < len(t)-1) {
			return false
		}
	}
	u := id[n+2:]
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return u[14] >= '1' && u[14] <= '5' && (u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b' || u[19] == 'A' || u[19] == 'B')
}

// simplePrefixes are the pattern openings of the fast path, with the term
// they make.
var simplePrefixes = []struct {
	prefix   string
	typ, prp string
}{
	{"[ipv4-addr:value = '", "ipv4-addr", "value"},
	{"[ipv6-addr:value = '", "ipv6-addr", "value"},
	{"[domain-name:value = '", "domain-name", "value"},
	{"[url:value = '", "url", "value"},
	{"[email-addr:value = '", "email-addr", "value"},
	{"[file:hashes.MD5 = '", "file", "hashes.MD5"},
	{"[file:hashes.'MD5' = '", "file", "hashes.MD5"},
	{"[file:hashes.'SHA-1' = '", "file", "hashes.SHA-1"},
	{"[file:hashes.'SHA-256' = '", "file", "hashes.SHA-256"},
}

// simpleTerm reads "[type:property = 'value']" for the matchable properties
// with a value free of quotes and backslashes, as ParsePattern and
// SimpleTerms read it.
func simpleTerm(p string) (Term, bool) {
	if len(p) < 4 || p[len(p)-2:] != "']" {
		return Term{}, false
	}
	for _, sp := range simplePrefixes {
		if len(p) < len(sp.prefix)+2 || p[:len(sp.prefix)] != sp.prefix {
			continue
		}
		v := p[len(sp.prefix) : len(p)-2]
		for i := 0; i < len(v); i++ {
			if v[i] == '\'' || v[i] == '\\' {
				return Term{}, false
			}
		}
		return Term{Type: sp.typ, Property: sp.prp, Value: v}, true
	}
	return Term{}, false
}

// flatReader reads the JSON text of one object (already known to be valid
// JSON) property by property.
type flatReader struct {
	b []byte
	i int
}

func (r *flatReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *flatReader) ws0() bool { r.ws(); return true }

func (r *flatReader) eat(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// str reads a string; escapes are decoded as encoding/json does.
func (r *flatReader) str() (string, bool) {
	if !r.eat('"') {
		return "", false
	}
	start := r.i
	esc := false
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '\\':
			esc = true
			r.i += 2
			continue
		case c == '"':
			r.i++
			if !esc {
				return string(r.b[start : r.i-1]), true
			}
			var s string
			if err := json.Unmarshal(r.b[start-1:r.i], &s); err != nil {
				return "", false
			}
			return s, true
		case c < 0x20:
			return "", false
		}
		r.i++
	}
	return "", false
}

// integer reads a plain integer (no fraction, no exponent).
func (r *flatReader) integer() (int64, bool) {
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	if r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	return n, err == nil
}

func (r *flatReader) boolean() (bool, bool) {
	switch {
	case len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true":
		r.i += 4
		return true, true
	case len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false":
		r.i += 5
		return false, true
	}
	return false, false
}

// strings reads a non-empty list of strings (the schemas want at least one).
func (r *flatReader) strings() ([]string, bool) {
	if !r.eat('[') {
		return nil, false
	}
	var out []string
	for {
		r.ws()
		if r.eat(']') {
			return out, len(out) > 0
		}
		if len(out) > 0 && !(r.eat(',') && r.ws0()) {
			return nil, false
		}
		s, ok := r.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
}

// killChain reads a non-empty list of {kill_chain_name, phase_name}.
func (r *flatReader) killChain() ([]KillChainPhase, bool) {
	if !r.eat('[') {
		return nil, false
	}
	var out []KillChainPhase
	for {
		r.ws()
		if r.eat(']') {
			return out, len(out) > 0
		}
		if len(out) > 0 && !(r.eat(',') && r.ws0()) {
			return nil, false
		}
		if !r.eat('{') {
			return nil, false
		}
		var k KillChainPhase
		seen := 0
		for first := true; ; first = false {
			r.ws()
			if r.eat('}') {
				break
			}
			if !first && !(r.eat(',') && r.ws0()) {
				return nil, false
			}
			key, ok := r.str()
			if !ok {
				return nil, false
			}
			r.ws()
			if !r.eat(':') {
				return nil, false
			}
			r.ws()
			switch key {
			case "kill_chain_name":
				if seen&1 != 0 {
					return nil, false
				}
				seen |= 1
				k.Chain, ok = r.str()
			case "phase_name":
				if seen&2 != 0 {
					return nil, false
				}
				seen |= 2
				k.Phase, ok = r.str()
			default:
				return nil, false
			}
			if !ok {
				return nil, false
			}
		}
		if seen != 3 {
			return nil, false
		}
		out = append(out, k)
	}
}
