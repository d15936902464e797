package decode

import (
	"bytes"
	"strings"

	json "github.com/goccy/go-json"
)

// flexInt reads a number written as a JSON number or as a string of digits,
// as Wazuh decoders write ports and rule ids ("srcport":"22").
type flexInt struct {
	N   int64
	Set bool
	Bad string
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		if len(b) < 2 || b[len(b)-1] != '"' || bytes.IndexByte(b, '\\') >= 0 {
			var str string // escapes: let the decoder read it
			if err := json.Unmarshal(b, &str); err != nil {
				return err
			}
			b = []byte(str)
		} else {
			b = b[1 : len(b)-1]
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil
		}
	}
	// Digits are read by hand: strconv would copy the text for its error.
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	var n int64
	for i, c := range d {
		if c < '0' || c > '9' || i >= 18 {
			f.Bad = clip(string(b))
			return nil
		}
		n = n*10 + int64(c-'0')
	}
	if len(d) == 0 {
		f.Bad = clip(string(b))
		return nil
	}
	if neg {
		n = -n
	}
	f.N, f.Set = n, true
	return nil
}

// wazuhRecord holds the parts of a Wazuh alert (alerts.json) certnet reads.
type wazuhRecord struct {
	Timestamp string `json:"timestamp"`
	Rule      *struct {
		ID          flexInt  `json:"id"`
		Level       flexInt  `json:"level"`
		Description string   `json:"description"`
		Groups      []string `json:"groups"`
		Mitre       *struct {
			ID []string `json:"id"`
		} `json:"mitre"`
	} `json:"rule"`
	Agent *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
	Manager *struct {
		Name string `json:"name"`
	} `json:"manager"`
	Data *struct {
		SrcIP    string  `json:"srcip"`
		SrcPort  flexInt `json:"srcport"`
		DstIP    string  `json:"dstip"`
		DstPort  flexInt `json:"dstport"`
		Protocol string  `json:"protocol"`
		// Suricata alerts read by Wazuh's JSON decoder keep EVE's names.
		SrcIP2   string  `json:"src_ip"`
		SrcPort2 flexInt `json:"src_port"`
		DstIP2   string  `json:"dest_ip"`
		DstPort2 flexInt `json:"dest_port"`
		Proto2   string  `json:"proto"`
		URL      string  `json:"url"`
		Hostname string  `json:"hostname"`
		Vuln     *struct {
			CVE string `json:"cve"`
		} `json:"vulnerability"`
		// Windows event channel alerts (Security log, Sysmon), with
		// Wazuh's lower-camel-case names.
		Win *struct {
			EventData struct {
				IPAddress           string  `json:"ipAddress"`
				IPPort              flexInt `json:"ipPort"`
				SourceIP            string  `json:"sourceIp"`
				SourcePort          flexInt `json:"sourcePort"`
				DestinationIP       string  `json:"destinationIp"`
				DestinationPort     flexInt `json:"destinationPort"`
				DestinationHostname string  `json:"destinationHostname"`
				QueryName           string  `json:"queryName"`
				Protocol            string  `json:"protocol"`
				Hashes              string  `json:"hashes"` // "SHA1=…,MD5=…,SHA256=…,IMPHASH=…"
			} `json:"eventdata"`
		} `json:"win"`
	} `json:"data"`
	Syscheck *struct {
		MD5    string `json:"md5_after"`
		SHA1   string `json:"sha1_after"`
		SHA256 string `json:"sha256_after"`
	} `json:"syscheck"`
}

// wazuhSeverity maps a rule level (0–16) to certnet's 1 (high) … 4 (low).
func wazuhSeverity(level int64) int {
	switch {
	case level >= 12:
		return 1
	case level >= 8:
		return 2
	case level >= 4:
		return 3
	}
	return 4
}

func newWazuh() lineFunc {
	r := new(wazuhRecord)
	return func(line []byte, dst []Event) ([]Event, *LineError) {
		*r = wazuhRecord{}
		return decodeWazuh(r, line, dst)
	}
}

