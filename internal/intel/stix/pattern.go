// Package stix reads and writes STIX 2.1: the patterning language (parser
// and the simple patterns certnet can match), bundles and their objects, TLP
// marking definitions and schema validation.
package stix

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PatternError is a malformed pattern: Pos is the byte offset of the fault.
type PatternError struct {
	Pos int
	Msg string
}

func (e *PatternError) Error() string { return fmt.Sprintf("stix pattern: at %d: %s", e.Pos, e.Msg) }

// Pattern is a parsed STIX 2.1 pattern.
type Pattern struct {
	Root ObsExpr
}

// ObsExpr is an observation expression.
type ObsExpr interface{ obs() }

// Observation is "[ comparison ]".
type Observation struct{ Cmp CmpExpr }

// ObsBinary joins observations with AND, OR or FOLLOWEDBY.
type ObsBinary struct {
	Op          string
	Left, Right ObsExpr
}

// Qualified is an observation expression with a qualifier.
type Qualified struct {
	Expr ObsExpr
	// Kind is WITHIN, REPEATS or START.
	Kind        string
	Seconds     float64   // WITHIN
	Times       int       // REPEATS
	Start, Stop time.Time // START … STOP
}

func (Observation) obs() {}
func (ObsBinary) obs()   {}
func (Qualified) obs()   {}

// CmpExpr is a comparison expression.
type CmpExpr interface{ cmp() }

// CmpBinary joins comparisons with AND or OR.
type CmpBinary struct {
	Op          string
	Left, Right CmpExpr
}

// Comparison is "path [NOT] OP value", or EXISTS path.
type Comparison struct {
	Path  Path
	Not   bool
	Op    string // = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET EXISTS
	Value Literal
	Set   []Literal // IN
}

func (CmpBinary) cmp()  {}
func (Comparison) cmp() {}

// Path is an object path: type:first.step[0].step[*].
type Path struct {
	Type  string
	Steps []string // property names; "[n]" and "[*]" for list steps
}

// String writes the path back, quoting steps that need it.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		if strings.HasPrefix(s, "[") {
			b.WriteString(s)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if isIdent(s, false) {
			b.WriteString(s)
		} else {
			b.WriteString(Quote(s))
		}
	}
	return b.String()
}

// Property is the path without the type: "value", "hashes.SHA-256".
func (p Path) Property() string { return strings.Join(p.Steps, ".") }

// Literal is a constant.
type Literal struct {
	Kind string // string, int, float, bool, timestamp, hex, binary
	Str  string // string value (unescaped), or the literal text for the others
	Int  int64
	Num  float64
	Bool bool
	Time time.Time
}

// Quote writes s as a STIX string literal.
func Quote(s string) string {
	if !strings.ContainsAny(s, `\'`) {
		return "'" + s + "'"
	}
	return "'" + quoter.Replace(s) + "'"
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// ---------------------------------------------------------------- lexer

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tInt
	tFloat
	tTime
	tHex
	tBinary
	tPunct // [ ] ( ) : . , *
	tOp    // = != < <= > >=
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, operator, unescaped string
	pos  int
}

