package infosys

import (
	"context"
	"database/sql"
	"io"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Finding states: open → in progress → fixed, accepted risk or false
// positive (each with a note, who and when). A fixed finding seen again in
// a later scan is open again; accepted and false-positive ones stay so.
const (
	FindingOpen          = "open"
	FindingInProgress    = "in_progress"
	FindingFixed         = "fixed"
	FindingAccepted      = "accepted"
	FindingFalsePositive = "false_positive"
)

// FindingStates lists the states of a finding.
var FindingStates = []string{FindingOpen, FindingInProgress, FindingFixed, FindingAccepted, FindingFalsePositive}

// findingNext says which states each state may move to.
var findingNext = map[string][]string{
	FindingOpen:          {FindingInProgress, FindingFixed, FindingAccepted, FindingFalsePositive},
	FindingInProgress:    {FindingOpen, FindingFixed, FindingAccepted, FindingFalsePositive},
	FindingFixed:         {FindingOpen},
	FindingAccepted:      {FindingOpen},
	FindingFalsePositive: {FindingOpen},
}

// Finding is one vulnerability of a system, from scan reports.
type Finding struct {
	ID          int64     `json:"id"`
	SystemID    int64     `json:"system_id"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Name        string    `json:"name"`
	CVE         string    `json:"cve,omitempty"`
	Severity    string    `json:"severity"`
	CVSS        *float64  `json:"cvss,omitempty"`
	Description string    `json:"description,omitempty"`
	Solution    string    `json:"solution,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Status      string    `json:"status"`
	StatusNote  string    `json:"status_note,omitempty"`
	StatusBy    int64     `json:"status_by,omitempty"`
	StatusAt    time.Time `json:"status_at"`
}

// ScanImport is the outcome of importing a scan report.
type ScanImport struct {
	SystemID   int64      `json:"system_id"`
	Added      int        `json:"added"`
	Updated    int        `json:"updated"`
	Reopened   int        `json:"reopened"`
	Errors     []RowError `json:"errors,omitempty"`
	ActivityID int64      `json:"activity_id"`
}

const findingCols = "id, system_id, host, port, name, cve, severity, cvss, description, solution, first_seen, last_seen, status, status_note, status_by, status_at"

func scanFinding(r interface{ Scan(...any) error }) (Finding, error) {
	var f Finding
	var cvss sql.NullFloat64
	var by sql.NullInt64
	err := r.Scan(&f.ID, &f.SystemID, &f.Host, &f.Port, &f.Name, &f.CVE, &f.Severity, &cvss, &f.Description, &f.Solution,
		&f.FirstSeen, &f.LastSeen, &f.Status, &f.StatusNote, &by, &f.StatusAt)
	if cvss.Valid {
		f.CVSS = &cvss.Float64
	}
	f.StatusBy = by.Int64
	f.FirstSeen, f.LastSeen, f.StatusAt = f.FirstSeen.UTC(), f.LastSeen.UTC(), f.StatusAt.UTC()
	return f, err
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// ImportFindings imports a scan report (FormatCSV or FormatJSON) for a
// system: valid rows are added or, seen before on the same host, port and
// CVE (or name), update their finding; refused rows come back with their
// line; a broken file is refused whole and nothing is written. The import
// records itself as a scan activity (done when the latest finding was
// detected, or now), which moves the scan schedule.
func (s *Service) ImportFindings(ctx context.Context, a policy.Actor, systemID int64, format string, r io.Reader) (ScanImport, error) {
	const op = "infosys: import findings"
	out := ScanImport{SystemID: systemID}
	rows, bad, perr := ParseScanReport(format, r)
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		sys, err := getSystem(ctx, tx, systemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		if perr != nil {
			v := errs.Invalid(op)
			v.Field("file", "infosys.err.scan_file", strings.TrimPrefix(perr.Error(), ErrBrokenReport.Error()+": "))
			return v
		}
		done := time.Time{}
		for i := range rows {
			if rows[i].DetectedAt.After(now) {
				bad = append(bad, RowError{Line: rows[i].Line, Field: "detected_at", Msg: "infosys.err.date"})
				rows[i].Line = -1
				continue
			}
			if rows[i].DetectedAt.After(done) {
				done = rows[i].DetectedAt
			}
		}
		if done.IsZero() {
			done = now
		}
		seen := map[string]bool{}
		for _, row := range rows {
			if row.Line < 0 {
				continue
			}
			key := findingKey(row)
			if seen[key] {
				continue // the same finding twice in one report
			}
			seen[key] = true
			at := row.DetectedAt
			if at.IsZero() {
				at = done
			}
			var id int64
			var status string
			var last time.Time
			err := tx.QueryRow(ctx, "SELECT id, status, last_seen FROM infosys_findings WHERE system_id = ? AND fkey = ?", systemID, key).Scan(&id, &status, &last)
			switch {
			case store.IsNoRows(err):
				if err := tx.QueryRow(ctx, `INSERT INTO infosys_findings (system_id, fkey, host, port, name, cve, severity, cvss, description, solution,
first_seen, last_seen, status, status_note, status_by, status_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?) RETURNING id`,
					systemID, key, row.Host, row.Port, row.Name, row.CVE, row.Severity, nullFloat(row.CVSS), row.Description, row.Solution,
					at, at, FindingOpen, store.NullID(a.UserID), now, now).Scan(&id); err != nil {
					return err
				}
				out.Added++
			case err != nil:
				return err
			default:
				if at.Before(last.UTC()) {
					at = last.UTC()
				}
				reopen := status == FindingFixed
				q := "UPDATE infosys_findings SET name = ?, severity = ?, cvss = ?, description = ?, solution = ?, last_seen = ?"
				args := []any{row.Name, row.Severity, nullFloat(row.CVSS), row.Description, row.Solution, at}
				if reopen {
					q += ", status = ?, status_note = ?, status_by = ?, status_at = ?"
					args = append(args, FindingOpen, "", store.NullID(a.UserID), now)
					out.Reopened++
				} else {
					out.Updated++
				}
				if _, err := tx.Exec(ctx, q+" WHERE id = ?", append(args, id)...); err != nil {
					return err
				}
			}
		}
		if err := tx.QueryRow(ctx, "INSERT INTO infosys_activities (system_id, kind, done_on, performer, note, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			systemID, KindScan, done, a.Username, "import", now).Scan(&out.ActivityID); err != nil {
			return err
		}
		slices.SortStableFunc(bad, func(x, y RowError) int { return x.Line - y.Line })
		out.Errors = bad
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.findings.import", "infosys_system", systemID, nil,
			map[string]any{"added": out.Added, "updated": out.Updated, "reopened": out.Reopened, "refused": len(bad), "activity_id": out.ActivityID})
	})
	if err != nil {
		return ScanImport{}, err
	}
	return out, nil
}

