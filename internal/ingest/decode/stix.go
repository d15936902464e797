package decode

import (
	"fmt"
	"net/netip"
	"strings"

	json "github.com/goccy/go-json"

	"certnet/internal/intel"
	"certnet/internal/intel/stix"
)

// MaxBundle is the largest single STIX bundle body (a pretty-printed bundle
// spans many lines, so MaxLine does not apply to it).
const MaxBundle = 16 << 20

// CodeNoSighting is the LineError code of a bundle without sighting objects.
const CodeNoSighting = "no_sighting"

// stixObject holds the properties of the STIX objects a sighting bundle
// needs: the sighting, observed data, the cyber-observables it refers to,
// the sighted indicator (its pattern) or vulnerability, and the identity
// that saw it.
type stixObject struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Created  string `json:"created"`
	Modified string `json:"modified"`

	// sighting
	FirstSeen        string   `json:"first_seen"`
	LastSeen         string   `json:"last_seen"`
	Count            *int64   `json:"count"`
	SightingOfRef    string   `json:"sighting_of_ref"`
	ObservedDataRefs []string `json:"observed_data_refs"`
	WhereSightedRefs []string `json:"where_sighted_refs"`

	// observed-data: references (2.1) or embedded objects (2.0)
	ObjectRefs []string               `json:"object_refs"`
	Objects    map[string]*stixObject `json:"objects"`

	// cyber-observables
	Value     string            `json:"value"`
	Hashes    map[string]string `json:"hashes"`
	SrcRef    string            `json:"src_ref"`
	DstRef    string            `json:"dst_ref"`
	SrcPort   int64             `json:"src_port"`
	DstPort   int64             `json:"dst_port"`
	Protocols []string          `json:"protocols"`

	// indicator, vulnerability
	Pattern     string `json:"pattern"`
	PatternType string `json:"pattern_type"`
	ExternalRef []struct {
		SourceName string `json:"source_name"`
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
}

// decodeSTIXBody decodes one bundle (pretty-printed or not) or NDJSON of
// bundles. An object that is not a bundle is read as a bundle of itself.
func decodeSTIXBody(body []byte, dst []Event) ([]Event, []LineError, error) {
	b := trimSpace(skipBlank(body))
	if len(b) == 0 {
		return dst, nil, nil
	}
	if b[0] != '{' {
		return dst, nil, fmt.Errorf("%w: a STIX body is a bundle or NDJSON of bundles", ErrNotJSON)
	}
	if json.Valid(b) { // one bundle, on one line or pretty-printed
		if len(b) > MaxBundle {
			return dst, []LineError{{1, CodeTooLong, fmt.Sprintf("bundle of %d bytes is larger than %d", len(b), MaxBundle)}}, nil
		}
		var errs []LineError
		dst = decodeBundleInto(1, b, dst, &errs)
		return dst, errs, nil
	}
	// NDJSON of bundles, if at least one line is a JSON object by itself;
	// otherwise (a truncated pretty-printed bundle, text) the body is not
	// JSON.
	usable := false
	eachLine(body, func(_ int, line []byte) {
		if !usable && line[0] == '{' && len(line) <= MaxLine && json.Valid(line) {
			usable = true
		}
	})
	if !usable {
		return dst, nil, fmt.Errorf("%w: the body is neither one STIX bundle nor NDJSON of bundles", ErrNotJSON)
	}
	var errs []LineError
	eachLine(body, func(n int, line []byte) {
		switch {
		case len(line) > MaxLine:
			errs = append(errs, LineError{n, CodeTooLong, fmt.Sprintf("line of %d bytes is longer than %d", len(line), MaxLine)})
		case line[0] != '{':
			errs = append(errs, LineError{n, CodeNotObject, "line is not a JSON object"})
		default:
			dst = decodeBundleInto(n, line, dst, &errs)
		}
	})
	return dst, errs, nil
}

// decodeBundleInto turns every sighting of one bundle into an event.
func decodeBundleInto(n int, doc []byte, dst []Event, errs *[]LineError) []Event {
	fail := func(code, format string, args ...any) {
		*errs = append(*errs, LineError{n, code, fmt.Sprintf(format, args...)})
	}
	var head struct {
		Type    string          `json:"type"`
		Objects json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		fail(CodeJSON, "%s", shortErr(err))
		return dst
	}
	var list []*stixObject
	if head.Type == "bundle" {
		if len(head.Objects) > 0 {
			if err := json.Unmarshal(head.Objects, &list); err != nil {
				fail(CodeJSON, "bundle objects: %s", shortErr(err))
				return dst
			}
		}
	} else {
		var o stixObject
		if err := json.Unmarshal(doc, &o); err != nil {
			fail(CodeJSON, "%s", shortErr(err))
			return dst
		}
		list = []*stixObject{&o}
	}
	byID := make(map[string]*stixObject, len(list))
	for _, o := range list {
		if o != nil && o.ID != "" {
			byID[o.ID] = o
		}
	}
	sightings := 0
	for _, o := range list {
		if o == nil || o.Type != "sighting" {
			continue
		}
		sightings++
		e, msg, code := sightingEvent(o, byID)
		if msg != "" {
			fail(code, "%s: %s", clip(o.ID), msg)
			continue
		}
		dst = append(dst, e)
	}
	if sightings == 0 {
		fail(CodeNoSighting, "the bundle holds no sighting object (indicators are imported through intel, not ingest)")
	}
	return dst
}