func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[' || c == ']' || c == '(' || c == ')' || c == ':' || c == ',' || c == '*':
			out = append(out, token{tPunct, string(c), i})
			i++
		case c == '.' && !(i+1 < len(src) && isDigit(src[i+1]) && !prevIsPathEnd(out)):
			out = append(out, token{tPunct, ".", i})
			i++
		case c == '=':
			out = append(out, token{tOp, "=", i})
			i++
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(src) && src[i+1] == '=' {
				out = append(out, token{tOp, src[i : i+2], i})
				i += 2
			} else if c == '!' {
				return nil, &PatternError{i, "'!' must be followed by '='"}
			} else {
				out = append(out, token{tOp, string(c), i})
				i++
			}
		case c == '\'':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{tString, s, i})
			i = n
		case (c == 't' || c == 'h' || c == 'b') && i+1 < len(src) && src[i+1] == '\'':
			s, n, err := lexString(src, i+1)
			if err != nil {
				return nil, err
			}
			k := map[byte]tokKind{'t': tTime, 'h': tHex, 'b': tBinary}[c]
			out = append(out, token{k, s, i})
			i = n
		case isDigit(c) || c == '-' || c == '+' || c == '.':
			j := i
			if c == '-' || c == '+' {
				j++
			}
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			kind := tInt
			if j < len(src) && src[j] == '.' {
				j++
				k := j
				for j < len(src) && isDigit(src[j]) {
					j++
				}
				if k == j {
					return nil, &PatternError{j, "a digit must follow the decimal point"}
				}
				kind = tFloat
			}
			text := src[i:j]
			if text == "-" || text == "+" {
				return nil, &PatternError{i, "a number must follow the sign"}
			}
			if kind == tInt {
				digits := strings.TrimLeft(text, "+-")
				if len(digits) > 1 && digits[0] == '0' {
					return nil, &PatternError{i, "an integer may not start with 0"}
				}
			}
			out = append(out, token{kind, text, i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && (isIdentStart(src[j]) || isDigit(src[j]) || src[j] == '-') {
				j++
			}
			out = append(out, token{tIdent, src[i:j], i})
			i = j
		default:
			return nil, &PatternError{i, fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	out = append(out, token{tEOF, "", len(src)})
	return out, nil
}

// prevIsPathEnd: a '.' right after an identifier, a quoted step or ']' is a
// path separator, not the start of a number.
func prevIsPathEnd(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	return t.kind == tIdent || t.kind == tString || (t.kind == tPunct && t.text == "]")
}

func lexString(src string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		switch src[j] {
		case '\\':
			if j+1 < len(src) && (src[j+1] == '\\' || src[j+1] == '\'') {
				b.WriteByte(src[j+1])
				j += 2
				continue
			}
			return "", 0, &PatternError{j, `only \\ and \' may be escaped in a string`}
		case '\'':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(src[j])
			j++
		}
	}
	return "", 0, &PatternError{i, "unterminated string"}
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isIdent(s string, hyphen bool) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isIdentStart(c) || isDigit(c) || (hyphen && c == '-')) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- parser

type parser struct {
	toks  []token
	i     int
	depth int
}

const maxDepth = 200

// ParsePattern parses a STIX 2.1 pattern. A malformed pattern gives a
// *PatternError with the byte offset of the fault.
func ParsePattern(src string) (*Pattern, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.obsFollowed()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.fail(t, "unexpected "+describe(t)+" after the end of the pattern")
	}
	return &Pattern{Root: root}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(t token, msg string) error { return &PatternError{t.pos, msg} }

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of pattern"
	case tString:
		return "string " + Quote(t.text)
	default:
		return strconv.Quote(t.text)
	}
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == kw
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) expectPunct(s string) error {
	t := p.next()
	if t.kind != tPunct || t.text != s {
		return p.fail(t, fmt.Sprintf("expected %q, found %s", s, describe(t)))
	}
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.fail(p.peek(), "pattern nested too deeply")
	}
	return nil
}

func (p *parser) obsFollowed() (ObsExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.obsOr()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("FOLLOWEDBY") {
		p.next()
		right, err := p.obsOr()
		if err != nil {
			return nil, err
		}
		left = ObsBinary{"FOLLOWEDBY", left, right}
	}
	return left, nil
}

func (p *parser) obsOr() (ObsExpr, error) {
	left, err := p.obsAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		p.next()
		right, err := p.obsAnd()
		if err != nil {
			return nil, err
		}
		left = ObsBinary{"OR", left, right}
	}
	return left, nil
}

func (p *parser) obsAnd() (ObsExpr, error) {
	left, err := p.obsQualified()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		p.next()
		right, err := p.obsQualified()
		if err != nil {
			return nil, err
		}
		left = ObsBinary{"AND", left, right}
	}
	return left, nil
}

func (p *parser) obsQualified() (ObsExpr, error) {
	e, err := p.obsPrimary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isKeyword("WITHIN"):
			p.next()
			t := p.next()
			if t.kind != tInt && t.kind != tFloat {
				return nil, p.fail(t, "WITHIN needs a positive number of seconds, found "+describe(t))
			}
			n, err := strconv.ParseFloat(t.text, 64)
			if err != nil || n <= 0 || strings.HasPrefix(t.text, "-") {
				return nil, p.fail(t, "WITHIN needs a positive number of seconds")
			}
			if !p.isKeyword("SECONDS") {
				return nil, p.fail(p.peek(), "expected SECONDS, found "+describe(p.peek()))
			}
			p.next()
			e = Qualified{Expr: e, Kind: "WITHIN", Seconds: n}
		case p.isKeyword("REPEATS"):
			p.next()
			t := p.next()
			n, err := strconv.Atoi(t.text)
			if t.kind != tInt || err != nil || n <= 0 || strings.HasPrefix(t.text, "+") {
				return nil, p.fail(t, "REPEATS needs a positive whole number, found "+describe(t))
			}
			if !p.isKeyword("TIMES") {
				return nil, p.fail(p.peek(), "expected TIMES, found "+describe(p.peek()))
			}
			p.next()
			e = Qualified{Expr: e, Kind: "REPEATS", Times: n}
		case p.isKeyword("START"):
			p.next()
			start, err := p.timestamp()
			if err != nil {
				return nil, err
			}
			if !p.isKeyword("STOP") {
				return nil, p.fail(p.peek(), "expected STOP, found "+describe(p.peek()))
			}
			p.next()
			stopTok := p.peek()
			stop, err := p.timestamp()
			if err != nil {
				return nil, err
			}
			if !stop.After(start) {
				return nil, p.fail(stopTok, "STOP must be later than START")
			}
			e = Qualified{Expr: e, Kind: "START", Start: start, Stop: stop}
		default:
			return e, nil
		}
	}
}

