package intel

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// CVE is what certnet knows of a CVE: NVD's description and CVSS v3.x base
// metrics, and whether CISA lists it as known exploited (KEV). The network
// is air-gapped: both come from files carried in (NVD CVE API 2.0 JSON and
// the KEV catalogue JSON).
type CVE struct {
	ID            string    `json:"id"`
	Description   string    `json:"description,omitempty"`
	Score         float64   `json:"cvss_score,omitempty"` // 0: none
	Severity      string    `json:"cvss_severity,omitempty"`
	Vector        string    `json:"cvss_vector,omitempty"`
	Published     time.Time `json:"published,omitzero"`
	Modified      time.Time `json:"modified,omitzero"`
	InNVD         bool      `json:"in_nvd"`
	KEV           bool      `json:"kev"`
	KEVName       string    `json:"kev_name,omitempty"`
	KEVAction     string    `json:"kev_action,omitempty"`
	KEVAdded      string    `json:"kev_added,omitempty"`
	KEVDue        string    `json:"kev_due,omitempty"`
	KEVRansomware string    `json:"kev_ransomware,omitempty"`
}

// RecordError is one record of a file that was refused.
type RecordError struct {
	Index int    `json:"index"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error"`
}

// ErrNotNVD and ErrNotKEV say a file is not what it was given as.
var (
	ErrNotNVD = errors.New("not an NVD CVE API 2.0 file (no \"vulnerabilities\" array of {\"cve\": …})")
	ErrNotKEV = errors.New("not a CISA KEV catalogue (no \"vulnerabilities\" array)")
)

// walkArray reads a JSON object from dec and calls fn with a decoder
// positioned at each element of its top-level array field name; other
// fields are skipped. It reports whether the field was found.
func walkArray(dec *json.Decoder, name string, fn func(i int) error) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return false, fmt.Errorf("offset %d: the file is not a JSON object", dec.InputOffset())
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return found, err
		}
		key, _ := tok.(string)
		if key != name {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return found, err
			}
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return found, err
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return found, fmt.Errorf("offset %d: %q is not an array", dec.InputOffset(), name)
		}
		found = true
		for i := 0; dec.More(); i++ {
			if err := fn(i); err != nil {
				return found, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return found, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return found, err
	}
	return found, nil
}

type nvdMetric struct {
	Type     string `json:"type"`
	CVSSData struct {
		Version      string  `json:"version"`
		VectorString string  `json:"vectorString"`
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
	} `json:"cvssData"`
}

type nvdItem struct {
	CVE *struct {
		ID           string `json:"id"`
		Published    string `json:"published"`
		LastModified string `json:"lastModified"`
		Descriptions []struct {
			Lang  string `json:"lang"`
			Value string `json:"value"`
		} `json:"descriptions"`
		Metrics struct {
			V31 []nvdMetric `json:"cvssMetricV31"`
			V30 []nvdMetric `json:"cvssMetricV30"`
		} `json:"metrics"`
	} `json:"cve"`
}

// nvdTime reads NVD's timestamps ("2023-02-08T18:15:11.523", UTC without
// a zone; RFC 3339 also accepted).
func nvdTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

const maxCVEText = 20000

// ParseNVD reads an NVD CVE API 2.0 JSON document as a stream and calls fn
// for each CVE; a record that cannot be read goes to bad (and the rest
// continue). The CVSS metrics are v3.1's (v3.0's when there is none), the
// primary source's first.
func ParseNVD(r io.Reader, fn func(CVE) error, bad func(RecordError)) error {
	dec := json.NewDecoder(r)
	found, err := walkArray(dec, "vulnerabilities", func(i int) error {
		var it nvdItem
		if err := dec.Decode(&it); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
				return err
			}
			bad(RecordError{Index: i, Error: err.Error()})
			return nil
		}
		if it.CVE == nil {
			if i == 0 {
				return ErrNotNVD // another kind of file (the KEV catalogue…)
			}
			bad(RecordError{Index: i, Error: "no cve object"})
			return nil
		}
		c := CVE{InNVD: true}
		id, ok := NormaliseCVE(it.CVE.ID)
		if !ok {
			bad(RecordError{Index: i, ID: it.CVE.ID, Error: "bad CVE id"})
			return nil
		}
		c.ID = id
		var err error
		if c.Published, err = nvdTime(it.CVE.Published); err != nil {
			bad(RecordError{Index: i, ID: id, Error: "published: " + err.Error()})
			return nil
		}
		if c.Modified, err = nvdTime(it.CVE.LastModified); err != nil {
			bad(RecordError{Index: i, ID: id, Error: "lastModified: " + err.Error()})
			return nil
		}
		for _, d := range it.CVE.Descriptions {
			if d.Lang == "en" || c.Description == "" {
				c.Description = d.Value
			}
		}
		c.Description = clip(c.Description, maxCVEText)
		metrics := it.CVE.Metrics.V31
		if len(metrics) == 0 {
			metrics = it.CVE.Metrics.V30
		}
		var m *nvdMetric
		for i := range metrics {
			if m == nil || metrics[i].Type == "Primary" && m.Type != "Primary" {
				m = &metrics[i]
			}
		}
		if m != nil {
			sc := m.CVSSData.BaseScore
			if math.IsNaN(sc) || sc < 0 || sc > 10 {
				bad(RecordError{Index: i, ID: id, Error: fmt.Sprintf("CVSS base score %v out of 0–10", sc)})
				return nil
			}
			c.Score, c.Severity, c.Vector = sc, strings.ToUpper(clip(m.CVSSData.BaseSeverity, 20)), clip(m.CVSSData.VectorString, 200)
		}
		return fn(c)
	})
	if err != nil {
		return fmt.Errorf("offset %d: %w", dec.InputOffset(), err)
	}
	if !found {
		return ErrNotNVD
	}
	return nil
}