// sightingEvent builds the event of one sighting; msg says why it cannot.
func sightingEvent(s *stixObject, byID map[string]*stixObject) (e Event, msg, code string) {
	if s.SightingOfRef == "" {
		return e, "sighting_of_ref is required", CodeMissingField
	}
	ts := s.LastSeen
	for _, alt := range []string{s.FirstSeen, s.Modified, s.Created} {
		if ts == "" {
			ts = alt
		}
	}
	if ts == "" {
		return e, "a sighting needs last_seen, first_seen or created", CodeMissingField
	}
	t, err := parseTime(ts, false)
	if err != nil {
		return e, err.Error(), CodeTime
	}
	e = Event{Time: t, Kind: "sighting", Ref: s.SightingOfRef, Count: 1}
	if s.Count != nil {
		if *s.Count < 0 || *s.Count > 999_999_999 {
			return e, fmt.Sprintf("count %d is not 0–999999999", *s.Count), CodeInvalidField
		}
		if *s.Count > 0 {
			e.Count = int(*s.Count)
		}
	}
	for _, ref := range s.WhereSightedRefs {
		if id := byID[ref]; id != nil && id.Name != "" {
			e.Sensor = id.Name
			break
		}
	}
	if of := byID[s.SightingOfRef]; of != nil {
		e.Signature = of.Name
		switch of.Type {
		case "indicator":
			if of.PatternType == "" || of.PatternType == "stix" {
				addPattern(&e, of.Pattern)
			}
		case "vulnerability":
			if v, ok := normCVE(of.Name); ok {
				e.CVEs = addUnique(e.CVEs, v)
			}
			for _, r := range of.ExternalRef {
				if strings.EqualFold(r.SourceName, "cve") {
					if v, ok := normCVE(r.ExternalID); ok {
						e.CVEs = addUnique(e.CVEs, v)
					}
				}
			}
		}
	}
	for _, ref := range s.ObservedDataRefs {
		od := byID[ref]
		if od == nil || od.Type != "observed-data" {
			continue
		}
		scos := make([]*stixObject, 0, len(od.ObjectRefs)+len(od.Objects))
		resolve := func(r string) *stixObject { return byID[r] }
		for _, r := range od.ObjectRefs {
			if o := byID[r]; o != nil {
				scos = append(scos, o)
			}
		}
		if len(od.Objects) > 0 { // STIX 2.0: refs are keys of the embedded map
			for _, o := range od.Objects {
				if o != nil {
					scos = append(scos, o)
				}
			}
			resolve = func(r string) *stixObject { return od.Objects[r] }
		}
		// Network traffic first, so its addresses get their direction.
		for _, o := range scos {
			if o.Type != "network-traffic" {
				continue
			}
			if a, ok := scoAddr(resolve(o.SrcRef)); ok && !e.Src.IsValid() {
				e.Src = a
				e.SrcPort, _ = port(o.SrcPort)
			}
			if a, ok := scoAddr(resolve(o.DstRef)); ok && !e.Dst.IsValid() {
				e.Dst = a
				e.DstPort, _ = port(o.DstPort)
			}
			if len(o.Protocols) > 0 && e.Proto == "" {
				e.Proto = strings.ToUpper(o.Protocols[0])
			}
		}
		for _, o := range scos {
			addSCO(&e, o)
		}
	}
	return e, "", ""
}

// scoAddr is the address of an ipv4-addr or ipv6-addr object.
func scoAddr(o *stixObject) (netip.Addr, bool) {
	if o == nil || (o.Type != "ipv4-addr" && o.Type != "ipv6-addr") {
		return netip.Addr{}, false
	}
	v := o.Value
	if p, err := netip.ParsePrefix(v); err == nil && p.IsSingleIP() {
		v = p.Addr().String()
	}
	return parseIP(v)
}

// addIP puts an undirected address in Src when it is free, else in IPs.
func addIP(e *Event, a netip.Addr) {
	switch {
	case a == e.Src || a == e.Dst:
	case !e.Src.IsValid():
		e.Src = a
	default:
		for _, x := range e.IPs {
			if x == a {
				return
			}
		}
		e.IPs = append(e.IPs, a)
	}
}

// addSCO adds the observable of one cyber-observable object.
func addSCO(e *Event, o *stixObject) {
	switch o.Type {
	case "ipv4-addr", "ipv6-addr":
		if a, ok := scoAddr(o); ok {
			addIP(e, a)
		}
	case "domain-name":
		if v, ok := normDomain(o.Value); ok {
			e.Domains = addUnique(e.Domains, v)
		}
	case "url":
		if v, ok := normURL(o.Value); ok {
			e.URLs = addUnique(e.URLs, v)
		}
	case "email-addr":
		if v, ok := normEmail(o.Value); ok {
			e.Emails = addUnique(e.Emails, v)
		}
	case "file", "artifact":
		for _, h := range o.Hashes {
			if v, ok := normHash(h); ok {
				e.Hashes = addUnique(e.Hashes, v)
			}
		}
	}
}

// addPattern adds the values of a simple STIX pattern (equality tests joined
// by OR) as observables; other patterns add nothing.
func addPattern(e *Event, pattern string) {
	if pattern == "" || len(pattern) > 64<<10 {
		return
	}
	p, err := stix.ParsePattern(pattern)
	if err != nil {
		return
	}
	terms, ok := p.SimpleTerms()
	if !ok {
		return
	}
	for _, t := range terms {
		k, v, err := intel.FromTerm(t)
		if err != nil {
			continue
		}
		switch k {
		case intel.KindIPv4, intel.KindIPv6:
			if a, ok := parseIP(v); ok {
				addIP(e, a)
			}
		case intel.KindDomain:
			e.Domains = addUnique(e.Domains, v)
		case intel.KindURL:
			e.URLs = addUnique(e.URLs, v)
		case intel.KindEmail:
			e.Emails = addUnique(e.Emails, v)
		case intel.KindMD5, intel.KindSHA1, intel.KindSHA256:
			e.Hashes = addUnique(e.Hashes, v)
		}
	}
}
