package decode

import (
	"strings"

	json "github.com/goccy/go-json"
)

// genericRecord is certnet's own event schema (docs/ingest-generic.md).
type genericRecord struct {
	Time        string   `json:"time"`
	Kind        string   `json:"kind"`
	Sensor      string   `json:"sensor"`
	Signature   string   `json:"signature"`
	SignatureID int64    `json:"signature_id"`
	Category    string   `json:"category"`
	Severity    int      `json:"severity"`
	SrcIP       string   `json:"src_ip"`
	SrcPort     int64    `json:"src_port"`
	DstIP       string   `json:"dst_ip"`
	DstPort     int64    `json:"dst_port"`
	Proto       string   `json:"proto"`
	Domains     []string `json:"domains"`
	URLs        []string `json:"urls"`
	Hashes      []string `json:"hashes"`
	Emails      []string `json:"emails"`
	CVEs        []string `json:"cves"`
	Count       int64    `json:"count"`
}

// decodeGeneric is strict: every value must be valid, since the sender
// wrote the record for certnet.
func decodeGeneric(line []byte, dst []Event) ([]Event, *LineError) {
	var r genericRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return dst, jsonErr(err)
	}
	if r.Time == "" {
		return dst, lineErr(CodeMissingField, "time is required")
	}
	t, err := parseTime(r.Time, false)
	if err != nil {
		return dst, lineErr(CodeTime, "time: %v", err)
	}
	e := Event{
		Time:        t,
		Kind:        strings.ToLower(strings.TrimSpace(r.Kind)),
		Sensor:      strings.TrimSpace(r.Sensor),
		Signature:   strings.TrimSpace(r.Signature),
		SignatureID: r.SignatureID,
		Category:    strings.TrimSpace(r.Category),
		Proto:       strings.ToUpper(strings.TrimSpace(r.Proto)),
		Count:       1,
	}
	if e.Kind == "" {
		e.Kind = "alert"
	}
	if r.Severity < 0 || r.Severity > 4 {
		return dst, lineErr(CodeInvalidField, "severity %d is not 1 (high) to 4 (low), or 0 for unknown", r.Severity)
	}
	e.Severity = r.Severity
	switch {
	case r.Count < 0 || r.Count > 1_000_000_000:
		return dst, lineErr(CodeInvalidField, "count %d is not between 1 and 1000000000", r.Count)
	case r.Count > 0:
		e.Count = int(r.Count)
	}
	var ok bool
	if r.SrcIP != "" {
		if e.Src, ok = parseIP(r.SrcIP); !ok {
			return dst, lineErr(CodeInvalidField, "src_ip %q is not an IP address", clip(r.SrcIP))
		}
	}
	if r.DstIP != "" {
		if e.Dst, ok = parseIP(r.DstIP); !ok {
			return dst, lineErr(CodeInvalidField, "dst_ip %q is not an IP address", clip(r.DstIP))
		}
	}
	if e.SrcPort, ok = port(r.SrcPort); !ok {
		return dst, lineErr(CodeInvalidField, "src_port %d is not 0–65535", r.SrcPort)
	}
	if e.DstPort, ok = port(r.DstPort); !ok {
		return dst, lineErr(CodeInvalidField, "dst_port %d is not 0–65535", r.DstPort)
	}
	for _, d := range r.Domains {
		v, ok := normDomain(d)
		if !ok {
			return dst, lineErr(CodeInvalidField, "domains: %q is not a domain name", clip(d))
		}
		e.Domains = addUnique(e.Domains, v)
	}
	for _, u := range r.URLs {
		v, ok := normURL(u)
		if !ok {
			return dst, lineErr(CodeInvalidField, "urls: %q is not a URL with a scheme and a host", clip(u))
		}
		e.URLs = addUnique(e.URLs, v)
	}
	for _, h := range r.Hashes {
		v, ok := normHash(h)
		if !ok {
			return dst, lineErr(CodeInvalidField, "hashes: %q is not an MD5, SHA-1 or SHA-256 in hexadecimal", clip(h))
		}
		e.Hashes = addUnique(e.Hashes, v)
	}
	for _, m := range r.Emails {
		v, ok := normEmail(m)
		if !ok {
			return dst, lineErr(CodeInvalidField, "emails: %q is not an e-mail address", clip(m))
		}
		e.Emails = addUnique(e.Emails, v)
	}
	for _, c := range r.CVEs {
		v, ok := normCVE(c)
		if !ok {
			return dst, lineErr(CodeInvalidField, "cves: %q is not a CVE id (CVE-YYYY-NNNN)", clip(c))
		}
		e.CVEs = addUnique(e.CVEs, v)
	}
	if e.Signature == "" && !e.Src.IsValid() && !e.Dst.IsValid() && len(e.Domains)+len(e.URLs)+len(e.Hashes)+len(e.Emails)+len(e.CVEs) == 0 {
		return dst, lineErr(CodeMissingField, "an event needs a signature or at least one observable (src_ip, dst_ip, domains, urls, hashes, emails, cves)")
	}
	return append(dst, e), nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
