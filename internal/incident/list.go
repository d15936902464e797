package incident

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Filter selects incidents for List. Zero fields do not filter.
type Filter struct {
	Status   Status
	Type     Type
	Severity Severity
	Class    Class
	// RSITClass: the RSIT class of the type (e.g. "availability").
	RSITClass string
	// OrgID: reported by or affecting this organisation.
	OrgID int64
	// AffectedOrgID, ReporterOrgID: the affected or reporting organisation.
	AffectedOrgID, ReporterOrgID int64
	// ProvinceCode: the affected organisation's province.
	ProvinceCode string
	// Sector: the affected organisation's critical sector.
	Sector string
	// From, To: reported at in [From, To).
	From, To time.Time
	// DetectedFrom, DetectedTo: detected at in [DetectedFrom, DetectedTo).
	DetectedFrom, DetectedTo time.Time
	// Overdue: an open legal deadline has passed.
	Overdue bool
	// Q searches reference, title, description, system name, addresses,
	// domains and organisation names through the full-text index, ignoring
	// case and diacritics: every word must appear, as a word or the start
	// of one.
	Q      string
	Limit  int
	Offset int
	// Sort: "reported_desc" (default), "reported_asc", "detected_desc",
	// "updated_desc", "due_asc".
	Sort string
}

var sorts = map[string]string{
	"":              "i.reported_at DESC, i.id DESC",
	"reported_desc": "i.reported_at DESC, i.id DESC",
	"reported_asc":  "i.reported_at, i.id",
	"detected_desc": "i.detected_at DESC, i.id DESC",
	"updated_desc":  "i.updated_at DESC, i.id DESC",
	"due_asc":       "CASE WHEN i.next_due_at IS NULL THEN 1 ELSE 0 END, i.next_due_at, i.id",
}

// MaxLimit is the largest page.
const MaxLimit = 500

// CountCap bounds the count List returns: past it, List returns
// CountCap+1 ("10 000+"), so that a page never counts a million rows.
const CountCap = 10000

// maxWords bounds the words of a search.
const maxWords = 16

// refQuery recognises a whole reference (SC-2026-000123), looked up exactly.
var refQuery = regexp.MustCompile(`^(?i)sc-\d{4}-\d{6}$`)

// ftsWhere is the full-text condition for q (nil when q is blank): each
// word of q, folded, must appear; a word cut by punctuation (an address,
// a domain) is a phrase of its parts, and the last part of every word may
// be the start of a longer one. A whole reference is found by the unique
// index instead.
func ftsWhere(engine store.Engine, q string) (string, []any) {
	q = strings.TrimSpace(q)
	if refQuery.MatchString(q) {
		return "i.ref = ?", []any{strings.ToUpper(q)}
	}
	var phrases [][]string
	for _, w := range strings.Fields(fold(q)) {
		if parts := strings.Fields(searchWords(w)); len(parts) > 0 {
			phrases = append(phrases, parts)
		}
	}
	if len(phrases) == 0 {
		if q != "" {
			return "1=0", nil // only punctuation: nothing can match
		}
		return "", nil
	}
	if len(phrases) > maxWords {
		phrases = phrases[:maxWords]
	}
	terms := make([]string, len(phrases))
	if engine == store.Postgres {
		for i, p := range phrases {
			terms[i] = strings.Join(p, " <-> ") + ":*"
		}
		return "to_tsvector('simple', i.search_text) @@ to_tsquery('simple', ?)", []any{strings.Join(terms, " & ")}
	}
	for i, p := range phrases {
		terms[i] = `"` + strings.Join(p, " ") + `"*`
	}
	return "i.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)", []any{strings.Join(terms, " ")}
}

