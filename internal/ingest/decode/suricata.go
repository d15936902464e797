package decode

import (
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
)

// suricataRecord holds the parts of an EVE record certnet reads.
type suricataRecord struct {
	Timestamp string `json:"timestamp"`
	EventType string `json:"event_type"`
	Host      string `json:"host"`
	SrcIP     string `json:"src_ip"`
	SrcPort   int64  `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  int64  `json:"dest_port"`
	Proto     string `json:"proto"`
	// Alert is a value, not a pointer: most records are alerts, and the
	// record is reused from line to line.
	Alert struct {
		Signature   string `json:"signature"`
		SignatureID int64  `json:"signature_id"`
		Category    string `json:"category"`
		Severity    int    `json:"severity"`
		// Emerging Threats rules carry metadata lists, "cve":
		// ["CVE_2021_44228"]; only that one is decoded (a map of every
		// list cost a dozen allocations per alert).
		Metadata struct {
			CVE []string `json:"cve"`
		} `json:"metadata"`
	} `json:"alert"`
	Anomaly *struct {
		Type  string `json:"type"`
		Event string `json:"event"`
	} `json:"anomaly"`
	DNS *struct {
		RRName string `json:"rrname"` // EVE v1, and v2 answers
		Query  []struct {
			RRName string `json:"rrname"`
		} `json:"query"` // alert records of Suricata 6–7
		Queries []struct {
			RRName string `json:"rrname"`
		} `json:"queries"` // alert records of Suricata 8
	} `json:"dns"`
	HTTP *struct {
		Hostname string `json:"hostname"`
		URL      string `json:"url"`
	} `json:"http"`
	TLS *struct {
		SNI string `json:"sni"`
	} `json:"tls"`
	Fileinfo *struct {
		MD5    string `json:"md5"`
		SHA1   string `json:"sha1"`
		SHA256 string `json:"sha256"`
	} `json:"fileinfo"`
	SMTP *struct {
		MailFrom string   `json:"mail_from"`
		RcptTo   []string `json:"rcpt_to"`
	} `json:"smtp"`
	Email *struct {
		From string   `json:"from"`
		To   []string `json:"to"`
	} `json:"email"`
}

// decodeSuricata reads one EVE record. It is lenient with what a sensor may
// legitimately leave out or write oddly (a DNS name that is not a host name
// is dropped, not refused), strict with what makes the event unusable: the
// timestamp, the event type and the addresses.
func newSuricata() lineFunc {
	r := new(suricataRecord)
	return func(line []byte, dst []Event) ([]Event, *LineError) {
		*r = suricataRecord{}
		return decodeSuricata(r, line, dst)
	}
}

func decodeSuricata(r *suricataRecord, line []byte, dst []Event) ([]Event, *LineError) {
	if err := json.Unmarshal(line, r); err != nil {
		return dst, jsonErr(err)
	}
	if r.Timestamp == "" {
		return dst, lineErr(CodeMissingField, "timestamp is required")
	}
	if r.EventType == "" {
		return dst, lineErr(CodeMissingField, "event_type is required")
	}
	t, err := parseTime(r.Timestamp, true)
	if err != nil {
		return dst, lineErr(CodeTime, "timestamp: %v", err)
	}
	e := Event{Time: t, Kind: intern(strings.ToLower(r.EventType)), Sensor: r.Host, Proto: intern(strings.ToUpper(r.Proto)), Count: 1}
	var ok bool
	if r.SrcIP != "" {
		if e.Src, ok = parseIP(r.SrcIP); !ok {
			return dst, lineErr(CodeInvalidField, "src_ip %q is not an IP address", clip(r.SrcIP))
		}
	}
	if r.DestIP != "" {
		if e.Dst, ok = parseIP(r.DestIP); !ok {
			return dst, lineErr(CodeInvalidField, "dest_ip %q is not an IP address", clip(r.DestIP))
		}
	}
	if e.SrcPort, ok = port(r.SrcPort); !ok {
		return dst, lineErr(CodeInvalidField, "src_port %d is not 0–65535", r.SrcPort)
	}
	if e.DstPort, ok = port(r.DestPort); !ok {
		return dst, lineErr(CodeInvalidField, "dest_port %d is not 0–65535", r.DestPort)
	}
	if a := &r.Alert; a.Signature != "" || a.SignatureID != 0 {
		e.Signature, e.SignatureID, e.Category = a.Signature, a.SignatureID, a.Category
		e.Severity = severityOf(a.Severity)
		e.CVEs = scanCVEs(a.Signature, e.CVEs)
		for _, c := range a.Metadata.CVE {
			if v, ok := normCVE(c); ok {
				e.CVEs = addUnique(e.CVEs, v)
			}
		}
	}
	if a := r.Anomaly; a != nil && e.Signature == "" {
		e.Signature = strings.TrimSpace(a.Type + " " + a.Event)
	}
	if d := r.DNS; d != nil {
		if v, ok := normDomain(d.RRName); ok {
			e.Domains = addUnique(e.Domains, v)
		}
		for _, q := range d.Query {
			if v, ok := normDomain(q.RRName); ok {
				e.Domains = addUnique(e.Domains, v)
			}
		}
		for _, q := range d.Queries {
			if v, ok := normDomain(q.RRName); ok {
				e.Domains = addUnique(e.Domains, v)
			}
		}
	}
	if h := r.HTTP; h != nil && h.Hostname != "" {
		host := strings.TrimSpace(h.Hostname)
		if _, isIP := parseIP(host); !isIP {
			if v, ok := normDomain(host); ok {
				e.Domains = addUnique(e.Domains, v)
			}
		}
		if u, ok := httpURL(host, h.URL, r); ok {
			e.URLs = append(e.URLs, u)
		}
	}
	if s := r.TLS; s != nil && s.SNI != "" {
		if v, ok := normDomain(s.SNI); ok {
			e.Domains = addUnique(e.Domains, v)
		}
	}
	if f := r.Fileinfo; f != nil {
		for _, h := range [...]string{f.MD5, f.SHA1, f.SHA256} {
			if v, ok := normHash(h); ok {
				e.Hashes = addUnique(e.Hashes, v)
			}
		}
	}
	if m := r.SMTP; m != nil {
		if v, ok := normEmail(m.MailFrom); ok {
			e.Emails = addUnique(e.Emails, v)
		}
		for _, to := range m.RcptTo {
			if v, ok := normEmail(to); ok {
				e.Emails = addUnique(e.Emails, v)
			}
		}
	}
	if m := r.Email; m != nil {
		if v, ok := normEmail(m.From); ok {
			e.Emails = addUnique(e.Emails, v)
		}
		for _, to := range m.To {
			if v, ok := normEmail(to); ok {
				e.Emails = addUnique(e.Emails, v)
			}
		}
	}
	return append(dst, e), nil
}

// httpURL rebuilds the requested URL from the Host header and the request
// target. The port is written when the server side of the flow is not on 80.
func httpURL(host, target string, r *suricataRecord) (string, bool) {
	target = strings.TrimSpace(target)
	if strings.Contains(target, "://") { // a proxy request carries the absolute URL
		return normURL(target)
	}
	if host == "" {
		return "", false
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	if _, ip := parseIP(host); ip && strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if !strings.Contains(host, ":") || strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		if p := serverPort(r); p != 0 && p != 80 {
			host += ":" + strconv.Itoa(int(p))
		}
	}
	return normURL("http://" + host + target)
}

// serverPort guesses the server side of a flow: the lower port when one is
// a well-known or registered port.
func serverPort(r *suricataRecord) int64 {
	if r.SrcPort == 80 || r.DestPort == 80 {
		return 80
	}
	if r.SrcPort != 0 && r.SrcPort < r.DestPort {
		return r.SrcPort
	}
	return r.DestPort
}

// intern returns the common event types and protocols as constants, so an
// event does not keep its own copy of "alert" or "TCP".
func intern(s string) string {
	switch s {
	case "alert":
		return "alert"
	case "dns":
		return "dns"
	case "http":
		return "http"
	case "tls":
		return "tls"
	case "flow":
		return "flow"
	case "fileinfo":
		return "fileinfo"
	case "anomaly":
		return "anomaly"
	case "TCP":
		return "TCP"
	case "UDP":
		return "UDP"
	case "ICMP":
		return "ICMP"
	case "IPV6-ICMP":
		return "IPV6-ICMP"
	}
	return s
}
