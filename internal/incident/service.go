package incident

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Registry is what the incident service needs of the network registry
// (org.Service satisfies it).
type Registry interface {
	// Get returns an organisation the actor may read.
	Get(ctx context.Context, a policy.Actor, id int64) (org.Org, error)
	// Whois answers who owns an address, range, AS number or domain.
	Whois(ctx context.Context, a policy.Actor, q string) (org.WhoisResult, error)
}

// DefaultAckWindow is how long "immediately" may take: a report not
// acknowledged within it (and an initial report of an incident that exceeds
// the operator, not acknowledged within it) is overdue. TT 20 says
// "immediately" without a figure; 24 hours is our reading, configurable.
const DefaultAckWindow = 24 * time.Hour

// Legal periods of TT 20/2017 (calendar days).
const (
	NoticePeriod  = 5 * 24 * time.Hour // notice within 5 days of detection
	ClosurePeriod = 5 * 24 * time.Hour // closure report within 5 days after response ends
)

// Service is the incident service.
type Service struct {
	DB   *store.DB
	Orgs Registry
	Now  func() time.Time
	Log  *slog.Logger
	// AckWindow: see DefaultAckWindow.
	AckWindow time.Duration
}

// NewService returns the incident service. now is the clock (time.Now when
// nil); log may be nil.
func NewService(db *store.DB, orgs Registry, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Orgs: orgs, Now: now, Log: log, AckWindow: DefaultAckWindow}
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// stamp is the time written to the store: UTC, to the microsecond.
func (s *Service) stamp() time.Time { return s.now().Truncate(time.Microsecond) }

func (s *Service) ackWindow() time.Duration {
	if s.AckWindow <= 0 {
		return DefaultAckWindow
	}
	return s.AckWindow
}

func fold(s string) string { return i18n.Fold(s) }

// check decides act on inc. The incident is owned by the affected
// organisation and shared with the reporter; an actor whose scope holds the
// reporting organisation but not the affected one is checked against the
// reporter's side. A refusal for something the actor may see is
// Forbidden, otherwise NotFound.
func check(a policy.Actor, act policy.Action, inc Incident) error {
	return checkSides(a, act, inc, inc.Resource(), inc.reporterResource())
}

// checkSides is check for something of inc seen as own from the affected
// organisation's side and as rep from the reporter's (an evidence file
// under its own label, for one).
func checkSides(a policy.Actor, act policy.Action, inc Incident, own, rep policy.Resource) error {
	err := policy.Check(a, act, own)
	if err == nil {
		return nil
	}
	if inc.ReporterOrgID != inc.AffectedOrgID && a.Scope.Contains(inc.ReporterOrgID) {
		err2 := policy.Check(a, act, rep)
		if err2 == nil || errs.Is(err, errs.KindNotFound) {
			return err2
		}
	}
	return err
}

// checkVisible refuses with NotFound an incident the actor may not read,
// then checks act.
func checkVisible(a policy.Actor, act policy.Action, inc Incident) error {
	if err := check(a, policy.IncidentRead, inc); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return err
		}
		// A reader without a role still may not learn more than NotFound.
		return errs.NotFound("incident: get")
	}
	if act == "" || act == policy.IncidentRead {
		return nil
	}
	return check(a, act, inc)
}

// write carries one transaction.
type write struct {
	tx  *store.Tx
	a   policy.Actor
	now time.Time
}

func (w *write) event(ctx context.Context, inc *Incident, kind string, detail map[string]any) (Event, error) {
	return addEvent(ctx, w.tx, w.now, w.a, inc.ID, kind, detail)
}

func (w *write) audit(ctx context.Context, inc *Incident, action string, before, after any) error {
	return audit.Record(ctx, w.tx, w.now, w.a, audit.Change{OrgID: inc.AffectedOrgID, Action: action,
		Entity: "incident", EntityID: inc.Ref, Before: before, After: after})
}