// RSITClasses lists the RSIT classes the national types map to, in the
// order of Types, each once.
func RSITClasses() []string {
	var out []string
	for _, t := range Types {
		if c := t.RSIT().Class; !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func rsitTypes(class string) []string {
	var out []string
	for _, t := range Types {
		if t.RSIT().Class == class {
			out = append(out, "'"+string(t)+"'")
		}
	}
	return out
}

// visibleWhere is the SQL twin of checkVisible for IncidentRead: inside the
// actor's scope (either organisation), and the TLP label lets them see it.
// Each row is still checked with policy afterwards.
func visibleWhere(a policy.Actor) (string, []any) {
	if a.System {
		return "1=1", nil
	}
	if a.UserID == 0 && a.OrgID == 0 {
		return "1=0", nil
	}
	var conds []string
	var args []any
	if !a.Scope.All {
		ids := a.Scope.IDs()
		if len(ids) == 0 {
			return "1=0", nil
		}
		l := idList(ids)
		conds = append(conds, "(i.affected_org_id IN ("+l+") OR i.reporter_org_id IN ("+l+"))")
	}
	conds = append(conds, `(i.tlp IN ('CLEAR', 'GREEN', 'AMBER')
		OR (i.tlp = 'AMBER+STRICT' AND (i.affected_org_id = ? OR i.reporter_org_id = ?))
		OR (i.tlp = 'RED' AND i.reported_by = ?))`)
	args = append(args, a.OrgID, a.OrgID, a.UserID)
	return strings.Join(conds, " AND "), args
}

// List returns a page of the incidents the actor may see, and how many
// match in all. The filter runs in SQL (scope and TLP included); each row
// is then checked with policy.
func (s *Service) List(ctx context.Context, a policy.Actor, f Filter) ([]Incident, int, error) {
	const op = "incident: list"
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	order, ok := sorts[f.Sort]
	if !ok {
		return nil, 0, errs.Invalid(op).Field("sort", "field.invalid_choice")
	}
	cond, args := visibleWhere(a)
	where := []string{cond}
	add := func(c string, v ...any) { where = append(where, c); args = append(args, v...) }
	if f.Status != "" {
		add("i.status = ?", string(f.Status))
	}
	if f.Type != "" {
		add("i.type = ?", string(f.Type))
	}
	if f.Severity != "" {
		add("i.severity = ?", string(f.Severity))
	}
	if f.Class != "" {
		add("i.class = ?", string(f.Class))
	}
	if f.RSITClass != "" {
		ts := rsitTypes(f.RSITClass)
		if len(ts) == 0 {
			return nil, 0, errs.Invalid(op).Field("rsit", "field.invalid_choice")
		}
		add("i.type IN (" + strings.Join(ts, ",") + ")")
	}
	if f.AffectedOrgID != 0 {
		add("i.affected_org_id = ?", f.AffectedOrgID)
	}
	if f.ReporterOrgID != 0 {
		add("i.reporter_org_id = ?", f.ReporterOrgID)
	}
	if f.Sector != "" {
		add("i.affected_org_id IN (SELECT id FROM organisations WHERE sector = ?)", strings.TrimSpace(f.Sector))
	}
	if !f.DetectedFrom.IsZero() {
		add("i.detected_at >= ?", f.DetectedFrom.UTC())
	}
	if !f.DetectedTo.IsZero() {
		add("i.detected_at < ?", f.DetectedTo.UTC())
	}
	if f.OrgID != 0 {
		add("(i.affected_org_id = ? OR i.reporter_org_id = ?)", f.OrgID, f.OrgID)
	}
	if f.ProvinceCode != "" {
		add("i.affected_org_id IN (SELECT id FROM organisations WHERE province_code = ?)", strings.ToUpper(strings.TrimSpace(f.ProvinceCode)))
	}
	if !f.From.IsZero() {
		add("i.reported_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("i.reported_at < ?", f.To.UTC())
	}
	if f.Overdue {
		add("i.next_due_at IS NOT NULL AND i.next_due_at < ?", s.now())
	}
	if c, v := ftsWhere(s.DB.Dialect(), f.Q); c != "" {
		add(c, v...)
	}
	w := strings.Join(where, " AND ")
	// The page first: a first page that is not full is the whole answer,
	// and the count (capped at CountCap+1) is not needed.
	rows, err := s.DB.Query(ctx, "SELECT "+incCols+" FROM incidents i WHERE "+w+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(slices.Clip(args), f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Incident
	seen, hidden := 0, 0
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, 0, errs.Internal(op, err)
		}
		seen++
		if checkVisible(a, policy.IncidentRead, inc) != nil {
			hidden++
			continue
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	rows.Close()
	total := f.Offset + seen
	if seen == f.Limit || (seen == 0 && f.Offset > 0) {
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM incidents i WHERE "+w+" LIMIT ?) c",
			append(slices.Clip(args), CountCap+1)...).Scan(&total); err != nil {
			return nil, 0, errs.Internal(op, err)
		}
	}
	total -= hidden
	return out, total, nil
}