type kevItem struct {
	CVEID              string `json:"cveID"`
	VendorProject      string `json:"vendorProject"`
	Product            string `json:"product"`
	VulnerabilityName  string `json:"vulnerabilityName"`
	DateAdded          string `json:"dateAdded"`
	ShortDescription   string `json:"shortDescription"`
	RequiredAction     string `json:"requiredAction"`
	DueDate            string `json:"dueDate"`
	KnownRansomwareUse string `json:"knownRansomwareCampaignUse"`
}

// ParseKEV reads the CISA KEV catalogue as a stream and calls fn for each
// listed CVE (KEV set, with its name, required action, dates and
// ransomware use); a record that cannot be read goes to bad.
func ParseKEV(r io.Reader, fn func(CVE) error, bad func(RecordError)) error {
	dec := json.NewDecoder(r)
	found, err := walkArray(dec, "vulnerabilities", func(i int) error {
		var it kevItem
		if err := dec.Decode(&it); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
				return err
			}
			bad(RecordError{Index: i, Error: err.Error()})
			return nil
		}
		if i == 0 && it.CVEID == "" {
			return ErrNotKEV
		}
		id, ok := NormaliseCVE(it.CVEID)
		if !ok {
			bad(RecordError{Index: i, ID: it.CVEID, Error: "bad CVE id"})
			return nil
		}
		for _, d := range []string{it.DateAdded, it.DueDate} {
			if d == "" {
				continue
			}
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				bad(RecordError{Index: i, ID: id, Error: fmt.Sprintf("bad date %q", d)})
				return nil
			}
		}
		name := it.VulnerabilityName
		if name == "" {
			name = strings.TrimSpace(it.VendorProject + " " + it.Product)
		}
		return fn(CVE{ID: id, KEV: true, Description: clip(it.ShortDescription, maxCVEText), KEVName: clip(name, 500),
			KEVAction: clip(it.RequiredAction, maxCVEText), KEVAdded: it.DateAdded, KEVDue: it.DueDate, KEVRansomware: clip(it.KnownRansomwareUse, 50)})
	})
	if err != nil {
		return fmt.Errorf("offset %d: %w", dec.InputOffset(), err)
	}
	if !found {
		return ErrNotKEV
	}
	return nil
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// CVEImportResult is the outcome of an NVD or KEV import.
type CVEImportResult struct {
	Format   string        `json:"format"` // nvd, kev
	Total    int           `json:"total"`
	Accepted int           `json:"accepted"`
	Rejected int           `json:"rejected"`
	Errors   []RecordError `json:"errors"`
}

// cveBatch is how many records one transaction writes.
const cveBatch = 500

// ImportNVD loads an NVD CVE API 2.0 JSON file into the CVE table (a CVE
// already known is updated; its KEV flag stays). progress, when not nil,
// is called with the records read so far.
func (s *Service) ImportNVD(ctx context.Context, a policy.Actor, r io.Reader, progress func(int)) (CVEImportResult, error) {
	return s.importCVEs(ctx, a, "nvd", r, progress, ParseNVD, `INSERT INTO cves (id, description, cvss_score, cvss_severity, cvss_vector,
		published, modified, in_nvd, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, TRUE, ?)
		ON CONFLICT (id) DO UPDATE SET description = excluded.description, cvss_score = excluded.cvss_score,
		cvss_severity = excluded.cvss_severity, cvss_vector = excluded.cvss_vector, published = excluded.published,
		modified = excluded.modified, in_nvd = TRUE, updated_at = excluded.updated_at`,
		func(c CVE, now time.Time) []any {
			var score any
			if c.Vector != "" {
				score = c.Score
			}
			return []any{c.ID, c.Description, score, c.Severity, c.Vector, store.NullTime(c.Published), store.NullTime(c.Modified), now}
		})
}

