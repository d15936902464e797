package infosys

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
)

// Finding severities, worst first.
const (
	SevCritical = "critical"
	SevHigh     = "high"
	SevMedium   = "medium"
	SevLow      = "low"
	SevInfo     = "info"
)

// Severities lists the severities, worst first.
var Severities = []string{SevCritical, SevHigh, SevMedium, SevLow, SevInfo}

// Scan report formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// MaxScanReport is the largest scan report accepted, in bytes.
const MaxScanReport = 16 << 20

// ScanRow is one finding read from a scan report; Line is where it starts
// (the CSV line, or the JSON array element counted from 1).
type ScanRow struct {
	Line        int       `json:"line"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Name        string    `json:"name"`
	CVE         string    `json:"cve"`
	Severity    string    `json:"severity"`
	CVSS        *float64  `json:"cvss,omitempty"`
	Description string    `json:"description"`
	Solution    string    `json:"solution"`
	DetectedAt  time.Time `json:"detected_at,omitzero"`
}

// RowError is a refused row of an import: its line, the field and why
// (an i18n key).
type RowError struct {
	Line  int    `json:"line"`
	Field string `json:"field"`
	Msg   string `json:"msg"`
}

// ErrBrokenReport is returned (wrapped) when a scan report cannot be read
// at all; nothing of it is kept.
var ErrBrokenReport = errors.New("broken scan report")

// scanColumns are the columns of the documented CSV format (the JSON format
// is an array of objects with the same keys). host, name and severity (or
// cvss) are required; the header may list them in any order.
var scanColumns = []string{"host", "port", "name", "cve", "severity", "cvss", "description", "solution", "detected_at"}

// ParseScanReport reads a scan report in format (csv or json): the valid
// rows, and the refused ones with their line. An unreadable file (not CSV
// or JSON, no header, a missing required column, too large) is an error
// wrapping ErrBrokenReport.
func ParseScanReport(format string, r io.Reader) ([]ScanRow, []RowError, error) {
	if format == FormatOpenVAS {
		return parseOpenVAS(r) // streamed (openvas.go)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxScanReport+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBrokenReport, err)
	}
	if len(data) > MaxScanReport {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrBrokenReport, MaxScanReport)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch format {
	case FormatCSV:
		return parseScanCSV(data)
	case FormatJSON:
		return parseScanJSON(data)
	}
	return nil, nil, fmt.Errorf("%w: unknown format %q", ErrBrokenReport, format)
}

func parseScanCSV(data []byte) ([]ScanRow, []RowError, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrBrokenReport, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range []string{"host", "name"} {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("%w: column %q missing", ErrBrokenReport, c)
		}
	}
	_, sev := col["severity"]
	_, cv := col["cvss"]
	if !sev && !cv {
		return nil, nil, fmt.Errorf("%w: column severity or cvss missing", ErrBrokenReport)
	}
	var rows []ScanRow
	var bad []RowError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("%w: line %d: %v", ErrBrokenReport, pe.StartLine, pe.Err)
			}
			return nil, nil, fmt.Errorf("%w: %v", ErrBrokenReport, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		raw := map[string]string{}
		for _, c := range scanColumns {
			raw[c] = get(c)
		}
		row, errs := checkScanRow(line, raw)
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func parseScanJSON(data []byte) ([]ScanRow, []RowError, error) {
	var items []map[string]any
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBrokenReport, err)
	}
	var rows []ScanRow
	var bad []RowError
	for i, it := range items {
		raw := map[string]string{}
		line := i + 1
		var typeErr []RowError
		for _, c := range scanColumns {
			switch v := it[c].(type) {
			case nil:
			case string:
				raw[c] = v
			case float64:
				raw[c] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				typeErr = append(typeErr, RowError{Line: line, Field: c, Msg: "infosys.err.finding_value"})
			}
		}
		if len(typeErr) > 0 {
			bad = append(bad, typeErr...)
			continue
		}
		row, errs := checkScanRow(line, raw)
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

// checkScanRow validates one row's raw values.
func checkScanRow(line int, raw map[string]string) (ScanRow, []RowError) {
	var bad []RowError
	fail := func(field, msg string) { bad = append(bad, RowError{Line: line, Field: field, Msg: msg}) }
	for _, c := range scanColumns {
		v := raw[c]
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			fail(c, "infosys.err.text")
			raw[c] = ""
		}
	}
	row := ScanRow{Line: line, Name: strings.TrimSpace(raw["name"]), Description: strings.TrimSpace(raw["description"]),
		Solution: strings.TrimSpace(raw["solution"])}
	host := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(raw["host"]), "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else if !validHostname(host) {
		fail("host", "infosys.err.finding_host")
	}
	row.Host = host
	if p := strings.TrimSpace(raw["port"]); p != "" {
		// Scanners write "443/tcp" or "general/tcp" (no port).
		num, _, _ := strings.Cut(p, "/")
		if n, err := strconv.Atoi(num); err == nil && n >= 0 && n <= 65535 {
			row.Port = n
		} else if _, err := strconv.Atoi(num); err == nil || !strings.Contains(p, "/") {
			fail("port", "infosys.err.finding_port")
		}
	}
	switch {
	case row.Name == "":
		fail("name", "infosys.err.required")
	case utf8.RuneCountInString(row.Name) > maxName*2:
		fail("name", "infosys.err.too_long")
	}
	if utf8.RuneCountInString(row.Description) > maxText || utf8.RuneCountInString(row.Solution) > maxText {
		fail("description", "infosys.err.too_long")
	}
	if c := strings.ToUpper(strings.TrimSpace(raw["cve"])); c != "" && c != "NOCVE" {
		if !validCVE(c) {
			fail("cve", "infosys.err.finding_cve")
		}
		row.CVE = c
	}
	if c := strings.TrimSpace(raw["cvss"]); c != "" {
		f, err := strconv.ParseFloat(c, 64)
		if err != nil || f < 0 || f > 10 {
			fail("cvss", "infosys.err.finding_cvss")
		} else {
			row.CVSS = &f
		}
	}
	row.Severity = normSeverity(raw["severity"])
	switch {
	case row.Severity == "" && strings.TrimSpace(raw["severity"]) != "":
		fail("severity", "field.invalid_choice")
	case row.Severity == "" && row.CVSS != nil:
		row.Severity = severityOf(*row.CVSS)
	case row.Severity == "" && strings.TrimSpace(raw["cvss"]) == "":
		fail("severity", "infosys.err.required")
	}
	if d := strings.TrimSpace(raw["detected_at"]); d != "" {
		t, err := parseWhen(d)
		if err != nil {
			fail("detected_at", "infosys.err.date")
		}
		row.DetectedAt = t
	}
	return row, bad
}

func parseWhen(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.DateOnly} {
		loc := Local
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			if t.Year() < 2000 || t.Year() > 9999 {
				return time.Time{}, errors.New("year out of range")
			}
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, errors.New("not a date")
}

func normSeverity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "nghiêm trọng":
		return SevCritical
	case "high", "cao":
		return SevHigh
	case "medium", "moderate", "trung bình":
		return SevMedium
	case "low", "thấp":
		return SevLow
	case "info", "informational", "log", "none", "thông tin":
		return SevInfo
	}
	return ""
}

// severityOf maps a CVSS v3 base score to its qualitative rating.
func severityOf(f float64) string {
	switch {
	case f >= 9:
		return SevCritical
	case f >= 7:
		return SevHigh
	case f >= 4:
		return SevMedium
	case f > 0:
		return SevLow
	}
	return SevInfo
}

func validCVE(c string) bool {
	rest, ok := strings.CutPrefix(c, "CVE-")
	if !ok {
		return false
	}
	y, n, ok := strings.Cut(rest, "-")
	if !ok || len(y) != 4 || len(n) < 4 || len(n) > 19 {
		return false
	}
	for _, r := range y + n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// findingKey is the de-duplication key of a finding on its system.
func findingKey(r ScanRow) string {
	id := r.CVE
	if id == "" {
		id = strings.ToLower(r.Name)
	}
	return r.Host + "|" + strconv.Itoa(r.Port) + "|" + id
}