// Findings lists a system's findings, worst and newest first; status, when
// not empty, keeps only those in that state.
func (s *Service) Findings(ctx context.Context, a policy.Actor, systemID int64, status string) ([]Finding, error) {
	const op = "infosys: findings"
	sys, err := getSystem(ctx, s.DB, systemID)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return nil, err
	}
	q, args := "SELECT "+findingCols+" FROM infosys_findings WHERE system_id = ?", []any{systemID}
	if status != "" {
		if !slices.Contains(FindingStates, status) {
			return nil, errs.Invalid(op).Field("status", "field.invalid_choice").OrNil()
		}
		q += " AND status = ?"
		args = append(args, status)
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, last_seen DESC, id", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// OpenFindings counts a system's open (open or in progress) findings by
// severity.
func (s *Service) OpenFindings(ctx context.Context, a policy.Actor, systemID int64) (map[string]int, error) {
	const op = "infosys: open findings"
	sys, err := getSystem(ctx, s.DB, systemID)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	if err := check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT severity, COUNT(*) FROM infosys_findings WHERE system_id = ? AND status IN (?, ?) GROUP BY severity",
		systemID, FindingOpen, FindingInProgress)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sev string
		var n int
		if err := rows.Scan(&sev, &n); err != nil {
			return nil, errs.Internal(op, err)
		}
		out[sev] = n
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// SetFindingStatus moves a finding to status with a note (required to
// accept a risk or call it a false positive), recording who and when.
func (s *Service) SetFindingStatus(ctx context.Context, a policy.Actor, id int64, status, note string) (Finding, error) {
	const op = "infosys: finding status"
	var f Finding
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		var err error
		f, err = scanFinding(tx.QueryRow(ctx, "SELECT "+findingCols+" FROM infosys_findings WHERE id = ?", id))
		if store.IsNoRows(err) {
			return errs.NotFound("infosys_finding")
		}
		if err != nil {
			return err
		}
		sys, err := getSystem(ctx, tx, f.SystemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if !slices.Contains(FindingStates, status) {
			v.Field("status", "field.invalid_choice")
		} else if !slices.Contains(findingNext[f.Status], status) {
			v.Field("status", "infosys.err.finding_transition", f.Status, status)
		}
		text(v, "note", note, maxText, status == FindingAccepted || status == FindingFalsePositive)
		if err := v.OrNil(); err != nil {
			return err
		}
		before := f
		f.Status, f.StatusNote, f.StatusBy, f.StatusAt = status, strings.TrimSpace(note), a.UserID, now
		if _, err := tx.Exec(ctx, "UPDATE infosys_findings SET status = ?, status_note = ?, status_by = ?, status_at = ? WHERE id = ?",
			f.Status, f.StatusNote, store.NullID(a.UserID), now, id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.finding.status", "infosys_finding", id, before, f)
	})
	if err != nil {
		return Finding{}, err
	}
	return f, nil
}
