package intel

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Advisories (cảnh báo): the national coordinator or a response unit warns
// organisations of its scope of a vulnerability, a campaign or a threat,
// with what to do and by when; every recipient acknowledges and reports
// whether it remediated, is not affected or is still working on it.

// Severities of an advisory, least to most severe.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Severities lists the severities in order.
var Severities = []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// States of an advisory.
const (
	AdvisoryDraft     = "draft"
	AdvisoryPublished = "published"
	AdvisoryClosed    = "closed"
)

// AdvisoryStatuses lists the states in order.
var AdvisoryStatuses = []string{AdvisoryDraft, AdvisoryPublished, AdvisoryClosed}

// AdvisoryAckPeriod is how long a recipient has to acknowledge an
// advisory; a reminder goes out when it ends and the recipient's response
// unit is told one more period later.
const AdvisoryAckPeriod = 24 * time.Hour

// Notification kinds of advisories.
const (
	KindAdvisoryPublished = "advisory.published"
	KindAdvisoryReminder  = "advisory.reminder"
	KindAdvisoryEscalated = "advisory.escalated"
	KindAdvisoryAnswered  = "advisory.answered"
)

func init() {
	notify.RegisterKind(KindAdvisoryPublished, "intel.adv.kind.published")
	notify.RegisterKind(KindAdvisoryReminder, "intel.adv.kind.reminder")
	notify.RegisterKind(KindAdvisoryEscalated, "intel.adv.kind.escalated")
	notify.RegisterKind(KindAdvisoryAnswered, "intel.adv.kind.answered")
}

// Limits of an advisory's fields.
const (
	maxAdvTitle    = 300
	maxAdvSummary  = 2000
	maxAdvBody     = 50000
	maxAdvActions  = 10000
	maxAdvCVEs     = 100
	maxAdvProducts = 100
	maxAdvLinks    = 500
	maxProductText = 200
)

// Product is an affected product.
type Product struct {
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
	Version string `json:"version,omitempty"`
}

// Targeting says who receives an advisory; it is resolved at publish into
// one recipient per organisation (the union of every part, inside the
// publisher's scope, active organisations only, the publisher itself not
// included unless named).
type Targeting struct {
	// All: the whole network (of the publisher's scope).
	All       bool     `json:"all,omitempty"`
	Sectors   []string `json:"sectors,omitempty"`   // org.Sector values
	Regions   []string `json:"regions,omitempty"`   // north, central, south
	Provinces []string `json:"provinces,omitempty"` // province codes
	Clusters  []int64  `json:"clusters,omitempty"`  // cluster ids
	Roles     []string `json:"roles,omitempty"`     // org.Role values
	Orgs      []int64  `json:"orgs,omitempty"`      // named organisations
	// Ranges: the organisations whose IP ranges (or domains) hold the
	// advisory's address and domain indicators (the whois index).
	Ranges bool `json:"ranges,omitempty"`
}

// Empty reports whether the targeting names nobody.
func (t Targeting) Empty() bool {
	return !t.All && !t.Ranges && len(t.Sectors)+len(t.Regions)+len(t.Provinces)+len(t.Clusters)+len(t.Roles)+len(t.Orgs) == 0
}

// OnlyNamed reports whether the targeting is named organisations only.
func (t Targeting) OnlyNamed() bool {
	return !t.All && !t.Ranges && len(t.Sectors)+len(t.Regions)+len(t.Provinces)+len(t.Clusters)+len(t.Roles) == 0
}