// mutate runs fn on the incident inside one transaction: the row is locked
// first (a version bump, rolled back with everything else on error), the
// actor must see the incident and may do act (when act is set; fn checks
// itself otherwise), then fn changes inc and the change is saved with the
// deadlines recomputed.
func (s *Service) mutate(ctx context.Context, a policy.Actor, op, key string, act policy.Action,
	fn func(ctx context.Context, w *write, inc *Incident) error) (Incident, error) {
	id, err := resolve(ctx, s.DB, key)
	if err != nil {
		return Incident{}, err
	}
	var out Incident
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		w := &write{tx: tx, a: a, now: s.stamp()}
		res, err := tx.Exec(ctx, "UPDATE incidents SET version = version + 1 WHERE id = ?", id)
		if err != nil {
			return errs.Internal(op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound(op)
		}
		inc, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkVisible(a, act, inc); err != nil {
			return err
		}
		if err := fn(ctx, w, &inc); err != nil {
			return err
		}
		inc.UpdatedAt = w.now
		if err := s.refreshDue(ctx, tx, &inc); err != nil {
			return errs.Internal(op, err)
		}
		if err := saveIncident(ctx, tx, &inc); err != nil {
			return errs.Internal(op, err)
		}
		out = inc
		return nil
	})
	if err != nil {
		return Incident{}, errs.Ensure(op, err)
	}
	return out, nil
}

// refreshDue recomputes the earliest open deadline (next_due_at), which
// lists filter and sort on.
func (s *Service) refreshDue(ctx context.Context, q store.Q, inc *Incident) error {
	reports, err := loadReports(ctx, q, inc.ID)
	if err != nil {
		return err
	}
	inc.NextDueAt = s.nextDue(*inc, reports)
	return nil
}

// nextDue is the earliest open deadline of inc with these reports.
func (s *Service) nextDue(inc Incident, reports []Report) time.Time {
	var due time.Time
	if inc.Status.Terminal() {
		return due
	}
	for _, c := range computeClocks(inc, reports, time.Time{}, s.ackWindow()) {
		if c.DoneAt.IsZero() && (due.IsZero() || c.Due.Before(due)) {
			due = c.Due
		}
	}
	return due
}

func forbidden(op, key string, args ...any) *errs.Error {
	e := errs.Forbidden(op)
	e.Message = errs.Msg{Key: key, Args: args}
	return e
}