func (p *parser) timestamp() (time.Time, error) {
	t := p.next()
	if t.kind != tTime {
		return time.Time{}, p.fail(t, "expected a timestamp t'…', found "+describe(t))
	}
	return parseTimestamp(t, p)
}

func parseTimestamp(t token, p *parser) (time.Time, error) {
	s := t.text
	if !strings.HasSuffix(s, "Z") || len(s) < 20 || s[10] != 'T' {
		return time.Time{}, p.fail(t, "a timestamp must be written YYYY-MM-DDTHH:MM:SS[.s]Z")
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, p.fail(t, "invalid timestamp "+Quote(s))
	}
	return ts, nil
}

func (p *parser) obsPrimary() (ObsExpr, error) {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "[":
		p.next()
		c, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct("]"); err != nil {
			return nil, err
		}
		return Observation{c}, nil
	case t.kind == tPunct && t.text == "(":
		p.next()
		e, err := p.obsFollowed()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return e, nil
	}
	return nil, p.fail(t, "expected '[' or '(' to start an observation, found "+describe(t))
}

func (p *parser) cmpOr() (CmpExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.cmpAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		p.next()
		right, err := p.cmpAnd()
		if err != nil {
			return nil, err
		}
		left = CmpBinary{"OR", left, right}
	}
	return left, nil
}

func (p *parser) cmpAnd() (CmpExpr, error) {
	left, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		p.next()
		right, err := p.propTest()
		if err != nil {
			return nil, err
		}
		left = CmpBinary{"AND", left, right}
	}
	return left, nil
}

