package campaign

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MaxImportBytes is the largest import accepted (after gunzip).
const MaxImportBytes = 32 << 20

// MaxRows is the most address rows one import may hold.
const MaxRows = 200_000

// Columns are the documented CSV columns; a header row names them in any
// order, ip is required.
var Columns = []string{"ip", "port", "asn", "seen_at", "malware", "note"}

// Row is one address of an import.
type Row struct {
	Line    int        `json:"line"`
	IP      netip.Addr `json:"ip"`
	Port    int        `json:"port,omitempty"`
	ASN     int64      `json:"asn,omitempty"`
	SeenAt  time.Time  `json:"seen_at,omitzero"`
	Malware string     `json:"malware,omitempty"`
	Note    string     `json:"note,omitempty"`
	// From an events file: the first time seen and the number of events.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	Events    int       `json:"events,omitempty"`
}

// LineError is a refused line with its number (1 is the header). Message
// is in English; Key and Args are the same message in the i18n catalog
// (campaign.line.*), for the pages to show it in the reader's language.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
	Key     string `json:"key,omitempty"`
	Args    []any  `json:"args,omitempty"`
}

// lineMsg is why a row is refused: the English text and its catalog key.
type lineMsg struct {
	text string
	key  string
	args []any
}

func refuse(key, format string, args ...any) *lineMsg {
	return &lineMsg{text: fmt.Sprintf(format, args...), key: key, args: args}
}

// ErrTooLarge is returned for an import above MaxImportBytes or MaxRows.
var ErrTooLarge = errors.New("campaign: import too large")

// ParseCSV reads a CSV list of addresses, gzip-compressed or not. It
// returns the valid rows and the per-line errors; the error is for a file
// that cannot be read at all (no header, no ip column, an unknown column,
// too large).
func ParseCSV(r io.Reader) ([]Row, []LineError, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("campaign: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	data, err := io.ReadAll(io.LimitReader(src, MaxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("campaign: read: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, nil, ErrTooLarge
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, errors.New("campaign: no header row (columns: " + strings.Join(Columns, ", ") + ")")
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		known := false
		for _, c := range Columns {
			known = known || c == h
		}
		if !known {
			return nil, nil, fmt.Errorf("campaign: unknown column %q (columns: %s)", h, strings.Join(Columns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, nil, fmt.Errorf("campaign: column %q twice", h)
		}
		col[h] = i
	}
	if _, ok := col["ip"]; !ok {
		return nil, nil, errors.New("campaign: the header has no ip column")
	}
	var rows []Row
	var bad []LineError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("campaign: read: %w", err)
			}
			if len(rows)+len(bad) >= MaxRows {
				return nil, nil, ErrTooLarge
			}
			bad = append(bad, LineError{Line: pe.StartLine, Message: pe.Err.Error(), Key: "campaign.line.csv", Args: []any{pe.Err.Error()}})
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rows)+len(bad) >= MaxRows {
			return nil, nil, ErrTooLarge
		}
		row, msg := parseRow(rec, col)
		if msg != nil {
			bad = append(bad, LineError{Line: line, Message: msg.text, Key: msg.key, Args: msg.args})
			continue
		}
		row.Line = line
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func field(rec []string, col map[string]int, name string) string {
	i, ok := col[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func parseRow(rec []string, col map[string]int) (Row, *lineMsg) {
	var row Row
	v := field(rec, col, "ip")
	ip, err := ParseIP(v)
	if err != nil {
		switch a, perr := netip.ParseAddr(v); {
		case v == "":
			return row, refuse("campaign.line.ip_missing", "ip: missing")
		case perr != nil || a.Zone() != "":
			return row, refuse("campaign.line.ip", "ip %q: not an IP address", v)
		default:
			return row, refuse("campaign.line.ip_host", "ip %q: not a host address", v)
		}
	}
	row.IP = ip
	if v := field(rec, col, "port"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return row, refuse("campaign.line.port", "port %q: not a port number (0–65535)", v)
		}
		row.Port = p
	}
	if v := field(rec, col, "asn"); v != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(v), "AS"), 10, 64)
		if err != nil || n <= 0 || n > 4294967295 {
			return row, refuse("campaign.line.asn", "asn %q: not an AS number", v)
		}
		row.ASN = n
	}
	if v := field(rec, col, "seen_at"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return row, refuse("campaign.line.seen_at", "seen_at %q: not a date (RFC 3339 or YYYY-MM-DD)", v)
		}
		row.SeenAt = t
	}
	row.Malware = field(rec, col, "malware")
	row.Note = field(rec, col, "note")
	if len(row.Malware) > 200 {
		return row, refuse("campaign.line.malware_long", "malware: longer than %d characters", 200)
	}
	if len(row.Note) > 2000 {
		return row, refuse("campaign.line.note_long", "note: longer than %d characters", 2000)
	}
	return row, nil
}

// ParseIP reads one address (IPv4, IPv6, an IPv4-mapped IPv6 as IPv4); it
// refuses prefixes, zones and addresses that are not routable on the
// Internet side (unspecified, loopback, multicast).
func ParseIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, errors.New("ip: missing")
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("ip %q: not an IP address", s)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsLoopback() || ip.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("ip %q: not a host address", s)
	}
	return ip, nil
}

func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, errors.New("bad time")
}
