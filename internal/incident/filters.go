package incident

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// The incident list's query string and the filters people save from it.

// QueryKeys are the parameters of the incident list's query string, in
// the order a saved query writes them.
var QueryKeys = []string{"q", "status", "type", "severity", "class", "rsit", "province", "sector",
	"from", "to", "dfrom", "dto", "overdue"}

// maxQueryLen bounds a saved query string.
const maxQueryLen = 2000

// ParseQuery reads the incident list's query string (what the list page
// puts in its URL: status, type, severity, class, rsit, province, sector,
// q, from/to and dfrom/dto as YYYY-MM-DD in Vietnam time with the last day
// included, overdue=1) into a Filter. A value that does not read is named
// in errs.Invalid; other parameters (page) are left to the caller.
func ParseQuery(v url.Values) (Filter, error) {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := Filter{Status: Status(get("status")), Type: Type(get("type")), Severity: Severity(get("severity")),
		Class: Class(get("class")), RSITClass: get("rsit"), ProvinceCode: get("province"), Sector: get("sector"),
		Q: get("q")}
	e := errs.Invalid("incident: list query")
	if f.Status != "" && !f.Status.Valid() {
		e.Field("status", "field.invalid_choice")
	}
	if f.Type != "" && !f.Type.Valid() {
		e.Field("type", "field.invalid_choice")
	}
	if f.Severity != "" && !f.Severity.Valid() {
		e.Field("severity", "field.invalid_choice")
	}
	if f.Class != "" && f.Class != ClassOrdinary && f.Class != ClassSerious {
		e.Field("class", "field.invalid_choice")
	}
	if f.RSITClass != "" && !slices.Contains(RSITClasses(), f.RSITClass) {
		e.Field("rsit", "field.invalid_choice")
	}
	switch get("overdue") {
	case "":
	case "1":
		f.Overdue = true
	default:
		e.Field("overdue", "field.invalid")
	}
	// exercise: "" real incidents only, "all" every exercise's, an id one
	// exercise's.
	switch x := get("exercise"); x {
	case "":
	case "all":
		f.Exercises = true
	default:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n <= 0 {
			e.Field("exercise", "field.invalid")
		}
		f.ExerciseID = n
	}
	day := func(field string, next bool) time.Time {
		s := get(field)
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, s, i18n.Zone)
		if err != nil || t.Year() < 1990 || t.Year() > 2200 {
			e.Field(field, "incsearch.err.date")
			return time.Time{}
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	f.From, f.To = day("from", false), day("to", true)
	f.DetectedFrom, f.DetectedTo = day("dfrom", false), day("dto", true)
	return f, e.OrNil()
}

// SavedFilter is a named query string of the incident list, kept by a
// user and optionally shared with their organisation.
type SavedFilter struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	OrgID     int64     `json:"org_id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	Shared    bool      `json:"shared"`
	CreatedAt time.Time `json:"created_at"`
	// Mine: the reader saved it.
	Mine bool `json:"mine"`
}

// Resource is the saved filter as a policy resource: the creator's alone
// (RED) until shared with the organisation (AMBER+STRICT).
func (sf SavedFilter) Resource() policy.Resource {
	r := policy.Resource{OwnerOrg: sf.OrgID, TLP: policy.TLPRed, CreatedBy: sf.UserID, Subject: sf.UserID}
	if sf.Shared {
		r.TLP = policy.TLPAmberStrict
	}
	return r
}

// maxFilterName bounds a saved filter's name (characters).
const maxFilterName = 80

// normalizeQuery checks a list query string with the list's own parser and
// writes it again in a fixed form: the known parameters, in QueryKeys
// order, without the page.
func normalizeQuery(v *errs.Error, raw string) string {
	raw = strings.TrimPrefix(strings.TrimSpace(raw), "?")
	if len(raw) > maxQueryLen {
		v.Field("query", "field.too_long", maxQueryLen)
		return ""
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		v.Field("query", "incfilter.err.query")
		return ""
	}
	for k, xs := range vals {
		if k != "page" && !slices.Contains(QueryKeys, k) {
			v.Field("query", "incfilter.err.param", k)
			return ""
		}
		for _, x := range xs {
			if !utf8.ValidString(x) {
				v.Field("query", "incfilter.err.value", k)
				return ""
			}
		}
	}
	if _, err := ParseQuery(vals); err != nil {
		var bad []string
		if e, ok := errs.As(err); ok {
			for field := range e.Fields {
				bad = append(bad, field)
			}
		}
		slices.Sort(bad)
		v.Field("query", "incfilter.err.value", strings.Join(bad, ", "))
		return ""
	}
	out := url.Values{}
	for _, k := range QueryKeys {
		if s := strings.TrimSpace(vals.Get(k)); s != "" {
			out.Set(k, s)
		}
	}
	// url.Values.Encode sorts the keys: the fixed form is that order.
	return out.Encode()
}

func checkFilterName(v *errs.Error, name string) {
	switch {
	case name == "":
		v.Field("name", "field.required")
	case !utf8.ValidString(name):
		v.Field("name", "field.invalid")
	case utf8.RuneCountInString(name) > maxFilterName:
		v.Field("name", "field.too_long", maxFilterName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		v.Field("name", "incident.err.control_chars")
	}
}

const filterCols = "id, user_id, org_id, name, query, shared, created_at"

func scanFilter(sc scanner, a policy.Actor) (SavedFilter, error) {
	var sf SavedFilter
	err := sc.Scan(&sf.ID, &sf.UserID, &sf.OrgID, &sf.Name, &sf.Query, &sf.Shared, &sf.CreatedAt)
	sf.CreatedAt = sf.CreatedAt.UTC()
	sf.Mine = a.UserID != 0 && sf.UserID == a.UserID
	return sf, err
}

// nameTaken reports whether the user already has a filter of that name
// (other than id).
func nameTaken(ctx context.Context, q store.Q, userID int64, name string, id int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM incident_saved_filters WHERE user_id = ? AND name = ? AND id <> ?",
		userID, name, id).Scan(&n)
	return n > 0, err
}

// SaveFilter keeps the list's query string under a name, for the actor
// alone or shared with their organisation. The query is checked with the
// list's parser (a bad filter is refused) and stored in a fixed form; the
// name (1–80 characters) is unique among the actor's filters.
func (s *Service) SaveFilter(ctx context.Context, a policy.Actor, name, query string, shared bool) (SavedFilter, error) {
	const op = "incident: save filter"
	sf := SavedFilter{UserID: a.UserID, OrgID: a.OrgID, Name: strings.TrimSpace(name), Shared: shared, Mine: true}
	if err := policy.Check(a, policy.IncidentFilterWrite, sf.Resource()); err != nil {
		return SavedFilter{}, err
	}
	if a.UserID == 0 || a.OrgID == 0 {
		return SavedFilter{}, forbidden(op, "incfilter.err.no_user")
	}
	v := errs.Invalid(op)
	checkFilterName(v, sf.Name)
	sf.Query = normalizeQuery(v, query)
	if err := v.OrNil(); err != nil {
		return SavedFilter{}, err
	}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		if taken, err := nameTaken(ctx, tx, sf.UserID, sf.Name, 0); err != nil {
			return err
		} else if taken {
			return errs.Invalid(op).Field("name", "incfilter.err.name_taken")
		}
		sf.CreatedAt = now
		err := tx.QueryRow(ctx, `INSERT INTO incident_saved_filters (user_id, org_id, name, query, shared, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, sf.UserID, sf.OrgID, sf.Name, sf.Query, sf.Shared, now).Scan(&sf.ID)
		if store.IsUniqueViolation(err) {
			return errs.Invalid(op).Field("name", "incfilter.err.name_taken")
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: sf.OrgID, Action: "incident.filter.save",
			Entity: "incident_filter", EntityID: strconv.FormatInt(sf.ID, 10), After: sf})
	})
	if err != nil {
		return SavedFilter{}, errs.Ensure(op, err)
	}
	return sf, nil
}