// orgHas reports whether the organisation holds a network role (read as
// the system: the answer decides, it is not shown).
func (s *Service) orgHas(ctx context.Context, orgID int64, r org.Role) (bool, error) {
	if orgID == 0 || s.Orgs == nil {
		return false, nil
	}
	o, err := s.Orgs.Get(ctx, policy.SystemActor("incident"), orgID)
	if errs.Is(err, errs.KindNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return o.Has(r), nil
}

// Create records a notice, or the initial report when the incident exceeds
// the operator (form 03). The reporting organisation is the actor's own
// unless a coordinator (or admin) reports on behalf of an organisation in
// its scope. The reference (SC-YYYY-NNNNNN) is allocated in the same
// transaction; the first report, the timeline entry, the observables found
// in the text and the audit entry too.
func (s *Service) Create(ctx context.Context, a policy.Actor, in Input) (Incident, error) {
	return s.create(ctx, a, in, nil)
}

// create is Create; then, when not nil, runs in the creating transaction
// with the new incident, and an error from it undoes the whole creation.
func (s *Service) create(ctx context.Context, a policy.Actor, in Input, then func(context.Context, *store.Tx, Incident) error) (Incident, error) {
	const op = "incident: create"
	normalizeInput(&in, a)
	if err := policy.Check(a, policy.IncidentReport, policy.Resource{OwnerOrg: in.ReporterOrgID, TLP: policy.TLPGreen}); err != nil {
		if in.ReporterOrgID != a.OrgID && !errs.Is(err, errs.KindUnauthenticated) {
			return Incident{}, forbidden(op, "incident.err.on_behalf")
		}
		return Incident{}, err
	}
	if in.ReporterOrgID != a.OrgID && !a.System && !a.Has(policy.RoleCoordinator) && !a.Has(policy.RoleAdmin) {
		return Incident{}, forbidden(op, "incident.err.on_behalf")
	}
	now := s.stamp()
	v := errs.Invalid(op)
	validateInput(v, in, now)
	var orgNames []string
	if s.Orgs != nil {
		for field, id := range map[string]int64{"reporter_org_id": in.ReporterOrgID, "affected_org_id": in.AffectedOrgID} {
			if id == 0 || v.Has(field) || (field == "affected_org_id" && id == in.ReporterOrgID) {
				continue // the same organisation is looked up once
			}
			o, err := s.Orgs.Get(ctx, a, id)
			if err == nil {
				orgNames = append(orgNames, o.Name, o.ShortName)
			}
			if err != nil {
				if errs.Is(err, errs.KindNotFound) {
					v.Field(field, "incident.err.org_unknown")
					continue
				}
				return Incident{}, err
			}
		}
	}
	if err := v.OrNil(); err != nil {
		return Incident{}, err
	}
	inc := Incident{
		Title: in.Title, Description: in.Description, Type: in.Type, RSIT: in.Type.RSIT(), Severity: in.Severity,
		Class: ClassOrdinary, Status: StatusReceived, TLP: in.TLP, ReporterOrgID: in.ReporterOrgID,
		AffectedOrgID: in.AffectedOrgID, ReportedBy: a.UserID, ReportedByName: a.Label(),
		DetectedAt: in.DetectedAt.UTC().Truncate(time.Microsecond), ReportedAt: now,
		ExceedsCapacity: in.ExceedsCapacity, CreatedAt: now, UpdatedAt: now, Version: 1, ExerciseID: in.ExerciseID,
		Details: Details{Contact: in.Contact, System: in.System, Handled: in.Handled, DetectedBy: in.DetectedBy,
			DetectedByText: in.DetectedByText, AlreadyNotified: in.AlreadyNotified, Confidential: in.Confidential,
			Proposals: in.Proposals},
	}
	year := now.In(i18n.Zone).Year()
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		w := &write{tx: tx, a: a, now: now}
		seq, err := nextSeq(ctx, tx, year)
		if err != nil {
			return err
		}
		inc.Ref = FormatRef(year, seq)
		kind := ReportNotice
		if inc.ExceedsCapacity {
			kind = ReportInitial
		}
		// The first report is the only one: its deadlines are known before
		// the row is written (no reload, no second UPDATE).
		inc.NextDueAt = s.nextDue(inc, []Report{{Kind: kind, SubmittedAt: now}})
		if err := insertIncident(ctx, tx, &inc, year, seq, orgNames...); err != nil {
			return err
		}
		r := Report{IncidentID: inc.ID, Kind: kind, SubmittedBy: a.UserID, SubmittedName: a.Label(),
			SubmittedOrgID: inc.ReporterOrgID, SubmittedAt: now, Body: ReportInput{Summary: inc.Description,
				SystemName: inc.Details.System.Name, SystemOwner: inc.Details.System.OwnerName,
				SystemLevel: inc.Details.System.Level, DetectedAt: inc.DetectedAt}}
		if err := insertReport(ctx, tx, &r); err != nil {
			return err
		}
		if _, err := w.event(ctx, &inc, EventCreated, map[string]any{"ref": inc.Ref, "report_id": r.ID,
			"report_kind": string(kind), "status": string(inc.Status)}); err != nil {
			return err
		}
		if err := w.notifyCreated(ctx, &inc, r); err != nil {
			return err
		}
		obs := ExtractObservables(strings.Join(append(append([]string{inc.Title, inc.Description},
			inc.Details.System.PublicIPs...), inc.Details.System.Domains...), "\n"))
		if _, err := insertObservables(ctx, w, inc.ID, obs, SourceText); err != nil {
			return err
		}
		if err := w.audit(ctx, &inc, "incident.create", nil, inc); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, inc)
		}
		return nil
	})
	if err != nil {
		return Incident{}, errs.Ensure(op, err)
	}
	return inc, nil
}