// ImportKEV loads the CISA KEV catalogue into the CVE table: each listed
// CVE is flagged known exploited (with its due date); its description is
// kept from NVD when NVD gave one.
func (s *Service) ImportKEV(ctx context.Context, a policy.Actor, r io.Reader, progress func(int)) (CVEImportResult, error) {
	return s.importCVEs(ctx, a, "kev", r, progress, ParseKEV, `INSERT INTO cves (id, description, kev, kev_name, kev_action, kev_added,
		kev_due, kev_ransomware, updated_at) VALUES (?, ?, TRUE, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kev = TRUE, kev_name = excluded.kev_name, kev_action = excluded.kev_action,
		kev_added = excluded.kev_added, kev_due = excluded.kev_due, kev_ransomware = excluded.kev_ransomware,
		description = CASE WHEN cves.in_nvd AND cves.description <> '' THEN cves.description ELSE excluded.description END,
		updated_at = excluded.updated_at`,
		func(c CVE, now time.Time) []any {
			return []any{c.ID, c.Description, c.KEVName, c.KEVAction, c.KEVAdded, c.KEVDue, c.KEVRansomware, now}
		})
}

func (s *Service) importCVEs(ctx context.Context, a policy.Actor, format string, r io.Reader, progress func(int),
	parse func(io.Reader, func(CVE) error, func(RecordError)) error, upsert string, args func(CVE, time.Time) []any) (CVEImportResult, error) {
	op := "cve: import " + format
	if err := policy.Check(a, policy.CVEImport, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPClear}); err != nil {
		return CVEImportResult{}, err
	}
	now := s.stamp()
	res := CVEImportResult{Format: format, Errors: []RecordError{}}
	var batch []CVE
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range batch {
				if _, err := tx.Exec(ctx, upsert, args(c, now)...); err != nil {
					return fmt.Errorf("%s: %w", c.ID, err)
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	bad := func(e RecordError) {
		res.Total++
		res.Rejected++
		if len(res.Errors) < MaxImportErrors {
			res.Errors = append(res.Errors, e)
		}
	}
	// An error of the store or the context stops the parser; anything
	// else the parser returns is the file's fault.
	var sinkErr error
	err := parse(r, func(c CVE) error {
		if sinkErr = ctx.Err(); sinkErr != nil {
			return sinkErr
		}
		res.Total++
		res.Accepted++
		batch = append(batch, c)
		if progress != nil {
			progress(res.Total)
		}
		if len(batch) >= cveBatch {
			sinkErr = flush()
		}
		return sinkErr
	}, bad)
	if sinkErr != nil {
		return res, errs.Ensure(op, sinkErr)
	}
	if err != nil {
		return res, errs.Invalid(op).Field("file", "intel.cve.err.file", err.Error())
	}
	if err := flush(); err != nil {
		return res, errs.Ensure(op, err)
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "cve.import", Entity: "cve", EntityID: format,
			After: map[string]any{"total": res.Total, "accepted": res.Accepted, "rejected": res.Rejected}})
	})
	return res, errs.Ensure(op, err)
}

// CVEInfo returns what is known of the CVE ids (those unknown are left
// out). CVE data is public reference data: any signed-in actor reads it.
func (s *Service) CVEInfo(ctx context.Context, a policy.Actor, ids []string) (map[string]CVE, error) {
	const op = "cve: read"
	if !a.System && a.UserID == 0 && a.OrgID == 0 {
		return nil, errs.Unauthenticated(op, "")
	}
	out := make(map[string]CVE, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.DB.Query(ctx, `SELECT id, description, cvss_score, cvss_severity, cvss_vector, published, modified, in_nvd, kev,
		kev_name, kev_action, kev_added, kev_due, kev_ransomware FROM cves WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CVE
		var score sql.NullFloat64
		var pub, mod sql.NullTime
		if err := rows.Scan(&c.ID, &c.Description, &score, &c.Severity, &c.Vector, &pub, &mod, &c.InNVD, &c.KEV, &c.KEVName, &c.KEVAction,
			&c.KEVAdded, &c.KEVDue, &c.KEVRansomware); err != nil {
			return nil, errs.Internal(op, err)
		}
		c.Score, c.Published, c.Modified = score.Float64, store.TimeOf(pub), store.TimeOf(mod)
		out[c.ID] = c
	}
	return out, errs.Ensure(op, rows.Err())
}
