// Package decode turns the event streams SOCs send (Suricata EVE, Wazuh
// alerts.json, certnet's generic schema, STIX 2.1 sighting bundles) into one
// normalised Event. It is the first step of the ingest hot path: decoding is
// done with goccy/go-json into typed records, a bad line costs one LineError
// and never the batch, and no input makes it panic.
package decode

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// Format is an input format.
type Format string

const (
	Suricata Format = "suricata"
	Wazuh    Format = "wazuh"
	Generic  Format = "generic"
	STIX     Format = "stix"
)

// Formats lists every format.
var Formats = []Format{Suricata, Wazuh, Generic, STIX}

// MaxLine is the longest line (or array element, or STIX bundle) decoded; a
// longer one is a LineError "too_long".
const MaxLine = 1 << 20

// Errors Decode returns when the whole body is unusable.
var (
	ErrUnknownFormat = errors.New("unknown event format")
	ErrNotJSON       = errors.New("body is not JSON")
)

// ParseFormat reads a format name as a header carries it, in any case;
// "eve" is Suricata's EVE and "stix2"/"stix2.1" are STIX.
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "suricata", "eve", "suricata-eve":
		return Suricata, true
	case "wazuh", "wazuh-alerts":
		return Wazuh, true
	case "generic", "certnet":
		return Generic, true
	case "stix", "stix2", "stix2.1", "stix-2.1":
		return STIX, true
	}
	return "", false
}

// Event is one SOC event, normalised: addresses as netip.Addr (zero when
// absent, IPv4-mapped addresses unmapped), domain names lower-case in their
// ASCII (xn--) form without the trailing dot, URLs as internal/intel
// normalises them, hashes lower-case hex, CVE ids upper-case. The JSON tags
// are short because batches of events travel encoded over the bus.
type Event struct {
	Time        time.Time  `json:"t"`
	Kind        string     `json:"k,omitempty"` // alert, dns, http, tls, fileinfo, flow, anomaly, sighting, …
	Sensor      string     `json:"sn,omitempty"`
	Signature   string     `json:"sg,omitempty"`
	SignatureID int64      `json:"si,omitempty"`
	Category    string     `json:"ca,omitempty"`
	Severity    int        `json:"sv,omitempty"` // 1 high … 4 low, 0 unknown
	Src         netip.Addr `json:"s,omitzero"`
	Dst         netip.Addr `json:"d,omitzero"`
	SrcPort     uint16     `json:"sp,omitempty"`
	DstPort     uint16     `json:"dp,omitempty"`
	Proto       string     `json:"p,omitempty"` // upper-case: TCP, UDP, ICMP…
	// IPs are further addresses with no direction (a STIX sighting's
	// observed data beyond the first address, which goes to Src).
	IPs     []netip.Addr `json:"ip,omitempty"`
	Domains []string     `json:"dn,omitempty"`
	URLs    []string     `json:"u,omitempty"`
	Hashes  []string     `json:"h,omitempty"`
	Emails  []string     `json:"e,omitempty"`
	CVEs    []string     `json:"cv,omitempty"`
	Tags    []string     `json:"tg,omitempty"` // MITRE ATT&CK technique ids (Wazuh rule.mitre.id)
	Ref     string       `json:"r,omitempty"`  // STIX: the id of what was sighted (sighting_of_ref)
	Count   int          `json:"n,omitempty"`  // ≥ 1: how many times it was seen (a STIX sighting's count)
}

// LineError is one refused line. Line is 1-based (for a body that is a JSON
// array, the element's 1-based index); Code is a stable machine code: json,
// time, missing_field, invalid_field, too_long, not_object, no_sighting.
type LineError struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s: %s", e.Line, e.Code, e.Message) }

// Line error codes.
const (
	CodeJSON         = "json"
	CodeTime         = "time"
	CodeMissingField = "missing_field"
	CodeInvalidField = "invalid_field"
	CodeTooLong      = "too_long"
	CodeNotObject    = "not_object"
)

