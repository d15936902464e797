package campaign

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/ingest/decode"
	"certnet/internal/policy"
)

// An address list "from events": central sightings keep no host address,
// so a runner uploads an events file (Suricata EVE, Wazuh alerts.json,
// certnet's generic schema, a STIX 2.1 sighting bundle; the format is
// detected as the ingest API does) and the campaign takes the addresses of
// those events (source and destination, and a sighting's further
// addresses) that lie inside the members' ranges, once each, with the
// first and last time seen and the number of events. The rows then go the
// way of a CSV list (preview, then import).

// EventFilter narrows the events taken: SignatureIDs keeps the events of
// those signature (Suricata, generic) or rule (Wazuh) ids; Indicator keeps
// the events that carry that value (an address, domain, URL, hash, e-mail,
// CVE or technique id, case-insensitive). Empty fields keep everything.
type EventFilter struct {
	SignatureIDs []int64
	Indicator    string
}

// ParseEventFilter reads the form's filter fields: the ids separated by
// commas or spaces.
func ParseEventFilter(ids, indicator string) (EventFilter, error) {
	f := EventFilter{Indicator: strings.TrimSpace(indicator)}
	for _, s := range strings.FieldsFunc(ids, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' || r == '\t' }) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("%q", s)
		}
		f.SignatureIDs = append(f.SignatureIDs, n)
	}
	if len(f.Indicator) > 2000 {
		return f, errors.New("indicator too long")
	}
	return f, nil
}

func (f EventFilter) keep(e *decode.Event) bool {
	if len(f.SignatureIDs) > 0 && !slices.Contains(f.SignatureIDs, e.SignatureID) {
		return false
	}
	if f.Indicator == "" {
		return true
	}
	if ip, err := netip.ParseAddr(f.Indicator); err == nil {
		ip = ip.Unmap()
		return e.Src == ip || e.Dst == ip || slices.Contains(e.IPs, ip)
	}
	for _, list := range [][]string{e.Domains, e.URLs, e.Hashes, e.Emails, e.CVEs, e.Tags} {
		for _, v := range list {
			if strings.EqualFold(v, f.Indicator) {
				return true
			}
		}
	}
	return false
}

// EventLines reads an events file (gzip allowed) and returns one row per
// address the events name that inRange accepts (nil accepts every host
// address), in order of first appearance, with its first and last time
// seen and its event count; Row.Line is 0 (an address gathers many
// lines). The refused lines come back with their numbers (for a JSON
// array, the element's index), as decode reports them. The error is for a
// file that cannot be read at all (unknown format, not JSON, too large).
func EventLines(r io.Reader, f EventFilter, inRange func(netip.Addr) bool) ([]Row, []LineError, error) {
	data, err := readImport(r)
	if err != nil {
		return nil, nil, err
	}
	format := decode.Detect(data)
	if format == "" {
		return nil, nil, errors.New("campaign: unknown event format (Suricata EVE, Wazuh alerts.json, generic, STIX 2.1)")
	}
	evs, lerrs, err := decode.Decode(format, data, nil)
	if err != nil {
		if errors.Is(err, decode.ErrArrayTooLarge) {
			return nil, nil, ErrTooLarge
		}
		return nil, nil, fmt.Errorf("campaign: %s: %w", format, err)
	}
	bad := make([]LineError, 0, len(lerrs))
	for _, le := range lerrs {
		bad = append(bad, LineError{Line: le.Line, Message: le.Code + ": " + le.Message, Key: "campaign.line.event", Args: []any{le.Code, le.Message}})
	}
	type agg struct {
		i           int
		first, last time.Time
		n           int
		sig         string
	}
	byIP := map[netip.Addr]*agg{}
	var order []netip.Addr
	add := func(ip netip.Addr, e *decode.Event) error {
		if !ip.IsValid() {
			return nil
		}
		ip = ip.Unmap()
		if ip.IsUnspecified() || ip.IsLoopback() || ip.IsMulticast() || ip.Zone() != "" {
			return nil
		}
		if inRange != nil && !inRange(ip) {
			return nil
		}
		g, ok := byIP[ip]
		if !ok {
			if len(order) >= MaxRows {
				return ErrTooLarge
			}
			g = &agg{i: len(order), first: e.Time, last: e.Time, sig: e.Signature}
			byIP[ip] = g
			order = append(order, ip)
		}
		n := max(e.Count, 1)
		g.n += n
		if !e.Time.IsZero() && (g.first.IsZero() || e.Time.Before(g.first)) {
			g.first = e.Time
		}
		if e.Time.After(g.last) {
			g.last = e.Time
		}
		if g.sig == "" {
			g.sig = e.Signature
		}
		return nil
	}
	for i := range evs {
		e := &evs[i]
		if !f.keep(e) {
			continue
		}
		seen := map[netip.Addr]bool{} // an address twice in one event counts once
		for _, ip := range append([]netip.Addr{e.Src, e.Dst}, e.IPs...) {
			if seen[ip] {
				continue
			}
			seen[ip] = true
			if err := add(ip, e); err != nil {
				return nil, nil, err
			}
		}
	}
	rows := make([]Row, 0, len(order))
	for _, ip := range order {
		g := byIP[ip]
		row := Row{IP: ip, SeenAt: g.last.UTC().Truncate(time.Microsecond), FirstSeen: g.first.UTC().Truncate(time.Microsecond), Events: g.n}
		if g.first.IsZero() {
			row.FirstSeen = time.Time{}
		}
		if g.last.IsZero() {
			row.SeenAt = time.Time{}
		}
		row.Note = eventNote(format, g.n, row.FirstSeen, row.SeenAt, g.sig)
		rows = append(rows, row)
	}
	return rows, bad, nil
}