// Filters lists the actor's saved filters and those their organisation's
// people shared, by name.
func (s *Service) Filters(ctx context.Context, a policy.Actor) ([]SavedFilter, error) {
	const op = "incident: filters"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return nil, errs.Unauthenticated(op, "")
	}
	rows, err := s.DB.Query(ctx, "SELECT "+filterCols+` FROM incident_saved_filters
		WHERE user_id = ? OR (org_id = ? AND shared = ?) ORDER BY name, id`, a.UserID, a.OrgID, true)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []SavedFilter{}
	for rows.Next() {
		sf, err := scanFilter(rows, a)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		if policy.Check(a, policy.IncidentFilterRead, sf.Resource()) == nil {
			out = append(out, sf)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// filterFor reads a saved filter inside tx and checks that the actor may
// see it (NotFound otherwise).
func filterFor(ctx context.Context, tx *store.Tx, a policy.Actor, op string, id int64) (SavedFilter, error) {
	sf, err := scanFilter(tx.QueryRow(ctx, "SELECT "+filterCols+" FROM incident_saved_filters WHERE id = ?", id), a)
	if store.IsNoRows(err) {
		return sf, errs.NotFound(op)
	}
	if err != nil {
		return sf, err
	}
	return sf, policy.Check(a, policy.IncidentFilterRead, sf.Resource())
}

// RenameFilter renames one of the actor's own filters.
func (s *Service) RenameFilter(ctx context.Context, a policy.Actor, id int64, name string) (SavedFilter, error) {
	const op = "incident: rename filter"
	var out SavedFilter
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		sf, err := filterFor(ctx, tx, a, op, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.IncidentFilterWrite, sf.Resource()); err != nil {
			return err
		}
		before := sf
		sf.Name = strings.TrimSpace(name)
		v := errs.Invalid(op)
		checkFilterName(v, sf.Name)
		if err := v.OrNil(); err != nil {
			return err
		}
		if taken, err := nameTaken(ctx, tx, sf.UserID, sf.Name, sf.ID); err != nil {
			return err
		} else if taken {
			return errs.Invalid(op).Field("name", "incfilter.err.name_taken")
		}
		if _, err := tx.Exec(ctx, "UPDATE incident_saved_filters SET name = ? WHERE id = ?", sf.Name, sf.ID); err != nil {
			return err
		}
		out = sf
		return audit.Record(ctx, tx, s.stamp(), a, audit.Change{OrgID: sf.OrgID, Action: "incident.filter.rename",
			Entity: "incident_filter", EntityID: strconv.FormatInt(sf.ID, 10), Before: before, After: sf})
	})
	if err != nil {
		return SavedFilter{}, errs.Ensure(op, err)
	}
	return out, nil
}

