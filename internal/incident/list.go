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
	// case and diacritics: every word must appear, the last one as a word
	// or the start of one (what is still being typed). With the default
	// sort, the newest incidents (last created) come first.
	Q      string
	Limit  int
	Offset int
	// Sort: "reported_desc" (default), "reported_asc", "detected_desc",
	// "updated_desc", "due_asc".
	Sort string
	// ExerciseID: 0 lists real incidents only (exercise ones are left
	// out); an exercise's id lists that exercise's incidents only.
	ExerciseID int64
	// Exercises: every exercise's incidents (the drills' view), no real
	// one; ExerciseID narrows it to one.
	Exercises bool
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

// CountCap bounds how far past the page's start List counts: the total it
// returns is at most Offset+CountCap+1, which the list shows as "N+"
// (CountMore), so that no page counts a million rows yet every page has a
// next one while more match. Counting further costs a row lookup per
// incident: at 1 000 000 incidents, 10 000 of them took 90–170 ms on
// SQLite, 1 000 take 10–20 ms (certnet bench incidents).
const CountCap = 1000

// CountMore reports whether total, as List returned it for a page at
// offset, stopped at the cap: the list shows offset+CountCap "+".
func CountMore(total, offset int) bool { return total > offset+CountCap }

// maxWords bounds the words of a search.
const maxWords = 16

// refQuery recognises a whole reference (SC-2026-000123), looked up exactly.
var refQuery = regexp.MustCompile(`^(?i)sc-\d{4}-\d{6}$`)

// ftsQuery is the full-text query for q: each word of q, folded, must
// appear; a word cut by punctuation (an address, a domain) is a phrase of
// its parts, and the last part of the last word may be the start of a
// longer one — only that one, since a short prefix such as "ma" expands to
// every word it starts and made a search of four words take ten times as
// long at 1 000 000 incidents. A whole reference is found by the unique
// index instead (ref set). Blank q gives "" and no ref; q with only
// punctuation gives none = true (nothing can match).
func ftsQuery(engine store.Engine, q string) (match, ref string, none bool) {
	q = strings.TrimSpace(q)
	if refQuery.MatchString(q) {
		return "", strings.ToUpper(q), false
	}
	var phrases [][]string
	for _, w := range strings.Fields(fold(q)) {
		if parts := strings.Fields(searchWords(w)); len(parts) > 0 {
			phrases = append(phrases, parts)
		}
	}
	if len(phrases) == 0 {
		return "", "", q != ""
	}
	if len(phrases) > maxWords {
		phrases = phrases[:maxWords]
	}
	terms := make([]string, len(phrases))
	last := len(phrases) - 1
	if engine == store.Postgres {
		for i, p := range phrases {
			terms[i] = strings.Join(p, " <-> ")
		}
		terms[last] += ":*"
		return strings.Join(terms, " & "), "", false
	}
	for i, p := range phrases {
		terms[i] = `"` + strings.Join(p, " ") + `"`
	}
	terms[last] += "*"
	return strings.Join(terms, " "), "", false
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
	if f.ExerciseID != 0 {
		add("i.exercise_id = ?", f.ExerciseID)
	} else if f.Exercises {
		add("i.exercise_id IS NOT NULL")
	} else {
		// "+" keeps SQLite off the exercise_id index: IS NULL counts as
		// an equality there, and walking the index over every real
		// incident made a list page take 800 ms at 1 000 000 incidents.
		add("+i.exercise_id IS NULL")
	}
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
	from := "incidents i"
	engine := s.DB.Dialect()
	switch match, ref, none := ftsQuery(engine, f.Q); {
	case none:
		add("1=0")
	case ref != "":
		add("i.ref = ?", ref)
	case match == "":
	case engine == store.Postgres:
		add("to_tsvector('simple', i.search_text) @@ to_tsquery('simple', ?)", match)
		if f.Sort == "" {
			order = "i.id DESC"
		}
	case f.Sort == "":
		// The full-text index drives the query newest first and stops at
		// the page: sorting every match by date took close to a second
		// for a common word at 1 000 000 incidents.
		from = "incidents_fts f JOIN incidents i ON i.id = f.rowid"
		add("incidents_fts MATCH ?", match)
		order = "f.rowid DESC"
	default:
		add("i.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)", match)
	}
	w := strings.Join(where, " AND ")
	// The page first: a first page that is not full is the whole answer,
	// and the count (capped at CountCap past the page) is not needed.
	rows, err := s.DB.Query(ctx, "SELECT "+incCols+" FROM "+from+" WHERE "+w+" ORDER BY "+order+" LIMIT ? OFFSET ?",
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
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+from+" WHERE "+w+" LIMIT ?) c",
			append(slices.Clip(args), f.Offset+CountCap+1)...).Scan(&total); err != nil {
			return nil, 0, errs.Internal(op, err)
		}
	}
	total -= hidden
	return out, total, nil
}