func decodeWazuh(r *wazuhRecord, line []byte, dst []Event) ([]Event, *LineError) {
	if err := json.Unmarshal(line, r); err != nil {
		return dst, jsonErr(err)
	}
	if r.Timestamp == "" {
		return dst, lineErr(CodeMissingField, "timestamp is required")
	}
	if r.Rule == nil {
		return dst, lineErr(CodeMissingField, "rule is required")
	}
	t, err := parseTime(r.Timestamp, false)
	if err != nil {
		return dst, lineErr(CodeTime, "timestamp: %v", err)
	}
	rule := r.Rule
	if rule.ID.Bad != "" {
		return dst, lineErr(CodeInvalidField, "rule.id %q is not a number", rule.ID.Bad)
	}
	if rule.Level.Bad != "" || rule.Level.N < 0 || rule.Level.N > 16 {
		return dst, lineErr(CodeInvalidField, "rule.level is not 0–16")
	}
	e := Event{
		Time:        t,
		Kind:        "alert",
		Signature:   rule.Description,
		SignatureID: rule.ID.N,
		Category:    strings.Join(rule.Groups, ","),
		Severity:    wazuhSeverity(rule.Level.N),
		Count:       1,
	}
	switch {
	case r.Agent != nil && r.Agent.Name != "":
		e.Sensor = r.Agent.Name
	case r.Manager != nil:
		e.Sensor = r.Manager.Name
	}
	if rule.Mitre != nil {
		for _, id := range rule.Mitre.ID {
			if id = strings.ToUpper(strings.TrimSpace(id)); id != "" {
				e.Tags = addUnique(e.Tags, id)
			}
		}
	}
	e.CVEs = scanCVEs(rule.Description, e.CVEs)
	if d := r.Data; d != nil {
		if d.SrcIP == "" {
			d.SrcIP = d.SrcIP2
		}
		if !d.SrcPort.Set && d.SrcPort.Bad == "" {
			d.SrcPort = d.SrcPort2
		}
		if d.DstIP == "" {
			d.DstIP = d.DstIP2
		}
		if !d.DstPort.Set && d.DstPort.Bad == "" {
			d.DstPort = d.DstPort2
		}
		if d.Protocol == "" {
			d.Protocol = d.Proto2
		}
		if w := d.Win; w != nil {
			ed := &w.EventData
			// Windows writes "-" or "" for no address: only addresses
			// are taken, nothing else refuses the alert.
			_, srcOK := parseIP(ed.SourceIP)
			_, ipOK := parseIP(ed.IPAddress)
			_, dstOK := parseIP(ed.DestinationIP)
			switch {
			case d.SrcIP != "":
			case srcOK:
				d.SrcIP, d.SrcPort = ed.SourceIP, ed.SourcePort
			case ipOK:
				d.SrcIP, d.SrcPort = ed.IPAddress, ed.IPPort
			}
			if d.DstIP == "" && dstOK {
				d.DstIP, d.DstPort = ed.DestinationIP, ed.DestinationPort
			}
			if d.SrcPort.Bad != "" {
				d.SrcPort = flexInt{}
			}
			if d.DstPort.Bad != "" {
				d.DstPort = flexInt{}
			}
			if d.Protocol == "" {
				d.Protocol = ed.Protocol
			}
			if ed.DestinationHostname != "" {
				if v, ok := normDomain(ed.DestinationHostname); ok && strings.Contains(v, ".") {
					e.Domains = addUnique(e.Domains, v)
				}
			}
			if ed.QueryName != "" {
				if v, ok := normDomain(ed.QueryName); ok && strings.Contains(v, ".") {
					e.Domains = addUnique(e.Domains, v)
				}
			}
			for _, kv := range strings.Split(ed.Hashes, ",") {
				k, h, ok := strings.Cut(strings.TrimSpace(kv), "=")
				switch strings.ToUpper(k) {
				case "MD5", "SHA1", "SHA256": // not IMPHASH, an MD5 of the import table
				default:
					ok = false
				}
				if ok {
					if v, ok := normHash(h); ok {
						e.Hashes = addUnique(e.Hashes, v)
					}
				}
			}
		}
		var ok bool
		if d.SrcIP != "" {
			if e.Src, ok = parseIP(strings.TrimSpace(d.SrcIP)); !ok {
				return dst, lineErr(CodeInvalidField, "data.srcip %q is not an IP address", clip(d.SrcIP))
			}
		}
		if d.DstIP != "" {
			if e.Dst, ok = parseIP(strings.TrimSpace(d.DstIP)); !ok {
				return dst, lineErr(CodeInvalidField, "data.dstip %q is not an IP address", clip(d.DstIP))
			}
		}
		if d.SrcPort.Bad != "" {
			return dst, lineErr(CodeInvalidField, "data.srcport %q is not a port", d.SrcPort.Bad)
		}
		if d.DstPort.Bad != "" {
			return dst, lineErr(CodeInvalidField, "data.dstport %q is not a port", d.DstPort.Bad)
		}
		if e.SrcPort, ok = port(d.SrcPort.N); !ok {
			return dst, lineErr(CodeInvalidField, "data.srcport %d is not 0–65535", d.SrcPort.N)
		}
		if e.DstPort, ok = port(d.DstPort.N); !ok {
			return dst, lineErr(CodeInvalidField, "data.dstport %d is not 0–65535", d.DstPort.N)
		}
		switch p := strings.ToUpper(strings.TrimSpace(d.Protocol)); p {
		case "TCP", "UDP", "ICMP", "ICMPV6", "IPV6-ICMP", "SCTP", "GRE", "ESP":
			e.Proto = p // not an HTTP method, which web-accesslog writes here
		}
		if d.URL != "" {
			u := strings.TrimSpace(d.URL)
			if !strings.Contains(u, "://") && d.Hostname != "" && strings.HasPrefix(u, "/") {
				u = "http://" + strings.TrimSpace(d.Hostname) + u
			}
			if v, ok := normURL(u); ok {
				e.URLs = append(e.URLs, v)
				if h := urlHost(v); h != "" {
					e.Domains = addUnique(e.Domains, h)
				}
			}
		}
		if d.Vuln != nil && d.Vuln.CVE != "" {
			if v, ok := normCVE(d.Vuln.CVE); ok {
				e.CVEs = addUnique(e.CVEs, v)
			} else {
				return dst, lineErr(CodeInvalidField, "data.vulnerability.cve %q is not a CVE id", clip(d.Vuln.CVE))
			}
		}
	}
	if s := r.Syscheck; s != nil {
		for _, h := range [...]string{s.MD5, s.SHA1, s.SHA256} {
			if v, ok := normHash(h); ok {
				e.Hashes = addUnique(e.Hashes, v)
			}
		}
	}
	return append(dst, e), nil
}