// Advisory is an advisory.
type Advisory struct {
	ID            int64      `json:"id"`
	OwnerOrgID    int64      `json:"owner_org_id"`
	Title         string     `json:"title"`
	TitleEN       string     `json:"title_en,omitempty"`
	Summary       string     `json:"summary"`
	SummaryEN     string     `json:"summary_en,omitempty"`
	Body          string     `json:"body"`
	BodyEN        string     `json:"body_en,omitempty"`
	Severity      string     `json:"severity"`
	CVEs          []string   `json:"cves"`
	Products      []Product  `json:"products"`
	Actions       string     `json:"actions"`
	TLP           policy.TLP `json:"tlp"`
	DeadlineAt    time.Time  `json:"deadline_at,omitzero"`
	Status        string     `json:"status"`
	Targeting     Targeting  `json:"targeting"`
	STIXID        string     `json:"stix_id"`
	CreatedBy     int64      `json:"-"`
	CreatedName   string     `json:"created_name"`
	PublishedName string     `json:"published_name,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	PublishedAt   time.Time  `json:"published_at,omitzero"`
	ClosedAt      time.Time  `json:"closed_at,omitzero"`
	IndicatorIDs  []int64    `json:"indicator_ids"`
	// ExerciseID marks an advisory injected by an exercise (a drill run
	// on certnet): delivered to the drill's participant only, its messages
	// kept inside certnet, left out of the real lists, rates, the public
	// page and feed; 0 for a real advisory.
	ExerciseID int64 `json:"exercise_id,omitempty"`
	// RecipientOrgs are the recipient organisations (for policy).
	RecipientOrgs []int64 `json:"-"`
}

// Resources are the resources the advisory is read against.
func (a Advisory) Resources() []policy.Resource {
	return policy.AdvisoryResources(a.OwnerOrgID, a.TLP, a.CreatedBy, a.RecipientOrgs, a.Status != AdvisoryDraft)
}

// own is the advisory's publisher resource for writes.
func (a Advisory) own() policy.Resource {
	return policy.Resource{OwnerOrg: a.OwnerOrgID, TLP: policy.TLPGreen}
}

// Overdue reports whether the deadline passed at now.
func (a Advisory) Overdue(now time.Time) bool {
	return a.Status == AdvisoryPublished && !a.DeadlineAt.IsZero() && !now.Before(a.DeadlineAt)
}

// AdvisoryInput is a draft advisory.
type AdvisoryInput struct {
	// OwnerOrgID is the publishing organisation when certnet itself writes
	// the advisory (demo, import); people write for their organisation.
	OwnerOrgID   int64
	Title        string
	TitleEN      string
	Summary      string
	SummaryEN    string
	Body         string
	BodyEN       string
	Severity     string
	CVEs         []string
	Products     []Product
	Actions      string
	TLP          policy.TLP // as policy.ParseTLP reads it
	DeadlineAt   time.Time
	Targeting    Targeting
	IndicatorIDs []int64
	STIXID       string // "" makes one
}

var cvePattern = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)

// NormaliseCVE returns the CVE id in upper case, or false.
func NormaliseCVE(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, cvePattern.MatchString(s)
}

func checkAdvText(e *errs.Error, field, s string, max int, multiline, required bool) {
	if s == "" {
		if required {
			e.Field(field, "field.required")
		}
		return
	}
	if !utf8.ValidString(s) {
		e.Field(field, "field.invalid")
		return
	}
	if utf8.RuneCountInString(s) > max {
		e.Field(field, "field.too_long", max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			e.Field(field, "intel.adv.err.control")
			return
		}
	}
}

// publisherRoles are the network roles whose organisations publish
// advisories: the national coordinator and the response units.
var publisherRoles = []org.Role{org.RoleNationalCoordinator, org.RoleProvincialResponseUnit, org.RoleMinistryResponseUnit, org.RoleSectorCERT}

// publishes reports whether the organisation may publish advisories.
func publishes(ctx context.Context, q store.Q, orgID int64) (bool, error) {
	if orgID == 0 {
		return false, nil
	}
	args := []any{orgID}
	for _, r := range publisherRoles {
		args = append(args, string(r))
	}
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM org_roles WHERE org_id = ? AND role IN (?"+strings.Repeat(", ?", len(publisherRoles)-1)+")",
		args...).Scan(&n)
	return n > 0, err
}

// MayWriteAdvisory reports whether the actor may write advisories for its
// organisation: advisory.write on it, and the organisation publishes
// (CreateAdvisory decides the same; pages ask to show the form).
func (s *Service) MayWriteAdvisory(ctx context.Context, a policy.Actor) bool {
	if !policy.Allowed(a, policy.AdvisoryWrite, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}) {
		return false
	}
	ok, err := publishes(ctx, s.DB, a.OrgID)
	return err == nil && ok
}

// validateAdvisory checks and normalises a draft; field errors go to e.
func (s *Service) validateAdvisory(ctx context.Context, q store.Q, a policy.Actor, in *AdvisoryInput, e *errs.Error) error {
	trim := strings.TrimSpace
	in.Title, in.TitleEN, in.Summary, in.SummaryEN = trim(in.Title), trim(in.TitleEN), trim(in.Summary), trim(in.SummaryEN)
	in.Body, in.BodyEN, in.Actions = trim(in.Body), trim(in.BodyEN), trim(in.Actions)
	checkAdvText(e, "title", in.Title, maxAdvTitle, false, true)
	checkAdvText(e, "title_en", in.TitleEN, maxAdvTitle, false, false)
	checkAdvText(e, "summary", in.Summary, maxAdvSummary, true, true)
	checkAdvText(e, "summary_en", in.SummaryEN, maxAdvSummary, true, false)
	checkAdvText(e, "body", in.Body, maxAdvBody, true, false)
	checkAdvText(e, "body_en", in.BodyEN, maxAdvBody, true, false)
	checkAdvText(e, "actions", in.Actions, maxAdvActions, true, false) // required to publish
	if in.Severity == "" {
		in.Severity = SeverityMedium
	}
	if !slices.Contains(Severities, in.Severity) {
		e.Field("severity", "field.invalid")
	}
	if t, err := policy.ParseTLP(string(in.TLP)); err != nil {
		e.Field("tlp", "intel.error.tlp")
	} else {
		in.TLP = t
	}
	var cves []string
	for _, c := range in.CVEs {
		if strings.TrimSpace(c) == "" {
			continue
		}
		n, ok := NormaliseCVE(c)
		if !ok {
			e.Field("cves", "intel.adv.err.cve", c)
			continue
		}
		cves = appendUnique(cves, n)
	}
	if len(cves) > maxAdvCVEs {
		e.Field("cves", "intel.adv.err.too_many", maxAdvCVEs)
	}
	in.CVEs = cves
	var products []Product
	for _, p := range in.Products {
		p = Product{Vendor: trim(p.Vendor), Product: trim(p.Product), Version: trim(p.Version)}
		if p == (Product{}) {
			continue
		}
		if p.Product == "" {
			e.Field("products", "intel.adv.err.product")
			continue
		}
		for _, f := range []string{p.Vendor, p.Product, p.Version} {
			checkAdvText(e, "products", f, maxProductText, false, false)
		}
		products = append(products, p)
	}
	if len(products) > maxAdvProducts {
		e.Field("products", "intel.adv.err.too_many", maxAdvProducts)
	}
	in.Products = products
	if !in.DeadlineAt.IsZero() {
		in.DeadlineAt = in.DeadlineAt.UTC().Truncate(time.Microsecond)
		if in.DeadlineAt.Before(earliestDate) || in.DeadlineAt.After(s.stamp().AddDate(2, 0, 0)) {
			e.Field("deadline_at", "intel.adv.err.deadline")
		}
	}
	if in.STIXID == "" {
		in.STIXID = "report--" + uuid.NewString()
	} else if !ValidSTIXID(in.STIXID, "report") {
		e.Field("stix_id", "intel.error.stix_id")
	}
	if err := checkTargeting(ctx, q, &in.Targeting, in.TLP, e); err != nil {
		return err
	}
	// Linked indicators: known, readable by the actor, and not under a
	// label stricter than the advisory's (which would leak them).
	in.IndicatorIDs = uniqueIDs(in.IndicatorIDs)
	if len(in.IndicatorIDs) > maxAdvLinks {
		e.Field("indicators", "intel.adv.err.too_many", maxAdvLinks)
		return nil
	}
	for _, id := range in.IndicatorIDs {
		ind, err := load(ctx, q, id)
		if errs.Is(err, errs.KindNotFound) || err == nil && policy.Check(a, policy.IntelRead, ind.Resource()) != nil {
			e.Field("indicators", "intel.adv.err.indicator", id)
			continue
		}
		if err != nil {
			return err
		}
		if in.TLP.Valid() && ind.TLP.Rank() > in.TLP.Rank() {
			e.Field("indicators", "intel.adv.err.indicator_tlp", ind.Value, string(ind.TLP))
		}
	}
	return nil
}

// earliestDate is the earliest date a user may enter.
var earliestDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// checkTargeting validates the targeting's parts (that they exist); who
// they resolve to is decided at publish.
func checkTargeting(ctx context.Context, q store.Q, t *Targeting, tlp policy.TLP, e *errs.Error) error {
	var bad []string
	for _, x := range t.Sectors {
		if !org.ValidSector(org.Sector(x)) {
			bad = append(bad, x)
		}
	}
	for _, x := range t.Regions {
		if !slices.Contains(org.Regions, x) {
			bad = append(bad, x)
		}
	}
	for _, x := range t.Roles {
		if !org.ValidRole(org.Role(x)) {
			bad = append(bad, x)
		}
	}
	t.Sectors, t.Regions, t.Roles = uniqueStrings(t.Sectors), uniqueStrings(t.Regions), uniqueStrings(t.Roles)
	t.Provinces, t.Clusters, t.Orgs = uniqueStrings(t.Provinces), uniqueIDs(t.Clusters), uniqueIDs(t.Orgs)
	if len(t.Provinces) > 0 {
		in := "(?" + strings.Repeat(", ?", len(t.Provinces)-1) + ")"
		args := make([]any, len(t.Provinces))
		for i, p := range t.Provinces {
			args[i] = p
		}
		known := map[string]bool{}
		rows, err := q.Query(ctx, "SELECT code FROM provinces WHERE code IN "+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			known[c] = true
		}
		rows.Close()
		for _, p := range t.Provinces {
			if !known[p] {
				bad = append(bad, p)
			}
		}
	}
	if len(t.Clusters) > 0 {
		in, args := store.InList(t.Clusters)
		ids, err := store.IDs(ctx, q, "SELECT id FROM clusters WHERE id IN "+in, args...)
		if err != nil {
			return err
		}
		for _, c := range t.Clusters {
			if !slices.Contains(ids, c) {
				bad = append(bad, fmt.Sprint(c))
			}
		}
	}
	if len(t.Orgs) > 0 {
		in, args := store.InList(t.Orgs)
		ids, err := store.IDs(ctx, q, "SELECT id FROM organisations WHERE active = TRUE AND id IN "+in, args...)
		if err != nil {
			return err
		}
		for _, o := range t.Orgs {
			if !slices.Contains(ids, o) {
				bad = append(bad, fmt.Sprint(o))
			}
		}
	}
	if len(bad) > 0 {
		e.Field("targeting", "intel.adv.err.target_unknown", strings.Join(bad, ", "))
	}
	// A RED advisory goes to named organisations only (TLP 2.0: named
	// recipients).
	if tlp == policy.TLPRed && !t.OnlyNamed() {
		e.Field("targeting", "intel.adv.err.red_named")
	}
	return nil
}

func uniqueStrings(l []string) []string {
	var out []string
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" {
			out = appendUnique(out, s)
		}
	}
	return out
}

// CreateAdvisory writes a draft advisory for the actor's organisation (the
// national coordinator or a response unit).
func (s *Service) CreateAdvisory(ctx context.Context, a policy.Actor, in AdvisoryInput) (Advisory, error) {
	const op = "advisory: create"
	owner := a.OrgID
	if a.System && in.OwnerOrgID != 0 {
		owner = in.OwnerOrgID
	}
	if err := policy.Check(a, policy.AdvisoryWrite, policy.Resource{OwnerOrg: owner, TLP: policy.TLPGreen}); err != nil {
		return Advisory{}, err
	}
	var out Advisory
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		ok, err := publishes(ctx, tx, owner)
		if err != nil {
			return err
		}
		if !ok {
			e := errs.Forbidden(op)
			e.Message = errs.Msg{Key: "intel.adv.err.not_publisher"}
			return e
		}
		e := errs.Invalid(op)
		if err := s.validateAdvisory(ctx, tx, a, &in, e); err != nil {
			return err
		}
		if err := e.OrNil(); err != nil {
			return err
		}
		products, _ := json.Marshal(nonNilProducts(in.Products))
		target, _ := json.Marshal(in.Targeting)
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO advisories (owner_org_id, title, title_en, summary, summary_en, body, body_en, severity, cves,
			products, actions, tlp, deadline_at, status, targeting, stix_id, created_by, created_name, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			owner, in.Title, in.TitleEN, in.Summary, in.SummaryEN, in.Body, in.BodyEN, in.Severity, strings.Join(in.CVEs, "\n"),
			string(products), in.Actions, string(in.TLP), store.NullTime(in.DeadlineAt), AdvisoryDraft, string(target), in.STIXID,
			store.NullID(a.UserID), a.Label(), now, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert advisory: %w", err)
		}
		for _, ind := range in.IndicatorIDs {
			if _, err := tx.Exec(ctx, "INSERT INTO advisory_indicators (advisory_id, indicator_id) VALUES (?, ?)", id, ind); err != nil {
				return fmt.Errorf("link indicator: %w", err)
			}
		}
		if out, err = loadAdvisory(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: owner, Action: "advisory.create", Entity: "advisory",
			EntityID: fmt.Sprint(id), After: out})
	})
	if err != nil {
		return Advisory{}, store.Wrap(op, err)
	}
	return out, nil
}

func nonNilProducts(p []Product) []Product {
	if p == nil {
		return []Product{}
	}
	return p
}

// UpdateAdvisory replaces every field of a draft.
func (s *Service) UpdateAdvisory(ctx context.Context, a policy.Actor, id int64, in AdvisoryInput) (Advisory, error) {
	const op = "advisory: update"
	var out Advisory
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		before, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.AdvisoryWrite, before.own()); err != nil {
			return err
		}
		if before.Status != AdvisoryDraft {
			return errs.Conflict(op, "intel.adv.err.not_draft")
		}
		e := errs.Invalid(op)
		if in.STIXID == "" {
			in.STIXID = before.STIXID
		}
		if err := s.validateAdvisory(ctx, tx, a, &in, e); err != nil {
			return err
		}
		if err := e.OrNil(); err != nil {
			return err
		}
		products, _ := json.Marshal(nonNilProducts(in.Products))
		target, _ := json.Marshal(in.Targeting)
		res, err := tx.Exec(ctx, `UPDATE advisories SET title = ?, title_en = ?, summary = ?, summary_en = ?, body = ?, body_en = ?,
			severity = ?, cves = ?, products = ?, actions = ?, tlp = ?, deadline_at = ?, targeting = ?, stix_id = ?, updated_at = ?
			WHERE id = ? AND status = ?`,
			in.Title, in.TitleEN, in.Summary, in.SummaryEN, in.Body, in.BodyEN, in.Severity, strings.Join(in.CVEs, "\n"), string(products),
			in.Actions, string(in.TLP), store.NullTime(in.DeadlineAt), string(target), in.STIXID, now, id, AdvisoryDraft)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "intel.adv.err.not_draft")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM advisory_indicators WHERE advisory_id = ?", id); err != nil {
			return err
		}
		for _, ind := range in.IndicatorIDs {
			if _, err := tx.Exec(ctx, "INSERT INTO advisory_indicators (advisory_id, indicator_id) VALUES (?, ?)", id, ind); err != nil {
				return err
			}
		}
		if out, err = loadAdvisory(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: before.OwnerOrgID, Action: "advisory.update", Entity: "advisory",
			EntityID: fmt.Sprint(id), Before: before, After: out})
	})
	if err != nil {
		return Advisory{}, store.Wrap(op, err)
	}
	return out, nil
}

const advisoryCols = `id, owner_org_id, title, title_en, summary, summary_en, body, body_en, severity, cves, products, actions, tlp,
	deadline_at, status, targeting, stix_id, created_by, created_name, published_name, created_at, updated_at, published_at, closed_at, COALESCE(exercise_id, 0)`

func scanAdvisory(sc scanner) (Advisory, error) {
	var v Advisory
	var cves, products, tlp, target string
	var deadline, published, closed sql.NullTime
	var by sql.NullInt64
	if err := sc.Scan(&v.ID, &v.OwnerOrgID, &v.Title, &v.TitleEN, &v.Summary, &v.SummaryEN, &v.Body, &v.BodyEN, &v.Severity, &cves,
		&products, &v.Actions, &tlp, &deadline, &v.Status, &target, &v.STIXID, &by, &v.CreatedName, &v.PublishedName, &v.CreatedAt,
		&v.UpdatedAt, &published, &closed, &v.ExerciseID); err != nil {
		return Advisory{}, err
	}
	v.TLP, v.CreatedBy = policy.TLP(tlp), by.Int64
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	v.DeadlineAt, v.PublishedAt, v.ClosedAt = store.TimeOf(deadline), store.TimeOf(published), store.TimeOf(closed)
	v.CVEs = []string{}
	if cves != "" {
		v.CVEs = strings.Split(cves, "\n")
	}
	if err := json.Unmarshal([]byte(products), &v.Products); err != nil {
		return Advisory{}, fmt.Errorf("advisory %d products: %w", v.ID, err)
	}
	if v.Products == nil {
		v.Products = []Product{}
	}
	if err := json.Unmarshal([]byte(target), &v.Targeting); err != nil {
		return Advisory{}, fmt.Errorf("advisory %d targeting: %w", v.ID, err)
	}
	return v, nil
}

// loadAdvisory reads an advisory with its indicator links and recipient
// organisations (NotFound when there is none).
func loadAdvisory(ctx context.Context, q store.Q, id int64) (Advisory, error) {
	v, err := scanAdvisory(q.QueryRow(ctx, "SELECT "+advisoryCols+" FROM advisories WHERE id = ?", id))
	if store.IsNoRows(err) {
		return Advisory{}, errs.NotFound("advisory")
	}
	if err != nil {
		return Advisory{}, err
	}
	if v.IndicatorIDs, err = store.IDs(ctx, q, "SELECT indicator_id FROM advisory_indicators WHERE advisory_id = ? ORDER BY indicator_id", id); err != nil {
		return Advisory{}, err
	}
	if v.IndicatorIDs == nil {
		v.IndicatorIDs = []int64{}
	}
	v.RecipientOrgs, err = store.IDs(ctx, q, "SELECT org_id FROM advisory_recipients WHERE advisory_id = ? ORDER BY org_id", id)
	return v, err
}

// canReadAdvisory reports whether one of the advisory's resources allows
// the actor to read it.
func canReadAdvisory(a policy.Actor, v Advisory) bool {
	for _, r := range v.Resources() {
		if policy.Allowed(a, policy.AdvisoryRead, r) {
			return true
		}
	}
	return false
}

// readable loads the advisory and checks that the actor may read it.
func (s *Service) readable(ctx context.Context, q store.Q, a policy.Actor, id int64) (Advisory, error) {
	v, err := loadAdvisory(ctx, q, id)
	if err != nil {
		return Advisory{}, err
	}
	if !canReadAdvisory(a, v) {
		return Advisory{}, errs.NotFound("advisory")
	}
	return v, nil
}

// Advisory returns an advisory the actor may read.
func (s *Service) Advisory(ctx context.Context, a policy.Actor, id int64) (Advisory, error) {
	v, err := s.readable(ctx, s.DB, a, id)
	if err != nil {
		return Advisory{}, store.Wrap("advisory: get", err)
	}
	return v, nil
}

// AdvisoryManager reports whether the actor sees the publisher's side of
// the advisory (every recipient, the rates, publish and close): its scope
// holds the publisher. Others who may read it see the recipients of their
// own scope.
func AdvisoryManager(a policy.Actor, v Advisory) bool {
	return a.Scope.Contains(v.OwnerOrgID) && canReadAdvisory(a, v)
}

// AdvisoryFilter narrows the advisory list.
type AdvisoryFilter struct {
	Status   string // draft, published, closed ("" any)
	Severity string
	// Mine: only advisories my organisation received.
	Mine bool
	// Own: only advisories my organisation published (or drafts).
	Own bool
	// Exercise: only exercise advisories (a drill's injects); the real
	// ones only otherwise.
	Exercise bool
	Limit    int
	Offset   int
}

// AdvisoryRow is an advisory in a list, with the actor's organisation's
// recipient row when it is one.
type AdvisoryRow struct {
	Advisory
	Mine *Recipient `json:"mine,omitempty"`
}

// Advisories lists the advisories the actor may read, newest first.
func (s *Service) Advisories(ctx context.Context, a policy.Actor, f AdvisoryFilter) ([]AdvisoryRow, error) {
	const op = "advisory: list"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return nil, errs.Unauthenticated(op, "")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q, args := advisoryQuery(a, f)
	// Policy decides on each candidate; the newest few thousand are
	// enough for a page of 500.
	q += " ORDER BY v.id DESC LIMIT ?"
	args = append(args, 4*(f.Offset+f.Limit)+100)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var list []Advisory
	for rows.Next() {
		v, err := scanAdvisory(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		list = append(list, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	readable, err := s.listRows(ctx, a, list)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	out := []AdvisoryRow{}
	if f.Offset < len(readable) {
		out = append(out, readable[f.Offset:min(len(readable), f.Offset+f.Limit)]...)
	}
	return out, nil
}

// listRows decides which candidates of the list the actor may read and
// gives each with the actor's organisation's recipient row, in their
// order: the recipients a label needs and the actor's rows are read for
// the whole batch, two queries.
func (s *Service) listRows(ctx context.Context, a policy.Actor, vs []Advisory) ([]AdvisoryRow, error) {
	var restricted, published []int64
	for _, v := range vs {
		if v.Status != AdvisoryDraft {
			published = append(published, v.ID)
			if v.TLP != policy.TLPClear && v.TLP != policy.TLPGreen {
				restricted = append(restricted, v.ID)
			}
		}
	}
	orgs := map[int64][]int64{}
	if len(restricted) > 0 {
		in, args := store.InList(restricted)
		rows, err := s.DB.Query(ctx, "SELECT advisory_id, org_id FROM advisory_recipients WHERE advisory_id IN "+in+" ORDER BY advisory_id, org_id", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, org int64
			if err := rows.Scan(&id, &org); err != nil {
				rows.Close()
				return nil, err
			}
			orgs[id] = append(orgs[id], org)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	mine := map[int64]Recipient{}
	if a.OrgID != 0 && len(published) > 0 {
		in, args := store.InList(published)
		rows, err := s.DB.Query(ctx, "SELECT "+recipientCols+recipientFrom+" WHERE r.org_id = ? AND r.advisory_id IN "+in, append([]any{a.OrgID}, args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			r, err := scanRecipient(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			mine[r.AdvisoryID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]AdvisoryRow, 0, len(vs))
	for _, v := range vs {
		if ids, ok := orgs[v.ID]; ok {
			v.RecipientOrgs = ids
		}
		if !canReadAdvisory(a, v) {
			continue
		}
		row := AdvisoryRow{Advisory: v}
		if r, ok := mine[v.ID]; ok {
			row.Mine = &r
		}
		out = append(out, row)
	}
	return out, nil
}

// advisoryQuery is the advisory list's candidate query for the filter,
// without its order and limit: policy decides on each row it returns.
func advisoryQuery(a policy.Actor, f AdvisoryFilter) (string, []any) {
	q := "SELECT " + advisoryCols + " FROM advisories v WHERE (v.owner_org_id = ? OR v.status <> ?)"
	args := []any{a.OrgID, AdvisoryDraft}
	if f.Exercise {
		q += " AND v.exercise_id IS NOT NULL"
	} else {
		q += " AND v.exercise_id IS NULL"
	}
	if f.Status != "" {
		q += " AND v.status = ?"
		args = append(args, f.Status)
	}
	if f.Severity != "" {
		q += " AND v.severity = ?"
		args = append(args, f.Severity)
	}
	if f.Mine {
		q += " AND EXISTS (SELECT 1 FROM advisory_recipients r WHERE r.advisory_id = v.id AND r.org_id = ?)"
		args = append(args, a.OrgID)
	}
	if f.Own {
		q += " AND v.owner_org_id = ?"
		args = append(args, a.OrgID)
	}
	if !a.Scope.All && !a.System {
		// Candidates: shared with the whole network, published inside my
		// scope, or received inside it; Check decides on each.
		ids := a.Scope.IDs()
		if a.OrgID != 0 && !slices.Contains(ids, a.OrgID) {
			ids = append(ids, a.OrgID)
		}
		cond := "v.tlp IN ('CLEAR', 'GREEN')"
		if len(ids) > 0 {
			in, inArgs := store.InList(ids)
			cond += " OR v.owner_org_id IN " + in + " OR EXISTS (SELECT 1 FROM advisory_recipients r WHERE r.advisory_id = v.id AND r.org_id IN " + in + ")"
			args = append(args, inArgs...)
			args = append(args, inArgs...)
		}
		q += " AND (" + cond + ")"
	}
	return q, args
}

// FindIndicators reads a list of indicator references, as people type them
// in a form: an id, or a value (normalised, the actor's own organisation's
// indicator first, then any it may read). Those it cannot resolve are
// returned as unknown.
func (s *Service) FindIndicators(ctx context.Context, a policy.Actor, refs []string) (ids []int64, unknown []string, err error) {
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		var cand []int64
		if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil && n > 0 {
			cand = []int64{n}
		} else if k, v, nerr := Normalise("", ref); nerr == nil {
			cand, err = store.IDs(ctx, s.DB, `SELECT id FROM intel_indicators WHERE kind = ? AND value = ?
				ORDER BY CASE WHEN owner_org_id = ? THEN 0 ELSE 1 END, id LIMIT 20`, string(k), v, a.OrgID)
			if err != nil {
				return nil, nil, errs.Internal("intel: find indicators", err)
			}
		}
		found := false
		for _, id := range cand {
			ind, lerr := load(ctx, s.DB, id)
			if lerr == nil && policy.Allowed(a, policy.IntelRead, ind.Resource()) {
				ids, found = append(ids, id), true
				break
			}
		}
		if !found {
			unknown = append(unknown, ref)
		}
	}
	return ids, unknown, nil
}