func lineErr(code, format string, args ...any) *LineError {
	return &LineError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// lineFunc decodes one JSON object into events appended to dst.
type lineFunc func(line []byte, dst []Event) ([]Event, *LineError)

// Decode appends the events of body to dst and returns one LineError per
// refused line; the valid rest is kept. Suricata, Wazuh and generic bodies
// are NDJSON (one object a line) or a JSON array of objects; a STIX body is
// one bundle or NDJSON of bundles (a refused sighting is a LineError with
// its bundle's line, and the bundle's other sightings are kept); free-text
// fields come out as valid UTF-8 without NUL bytes. Decode never panics and
// is safe for concurrent use. err is only for a body that is unusable
// as a whole: an unknown format (ErrUnknownFormat), a body that is not JSON
// at all (ErrNotJSON) or a JSON array over MaxArray (ErrArrayTooLarge).
func Decode(f Format, body []byte, dst []Event) ([]Event, []LineError, error) {
	start := len(dst)
	out, errs, err := decode(f, body, dst)
	for i := start; i < len(out); i++ {
		tidy(&out[i])
	}
	return out, errs, err
}

func decode(f Format, body []byte, dst []Event) ([]Event, []LineError, error) {
	var fn lineFunc
	switch f {
	case Suricata:
		fn = newSuricata()
	case Wazuh:
		fn = newWazuh()
	case Generic:
		fn = decodeGeneric
	case STIX:
		return decodeSTIXBody(body, dst)
	default:
		return dst, nil, fmt.Errorf("%w %q", ErrUnknownFormat, f)
	}
	first := skipBlank(body)
	if len(first) > 0 && first[0] == '[' {
		return decodeArray(first, dst, fn)
	}
	var errs []LineError
	eachLine(body, func(n int, line []byte) {
		if len(line) > MaxLine {
			errs = append(errs, LineError{n, CodeTooLong, fmt.Sprintf("line of %d bytes is longer than %d", len(line), MaxLine)})
			return
		}
		if line[0] != '{' {
			errs = append(errs, LineError{n, CodeNotObject, "line is not a JSON object"})
			return
		}
		var le *LineError
		dst, le = fn(line, dst)
		if le != nil {
			le.Line = n
			errs = append(errs, *le)
		}
	})
	return dst, errs, nil
}

// MaxArray is the largest body that is a JSON array (decoding one holds
// every element at once); larger batches are sent as NDJSON.
const MaxArray = 64 << 20

// ErrArrayTooLarge is the error of a JSON array body over MaxArray.
var ErrArrayTooLarge = errors.New("a JSON array body is limited to 64 MiB: send NDJSON, one object a line")

// decodeArray decodes a body that is one JSON array of objects.
func decodeArray(body []byte, dst []Event, fn lineFunc) ([]Event, []LineError, error) {
	if len(body) > MaxArray {
		return dst, nil, ErrArrayTooLarge
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return dst, nil, fmt.Errorf("%w: the body starts as a JSON array but is not one: %s", ErrNotJSON, shortErr(err))
	}
	var errs []LineError
	for i, el := range elems {
		el = skipBlank(el)
		switch {
		case len(el) > MaxLine:
			errs = append(errs, LineError{i + 1, CodeTooLong, fmt.Sprintf("element of %d bytes is longer than %d", len(el), MaxLine)})
		case len(el) == 0 || el[0] != '{':
			errs = append(errs, LineError{i + 1, CodeNotObject, "element is not a JSON object"})
		default:
			var le *LineError
			dst, le = fn(el, dst)
			if le != nil {
				le.Line = i + 1
				errs = append(errs, *le)
			}
		}
	}
	return dst, errs, nil
}

// eachLine calls fn with every non-blank line of body, trimmed, and its
// 1-based number.
func eachLine(body []byte, fn func(n int, line []byte)) {
	n := 0
	for len(body) > 0 {
		n++
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, bom)
		}
		line = trimSpace(line)
		if len(line) > 0 {
			fn(n, line)
		}
	}
}

var bom = []byte("\xef\xbb\xbf")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// skipBlank drops a byte-order mark and leading white space.
func skipBlank(b []byte) []byte {
	b = bytes.TrimPrefix(b, bom)
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// shortErr keeps a decoder's message readable: the first line, at most 200
// bytes.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// jsonErr is the LineError of a line the JSON decoder refused.
func jsonErr(err error) *LineError { return lineErr(CodeJSON, "%s", shortErr(err)) }

// probe holds the keys Detect looks at.
type probe struct {
	Type      string          `json:"type"`
	EventType json.RawMessage `json:"event_type"`
	Rule      json.RawMessage `json:"rule"`
	Agent     json.RawMessage `json:"agent"`
	Time      json.RawMessage `json:"time"`
	Objects   json.RawMessage `json:"objects"`
}

// Detect names the format of body from its first non-blank line (or, for a
// pretty-printed document or a JSON array, from the keys of its first 64 KiB);
// "" when it cannot tell.
func Detect(body []byte) Format {
	b := skipBlank(body)
	if len(b) == 0 {
		return ""
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	line = trimSpace(line)
	if len(line) <= MaxLine && len(line) > 0 && line[0] == '{' {
		var p probe
		if json.Unmarshal(line, &p) == nil {
			switch {
			case p.Type == "bundle":
				return STIX
			case len(p.EventType) > 0:
				return Suricata
			case len(p.Rule) > 0 && bytes.HasPrefix(p.Rule, []byte("{")):
				return Wazuh
			case len(p.Time) > 0:
				return Generic
			}
			return ""
		}
	}
	if b[0] != '{' && b[0] != '[' {
		return ""
	}
	head := b
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	switch {
	case bytes.Contains(head, []byte(`"bundle"`)) && bytes.Contains(head, []byte(`"objects"`)):
		return STIX
	case bytes.Contains(head, []byte(`"event_type"`)):
		return Suricata
	case bytes.Contains(head, []byte(`"rule"`)) && bytes.Contains(head, []byte(`"agent"`)):
		return Wazuh
	case bytes.Contains(head, []byte(`"time"`)):
		return Generic
	}
	return ""
}
