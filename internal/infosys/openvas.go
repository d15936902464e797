package infosys

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FormatOpenVAS is a Greenbone / OpenVAS XML report (GMP get_reports, the
// "XML" report format): <report><report><results><result> with host,
// port, nvt (oid, name, cvss_base, refs or cve, solution), threat,
// severity, description and creation_time.
const FormatOpenVAS = "openvas"

// ovResult is the part of a <result> certnet keeps.
type ovResult struct {
	Name string `xml:"name"`
	Host struct {
		Addr     string `xml:",chardata"`
		Hostname string `xml:"hostname"`
	} `xml:"host"`
	Port string `xml:"port"`
	NVT  struct {
		OID      string `xml:"oid,attr"`
		Name     string `xml:"name"`
		CVSSBase string `xml:"cvss_base"`
		CVE      string `xml:"cve"` // GVM ≤ 9: "CVE-…, CVE-…" or "NOCVE"
		Tags     string `xml:"tags"`
		Solution string `xml:"solution"`
		Refs     []struct {
			Type string `xml:"type,attr"`
			ID   string `xml:"id,attr"`
		} `xml:"refs>ref"`
	} `xml:"nvt"`
	Threat       string `xml:"threat"`
	Severity     string `xml:"severity"`
	Description  string `xml:"description"`
	CreationTime string `xml:"creation_time"`
	ModTime      string `xml:"modification_time"`
}

// countingReader stops a stream past MaxScanReport bytes.
type countingReader struct {
	r io.Reader
	n int64
}

var errReportTooLarge = errors.New("report too large")

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > MaxScanReport {
		return n, errReportTooLarge
	}
	return n, err
}

// parseOpenVAS streams an OpenVAS XML report: each <result> directly under
// a <results> element becomes a scan row (its line is where the <result>
// starts); results Greenbone marks as false positives (threat "False
// Positive", severity -1) are left out, log and debug results are info.
// The first CVE of a result is the finding's CVE, all of them and the NVT
// OID go into its description. Anything that is not a well-formed XML
// report with a <report> root is a broken report.
func parseOpenVAS(r io.Reader) ([]ScanRow, []RowError, error) {
	cr := &countingReader{r: r}
	d := xml.NewDecoder(cr)
	d.Strict = true
	var stack []string
	var rows []ScanRow
	var bad []RowError
	sawRoot := false
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errReportTooLarge) {
				return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrBrokenReport, MaxScanReport)
			}
			return nil, nil, fmt.Errorf("%w: %v", ErrBrokenReport, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if t.Name.Local != "report" && t.Name.Local != "get_reports_response" {
					return nil, nil, fmt.Errorf("%w: root element <%s>, not <report>", ErrBrokenReport, t.Name.Local)
				}
				sawRoot = true
			}
			if t.Name.Local == "result" && len(stack) > 0 && stack[len(stack)-1] == "results" {
				var x ovResult
				if err := d.DecodeElement(&x, &t); err != nil {
					if errors.Is(err, errReportTooLarge) {
						return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrBrokenReport, MaxScanReport)
					}
					return nil, nil, fmt.Errorf("%w: line %d: %v", ErrBrokenReport, line, err)
				}
				// line: InputPos read before the token, after the
				// whitespace before it, is where <result> starts.
				row, errs, keep := openvasRow(line, x)
				if !keep {
					continue
				}
				if len(errs) > 0 {
					bad = append(bad, errs...)
					continue
				}
				rows = append(rows, row)
				continue
			}
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if !sawRoot {
		return nil, nil, fmt.Errorf("%w: no <report> element", ErrBrokenReport)
	}
	return rows, bad, nil
}

// openvasRow maps a result to a scan row checked like a CSV row; keep is
// false for the results that are not findings (false positives).
func openvasRow(line int, x ovResult) (ScanRow, []RowError, bool) {
	threat := strings.ToLower(strings.TrimSpace(x.Threat))
	if threat == "false positive" {
		return ScanRow{}, nil, false
	}
	raw := map[string]string{}
	host := strings.TrimSpace(x.Host.Addr)
	if host == "" {
		host = strings.TrimSpace(x.Host.Hostname)
	}
	raw["host"] = host
	raw["port"] = strings.TrimSpace(x.Port)
	name := strings.TrimSpace(x.NVT.Name)
	if name == "" {
		name = strings.TrimSpace(x.Name)
	}
	raw["name"] = name
	// CVEs: refs (GVM ≥ 10) or the cve element (older), de-duplicated.
	var cves []string
	addCVE := func(c string) {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "" && c != "NOCVE" && !slices.Contains(cves, c) {
			cves = append(cves, c)
		}
	}
	for _, ref := range x.NVT.Refs {
		if strings.EqualFold(ref.Type, "cve") {
			addCVE(ref.ID)
		}
	}
	for _, c := range strings.Split(x.NVT.CVE, ",") {
		addCVE(c)
	}
	if len(cves) > 0 {
		raw["cve"] = cves[0]
	}
	// Severity: the result's score (Greenbone's overrides included), else
	// the NVT's CVSS base; the threat word when there is no score.
	score := strings.TrimSpace(x.Severity)
	if score == "" {
		score = strings.TrimSpace(x.NVT.CVSSBase)
	}
	if f, err := strconv.ParseFloat(score, 64); err == nil && f < 0 {
		if f == -1 { // Greenbone's false-positive score
			return ScanRow{}, nil, false
		}
		score = "" // -2 error, -3 debug: no score
	}
	raw["cvss"] = score
	switch threat {
	case "log", "debug", "":
		if score == "" {
			raw["severity"] = "info"
		}
	default:
		raw["severity"] = threat
	}
	var desc []string
	if s := strings.TrimSpace(x.Description); s != "" {
		desc = append(desc, s)
	}
	if s := tagValue(x.NVT.Tags, "summary"); s != "" && len(desc) == 0 {
		desc = append(desc, s)
	}
	var ids []string
	if oid := strings.TrimSpace(x.NVT.OID); oid != "" {
		ids = append(ids, "NVT "+oid)
	}
	if len(cves) > 1 {
		ids = append(ids, strings.Join(cves, ", "))
	}
	if len(ids) > 0 {
		desc = append(desc, strings.Join(ids, "; "))
	}
	raw["description"] = clip(strings.Join(desc, "\n\n"), maxText)
	sol := strings.TrimSpace(x.NVT.Solution)
	if sol == "" {
		sol = tagValue(x.NVT.Tags, "solution")
	}
	raw["solution"] = clip(sol, maxText)
	when := strings.TrimSpace(x.CreationTime)
	if when == "" {
		when = strings.TrimSpace(x.ModTime)
	}
	raw["detected_at"] = when
	row, errs := checkScanRow(line, raw)
	return row, errs, true
}

// tagValue reads key=value from an NVT's tags ("a=1|b=2").
func tagValue(tags, key string) string {
	for _, kv := range strings.Split(tags, "|") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// clip cuts s to at most n runes (a long scanner description is kept, cut,
// rather than refusing the finding).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