func (p *parser) propTest() (CmpExpr, error) {
	if p.isPunct("(") {
		p.next()
		c, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	if p.isKeyword("EXISTS") {
		p.next()
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return Comparison{Path: path, Op: "EXISTS"}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	c := Comparison{Path: path}
	if p.isKeyword("NOT") {
		p.next()
		c.Not = true
	}
	opTok := p.next()
	switch {
	case opTok.kind == tOp:
		c.Op = opTok.text
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		if c.Op != "=" && c.Op != "!=" && v.Kind == "bool" {
			return nil, p.fail(p.toks[p.i-1], "a boolean cannot be ordered with "+c.Op)
		}
		c.Value = v
	case opTok.kind == tIdent && opTok.text == "IN":
		c.Op = "IN"
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		if !p.isPunct(")") {
			for {
				v, err := p.literal()
				if err != nil {
					return nil, err
				}
				c.Set = append(c.Set, v)
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
	case opTok.kind == tIdent && (opTok.text == "LIKE" || opTok.text == "MATCHES" || opTok.text == "ISSUBSET" || opTok.text == "ISSUPERSET"):
		c.Op = opTok.text
		t := p.next()
		if t.kind != tString {
			return nil, p.fail(t, opTok.text+" needs a string, found "+describe(t))
		}
		c.Value = Literal{Kind: "string", Str: t.text}
	default:
		return nil, p.fail(opTok, "expected a comparison operator (= != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET), found "+describe(opTok))
	}
	return c, nil
}

func (p *parser) path() (Path, error) {
	t := p.next()
	if t.kind != tIdent {
		return Path{}, p.fail(t, "expected an object type such as ipv4-addr, found "+describe(t))
	}
	if !isIdent(t.text, true) || strings.HasSuffix(t.text, "-") || strings.Contains(t.text, "--") || len(t.text) < 3 || len(t.text) > 250 {
		return Path{}, p.fail(t, "invalid object type "+strconv.Quote(t.text))
	}
	path := Path{Type: t.text}
	if err := p.expectPunct(":"); err != nil {
		return Path{}, err
	}
	first := p.next()
	switch {
	case first.kind == tIdent && isIdent(first.text, false):
		path.Steps = append(path.Steps, first.text)
	case first.kind == tString:
		path.Steps = append(path.Steps, first.text)
	default:
		return Path{}, p.fail(first, "expected a property name, found "+describe(first))
	}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			s := p.next()
			switch {
			case s.kind == tIdent && isIdent(s.text, false):
				path.Steps = append(path.Steps, s.text)
			case s.kind == tString:
				path.Steps = append(path.Steps, s.text)
			default:
				return Path{}, p.fail(s, "expected a property name after '.', found "+describe(s))
			}
		case p.isPunct("["):
			// A '[' after a path is a list index, never a new observation.
			p.next()
			s := p.next()
			switch {
			case s.kind == tPunct && s.text == "*":
				path.Steps = append(path.Steps, "[*]")
			case s.kind == tInt:
				path.Steps = append(path.Steps, "["+s.text+"]")
			default:
				return Path{}, p.fail(s, "expected a list index or '*', found "+describe(s))
			}
			if err := p.expectPunct("]"); err != nil {
				return Path{}, err
			}
		default:
			return path, nil
		}
	}
}

func (p *parser) literal() (Literal, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return Literal{Kind: "string", Str: t.text}, nil
	case tInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return Literal{}, p.fail(t, "integer out of range")
		}
		return Literal{Kind: "int", Str: t.text, Int: n, Num: float64(n)}, nil
	case tFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return Literal{}, p.fail(t, "invalid number")
		}
		return Literal{Kind: "float", Str: t.text, Num: f}, nil
	case tTime:
		ts, err := parseTimestamp(t, p)
		if err != nil {
			return Literal{}, err
		}
		return Literal{Kind: "timestamp", Str: t.text, Time: ts}, nil
	case tHex:
		if len(t.text)%2 != 0 {
			return Literal{}, p.fail(t, "a hex literal needs an even number of digits")
		}
		if _, err := hex.DecodeString(t.text); err != nil {
			return Literal{}, p.fail(t, "invalid hex literal")
		}
		return Literal{Kind: "hex", Str: t.text}, nil
	case tBinary:
		if _, err := base64.StdEncoding.DecodeString(t.text); err != nil {
			return Literal{}, p.fail(t, "invalid base64 in binary literal")
		}
		return Literal{Kind: "binary", Str: t.text}, nil
	case tIdent:
		if t.text == "true" || t.text == "false" {
			return Literal{Kind: "bool", Str: t.text, Bool: t.text == "true"}, nil
		}
	}
	return Literal{}, p.fail(t, "expected a value, found "+describe(t))
}

// Term is one "type:property = 'value'" of a simple pattern.
type Term struct {
	Type     string // ipv4-addr, ipv6-addr, domain-name, url, email-addr, file
	Property string // value, hashes.MD5, hashes.SHA-1, hashes.SHA-256
	Value    string
}

// SimpleTerms returns the terms of a pattern that is one observation of
// equality tests joined by OR, each on a property certnet can match
// (addresses, domain names, URLs, e-mail addresses, file hashes); ok is false
// for any other pattern.
func (p *Pattern) SimpleTerms() (terms []Term, ok bool) {
	o, isObs := p.Root.(Observation)
	if !isObs {
		return nil, false
	}
	var walk func(c CmpExpr) bool
	walk = func(c CmpExpr) bool {
		switch c := c.(type) {
		case CmpBinary:
			return c.Op == "OR" && walk(c.Left) && walk(c.Right)
		case Comparison:
			if c.Op != "=" || c.Not || c.Value.Kind != "string" {
				return false
			}
			prop := c.Path.Property()
			if !Matchable(c.Path.Type, prop) {
				return false
			}
			terms = append(terms, Term{Type: c.Path.Type, Property: prop, Value: c.Value.Str})
			return true
		}
		return false
	}
	if !walk(o.Cmp) {
		return nil, false
	}
	return terms, true
}

// Matchable reports whether certnet matches type:property as an indicator.
func Matchable(typ, prop string) bool {
	switch typ {
	case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr":
		return prop == "value"
	case "file":
		switch strings.ToUpper(prop) {
		case "HASHES.MD5", "HASHES.SHA-1", "HASHES.SHA1", "HASHES.SHA-256", "HASHES.SHA256":
			return true
		}
	}
	return false
}