// Get returns the incident by id or reference (SC-2026-000123), with its
// reports (for Clocks). errs.NotFound when the actor may not see it.
func (s *Service) Get(ctx context.Context, a policy.Actor, key string) (Incident, error) {
	const op = "incident: get"
	id, err := resolve(ctx, s.DB, key)
	if err != nil {
		return Incident{}, err
	}
	inc, err := loadIncident(ctx, s.DB, id)
	if err != nil {
		return Incident{}, err
	}
	if err := checkVisible(a, policy.IncidentRead, inc); err != nil {
		return Incident{}, err
	}
	if inc.Reports, err = loadReports(ctx, s.DB, id); err != nil {
		return Incident{}, errs.Internal(op, err)
	}
	return inc, nil
}

// pageIncident is the context key of WithIncident.
type pageIncident struct{}

// WithIncident returns ctx carrying inc as Get returned it, for the reads
// that build one page (timeline, observables, files, tasks, watchers, …):
// they take the incident from there instead of reading it again, and still
// check the actor. Reads inside a transaction (every write) always read
// the row.
func WithIncident(ctx context.Context, inc Incident) context.Context {
	return context.WithValue(ctx, pageIncident{}, inc)
}

// getVisible reads the incident the actor may read (NotFound otherwise).
func getVisible(ctx context.Context, q store.Q, a policy.Actor, key string) (Incident, error) {
	if inc, ok := ctx.Value(pageIncident{}).(Incident); ok && inc.ID != 0 {
		key := strings.TrimSpace(key)
		if _, db := q.(*store.DB); db && (strings.EqualFold(key, inc.Ref) || key == strconv.FormatInt(inc.ID, 10)) {
			return inc, checkVisible(a, policy.IncidentRead, inc)
		}
	}
	id, err := resolve(ctx, q, key)
	if err != nil {
		return Incident{}, err
	}
	inc, err := loadIncident(ctx, q, id)
	if err != nil {
		return Incident{}, err
	}
	return inc, checkVisible(a, policy.IncidentRead, inc)
}

// Timeline returns the incident's timeline, oldest first.
func (s *Service) Timeline(ctx context.Context, a policy.Actor, key string) ([]Event, error) {
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	evs, err := loadEvents(ctx, s.DB, inc.ID)
	if err != nil {
		return nil, errs.Internal("incident: timeline", err)
	}
	return evs, nil
}

// Reports returns the incident's reports, oldest first.
func (s *Service) Reports(ctx context.Context, a policy.Actor, key string) ([]Report, error) {
	inc, err := getVisible(ctx, s.DB, a, key)
	if err != nil {
		return nil, err
	}
	rs, err := loadReports(ctx, s.DB, inc.ID)
	if err != nil {
		return nil, errs.Internal("incident: reports", err)
	}
	return rs, nil
}

func normalizeInput(in *Input, a policy.Actor) {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.Type = Type(strings.TrimSpace(string(in.Type)))
	if in.Severity == "" {
		in.Severity = SeverityMedium
	}
	if in.TLP == "" {
		in.TLP = policy.TLPAmber
	} else if t, err := policy.ParseTLP(string(in.TLP)); err == nil {
		in.TLP = t
	}
	if in.ReporterOrgID == 0 {
		in.ReporterOrgID = a.OrgID
	}
	if in.AffectedOrgID == 0 {
		in.AffectedOrgID = in.ReporterOrgID
	}
	trim := func(p *string) { *p = strings.TrimSpace(*p) }
	for _, p := range []*string{&in.Contact.Name, &in.Contact.Title, &in.Contact.Email, &in.Contact.Phone,
		&in.System.Name, &in.System.OwnerName, &in.System.OperatorName, &in.System.SecurityProvider,
		&in.System.ConnectivityProvider, &in.System.OS, &in.System.Services, &in.System.Protections,
		&in.System.Purpose, &in.DetectedBy, &in.DetectedByText, &in.Proposals} {
		trim(p)
	}
	in.System.PublicIPs = cleanList(in.System.PublicIPs, false)
	in.System.Domains = cleanList(in.System.Domains, true)
	in.AlreadyNotified = cleanList(in.AlreadyNotified, true)
	sort.Strings(in.AlreadyNotified)
}

func cleanList(xs []string, lower bool) []string {
	var out []string
	for _, x := range xs {
		x = strings.TrimSpace(x)
		if lower {
			x = strings.ToLower(strings.TrimSuffix(x, "."))
		}
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