// eventNote is the address's note: where it came from, stored as data (the
// pages show the counts from their own columns).
func eventNote(f decode.Format, n int, first, last time.Time, sig string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d", f, n)
	if !first.IsZero() {
		fmt.Fprintf(&b, ", %s – %s", first.Format(time.RFC3339), last.Format(time.RFC3339))
	}
	if sig != "" {
		b.WriteString(", " + sig)
	}
	s := b.String()
	if len(s) > 2000 {
		s = strings.ToValidUTF8(s[:2000], "")
	}
	return s
}

// readImport reads an upload, gunzipping it, up to MaxImportBytes.
func readImport(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("campaign: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	data, err := io.ReadAll(io.LimitReader(src, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("campaign: read: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, ErrTooLarge
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// EventRows reads an events file for the campaign's import: the addresses
// inside the ranges of members the actor reaches (its scope). Nothing is
// written; it is the preview of ImportEvents.
func (s *Service) EventRows(ctx context.Context, a policy.Actor, id int64, r io.Reader, f EventFilter) ([]Row, []LineError, error) {
	const op = "campaign: import events"
	if _, err := s.manageable(ctx, a, id); err != nil {
		return nil, nil, err
	}
	if s.Whois == nil {
		return nil, nil, errs.Internal(op, errors.New("no constituency index"))
	}
	x, err := s.Whois(ctx)
	if err != nil {
		return nil, nil, errs.Ensure(op, err)
	}
	inRange := func(ip netip.Addr) bool {
		member, _, ok := x.Lookup(ip)
		return ok && member != 0 && a.Scope.Contains(member)
	}
	rows, bad, err := EventLines(r, f, inRange)
	if errors.Is(err, ErrTooLarge) {
		return nil, nil, errs.TooLarge(op)
	}
	if err != nil {
		return nil, nil, errs.Invalid(op).Field("file", "campaign.error.events", err.Error())
	}
	return rows, bad, nil
}

// ImportEvents imports the addresses of an events file (see EventRows);
// the refused lines come back in the result with their numbers.
func (s *Service) ImportEvents(ctx context.Context, a policy.Actor, id int64, source string, r io.Reader, f EventFilter) (ImportResult, error) {
	rows, bad, err := s.EventRows(ctx, a, id, r, f)
	if err != nil {
		return ImportResult{}, err
	}
	if len(rows) == 0 {
		return ImportResult{Errors: bad}, errs.Invalid("campaign: import events").Field("file", "campaign.error.no_event_rows")
	}
	res, err := s.importRows(ctx, a, id, source, rows, len(bad))
	res.Errors = bad
	return res, err
}