// DeleteFilter deletes one of the actor's own filters, or (an
// administrator of the organisation) a filter another user shared with it.
func (s *Service) DeleteFilter(ctx context.Context, a policy.Actor, id int64) error {
	const op = "incident: delete filter"
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		sf, err := filterFor(ctx, tx, a, op, id)
		if err != nil {
			return err
		}
		act := policy.IncidentFilterWrite
		if !sf.Mine {
			act = policy.IncidentFilterManage
		}
		if err := policy.Check(a, act, sf.Resource()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM incident_saved_filters WHERE id = ?", sf.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.stamp(), a, audit.Change{OrgID: sf.OrgID, Action: "incident.filter.delete",
			Entity: "incident_filter", EntityID: strconv.FormatInt(sf.ID, 10), Before: sf})
	})
	return errs.Ensure(op, err)
}

// Filter returns one saved filter the actor may see (their own, or one
// shared with their organisation), for applying it.
func (s *Service) Filter(ctx context.Context, a policy.Actor, id int64) (SavedFilter, error) {
	const op = "incident: filter"
	sf, err := scanFilter(s.DB.QueryRow(ctx, "SELECT "+filterCols+" FROM incident_saved_filters WHERE id = ?", id), a)
	if store.IsNoRows(err) {
		return SavedFilter{}, errs.NotFound(op)
	}
	if err != nil {
		return SavedFilter{}, errs.Internal(op, err)
	}
	if err := policy.Check(a, policy.IncidentFilterRead, sf.Resource()); err != nil {
		return SavedFilter{}, err
	}
	return sf, nil
}

// Apply reads a saved filter's query as the list's Filter.
func (sf SavedFilter) Apply() (Filter, error) {
	vals, err := url.ParseQuery(sf.Query)
	if err != nil {
		return Filter{}, errs.Invalid("incident: saved filter").Field("query", "incfilter.err.query")
	}
	return ParseQuery(vals)
}
