package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Public reports (issue 3): citizens and organisations outside the network
// report through a page without login. A report lands in a triage queue
// (PR-YYYY-NNNNNN, the only thing the reporter learns), seen by the
// national coordinator and by the response unit whose constituency holds
// the addresses given; it is converted to an incident or dismissed. The
// page is rate limited per client address and globally per hour, with
// counters in the database so that every node enforces one limit.

// Public report statuses.
const (
	PublicNew       = "new"
	PublicConverted = "converted"
	PublicDismissed = "dismissed"
)

// Reasons to dismiss a public report.
const (
	DismissSpam        = "spam"
	DismissNotIncident = "not_incident"
	DismissDuplicate   = "duplicate"
)

// DismissReasons lists them.
var DismissReasons = []string{DismissSpam, DismissNotIncident, DismissDuplicate}

// EventFromPublicReport is the timeline event of an incident converted from
// a public report.
const EventFromPublicReport = "public_report.converted"

// Default limits of the public report page.
const (
	DefaultPublicPerAddress = 5   // reports per client address per hour
	DefaultPublicGlobal     = 200 // reports from everyone per hour
	maxPublicAddresses      = 50
)

// PublicReport is one report from outside the network.
type PublicReport struct {
	ID            int64     `json:"id"`
	Ref           string    `json:"ref"`
	Name          string    `json:"name"`
	Email         string    `json:"email"`
	Phone         string    `json:"phone,omitempty"`
	Organisation  string    `json:"organisation,omitempty"`
	Description   string    `json:"description"`
	HappenedAt    time.Time `json:"happened_at,omitzero"`
	Addresses     []string  `json:"addresses"`
	TypeGuess     Type      `json:"type_guess,omitempty"`
	ClientAddress string    `json:"client_address,omitempty"`
	RouteOrgID    int64     `json:"route_org_id,omitempty"`
	Status        string    `json:"status"`
	Reason        string    `json:"reason,omitempty"`
	DuplicateOf   string    `json:"duplicate_of,omitempty"`
	IncidentID    int64     `json:"incident_id,omitempty"`
	IncidentRef   string    `json:"incident_ref,omitempty"`
	TriagedBy     int64     `json:"triaged_by,omitempty"`
	TriagedName   string    `json:"triaged_name,omitempty"`
	TriagedAt     time.Time `json:"triaged_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
}

// PublicInput is what the public form sends.
type PublicInput struct {
	Name         string
	Email        string
	Phone        string
	Organisation string
	Description  string
	HappenedAt   time.Time
	// Addresses: IP addresses, ranges, domains or URLs, one per line (or
	// separated by spaces or commas).
	Addresses string
	TypeGuess Type
	// Honeypot is a field people do not see; a filled one is a robot.
	Honeypot string
	// ClientAddress is the sender's address (the rate limit's key).
	ClientAddress string
}

// PublicReports is the public report service.
type PublicReports struct {
	S          *Service
	PerAddress int
	Global     int
}

// NewPublicReports returns the service with the default limits.
func NewPublicReports(s *Service) *PublicReports {
	return &PublicReports{S: s, PerAddress: DefaultPublicPerAddress, Global: DefaultPublicGlobal}
}

// NotifyPublicReport is the notification kind of a new public report.
const NotifyPublicReport = "public_report.received"

func init() { notify.RegisterKind(NotifyPublicReport, "public.notify.kind") }

// publicActor is who writes a public report in the audit log.
var publicActor = policy.Actor{Username: "public"}

// FormatPublicRef formats a public report's reference.
func FormatPublicRef(year int, seq int64) string { return fmt.Sprintf("PR-%04d-%06d", year, seq) }

// splitAddresses reads the addresses field: each word must be an IP
// address, a range, a domain or a URL. It returns them cleaned, and the
// words it could not read.
func splitAddresses(s string) (out, bad []string) {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		w = strings.TrimSpace(refang.Replace(w))
		if w == "" {
			continue
		}
		var norm string
		if p, err := netip.ParsePrefix(w); err == nil {
			norm = p.Masked().String()
		} else if a, err := netip.ParseAddr(w); err == nil {
			norm = a.String()
		} else if d := strings.ToLower(strings.TrimSuffix(w, ".")); validDomain(d, false) {
			norm = d
		} else if u, err := url.Parse(w); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(w) <= 2000 {
			norm = w
		}
		if norm == "" {
			bad = append(bad, w)
			continue
		}
		if !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, bad
}

// hostOf is the part of an address whois answers for.
func hostOf(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return addr
}

// route finds the response unit whose constituency holds one of the
// addresses, and the member that owns it (0 when none).
func (p *PublicReports) route(ctx context.Context, addrs []string) (unit, owner int64, err error) {
	if p.S.Orgs == nil {
		return 0, 0, nil
	}
	sys := policy.SystemActor("public-report")
	for _, a := range addrs {
		res, err := p.S.Orgs.Whois(ctx, sys, hostOf(a))
		if errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindInvalid) {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		for _, c := range append([]org.Org{res.Org}, res.Chain...) {
			if isResponseUnit(c) {
				return c.ID, res.Org.ID, nil
			}
		}
		if owner == 0 {
			owner = res.Org.ID
		}
	}
	return 0, owner, nil
}

// nationalOrgs are the organisations holding the national coordinator role.
func nationalOrgs(ctx context.Context, q store.Q) ([]int64, error) {
	return store.IDs(ctx, q, "SELECT org_id FROM org_roles WHERE role = ? ORDER BY org_id", string(org.RoleNationalCoordinator))
}

// countLimit adds one to the key's counter of this hour inside tx and
// reports whether the limit is passed. The upsert then update takes the
// row lock on PostgreSQL, so two nodes counting at once both count.
func countLimit(ctx context.Context, tx *store.Tx, key string, window time.Time, limit int) (bool, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO public_report_limits (key, window_start, count) VALUES (?, ?, 0)
		ON CONFLICT (key, window_start) DO NOTHING`, key, window); err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRow(ctx, `UPDATE public_report_limits SET count = count + 1 WHERE key = ? AND window_start = ?
		RETURNING count`, key, window).Scan(&n); err != nil {
		return false, err
	}
	return n > limit, nil
}

// clientKey is the rate-limit key of a client address (IPv6 per /64).
func clientKey(addr string) string {
	addr = strings.TrimSpace(addr)
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		addr = ap.Addr().String()
	}
	a, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil {
		if len(addr) > 64 {
			addr = addr[:64]
		}
		return "addr:?" + addr
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + a.String()
}

// Submit records a report from the public page and returns its reference.
// A filled honeypot is answered as a success with nothing stored (ref
// empty). errs.TooMany when the client or everyone together passed the
// hour's limit (nothing stored, the refused attempt not counted).
func (p *PublicReports) Submit(ctx context.Context, in PublicInput) (string, error) {
	const op = "public report: submit"
	if strings.TrimSpace(in.Honeypot) != "" {
		return "", nil
	}
	s := p.S
	now := s.stamp()
	in.Name, in.Email, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone)
	in.Organisation, in.Description = strings.TrimSpace(in.Organisation), strings.TrimSpace(in.Description)
	v := errs.Invalid(op)
	checkText(v, "name", in.Name, maxTitle, false, true)
	checkText(v, "email", in.Email, 254, false, true)
	if !v.Has("email") && !validEmail(in.Email) {
		v.Field("email", "field.invalid_email")
	}
	if in.Phone != "" && !validPhone(in.Phone) {
		v.Field("phone", "incident.err.phone")
	}
	checkText(v, "organisation", in.Organisation, maxTitle, false, false)
	checkText(v, "description", in.Description, maxText, true, true)
	if !in.HappenedAt.IsZero() && (in.HappenedAt.Before(earliest) || in.HappenedAt.After(now.Add(clockSkew))) {
		v.Field("happened_at", "public.err.happened_at")
	}
	if in.TypeGuess != "" && !in.TypeGuess.Valid() {
		v.Field("type_guess", "field.invalid_choice")
	}
	addrs, bad := splitAddresses(in.Addresses)
	if !utf8.ValidString(in.Addresses) {
		v.Field("addresses", "field.invalid")
	} else if len(bad) > 0 {
		v.Field("addresses", "public.err.address", bad[0])
	} else if len(addrs) > maxPublicAddresses {
		v.Field("addresses", "public.err.too_many_addresses", maxPublicAddresses)
	}
	if err := v.OrNil(); err != nil {
		return "", err
	}
	unit, _, err := p.route(ctx, addrs)
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	r := PublicReport{Name: in.Name, Email: in.Email, Phone: in.Phone, Organisation: in.Organisation,
		Description: in.Description, Addresses: addrs, TypeGuess: in.TypeGuess, ClientAddress: strings.TrimSpace(in.ClientAddress),
		RouteOrgID: unit, Status: PublicNew, CreatedAt: now}
	if len(r.ClientAddress) > 100 {
		r.ClientAddress = r.ClientAddress[:100]
	}
	if !in.HappenedAt.IsZero() {
		r.HappenedAt = in.HappenedAt.UTC().Truncate(time.Microsecond)
	}
	if r.Addresses == nil {
		r.Addresses = []string{}
	}
	window := now.Truncate(time.Hour)
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		// Counters of past hours are no longer read; the table stays small
		// (a row per sending address and hour).
		if _, err := tx.Exec(ctx, "DELETE FROM public_report_limits WHERE window_start < ?", window.Add(-2*time.Hour)); err != nil {
			return err
		}
		for _, l := range []struct {
			key   string
			limit int
		}{{"all", p.Global}, {clientKey(in.ClientAddress), p.PerAddress}} {
			over, err := countLimit(ctx, tx, l.key, window, l.limit)
			if err != nil {
				return err
			}
			if over {
				return errs.TooMany(op, "public.err.too_many")
			}
		}
		year := now.In(i18n.Zone).Year()
		var seq int64
		if err := tx.QueryRow(ctx, `INSERT INTO public_report_sequences (year, last) VALUES (?, 1)
			ON CONFLICT (year) DO UPDATE SET last = public_report_sequences.last + 1 RETURNING last`, year).Scan(&seq); err != nil {
			return err
		}
		r.Ref = FormatPublicRef(year, seq)
		addrJSON, _ := json.Marshal(r.Addresses)
		if err := tx.QueryRow(ctx, `INSERT INTO public_reports (ref, name, email, phone, organisation, description,
			happened_at, addresses, type_guess, client_address, route_org_id, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, r.Ref, r.Name, r.Email, r.Phone, r.Organisation,
			r.Description, store.NullTime(r.HappenedAt), string(addrJSON), string(r.TypeGuess), r.ClientAddress, store.NullID(r.RouteOrgID),
			r.Status, now).Scan(&r.ID); err != nil {
			return err
		}
		nat, err := nationalOrgs(ctx, tx)
		if err != nil {
			return err
		}
		orgs := nat
		if unit != 0 && !slices.Contains(orgs, unit) {
			orgs = append(orgs, unit)
		}
		if len(orgs) > 0 {
			if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: NotifyPublicReport, Key: "public_report:" + r.Ref,
				Orgs: orgs, Roles: []policy.Role{policy.RoleCoordinator, policy.RoleAnalyst},
				Subject: errs.Msg{Key: "public.notify.subject", Args: []any{r.Ref}},
				Link:    "/public-reports/" + r.Ref, TLP: policy.TLPAmber}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, publicActor, audit.Change{OrgID: unit, Action: "public_report.submit",
			Entity: "public_report", EntityID: r.Ref, After: map[string]any{"ref": r.Ref, "route_org_id": unit,
				"addresses": r.Addresses, "client_address": r.ClientAddress}})
	})
	if err != nil {
		return "", errs.Ensure(op, err)
	}
	return r.Ref, nil
}

const publicCols = `p.id, p.ref, p.name, p.email, p.phone, p.organisation, p.description, p.happened_at, p.addresses,
	p.type_guess, p.client_address, p.route_org_id, p.status, p.reason, p.duplicate_of, p.incident_id,
	COALESCE(i.ref, ''), p.triaged_by, p.triaged_name, p.triaged_at, p.created_at`

const publicFrom = ` FROM public_reports p LEFT JOIN incidents i ON i.id = p.incident_id `

func scanPublic(sc scanner) (PublicReport, error) {
	var r PublicReport
	var happened, triaged sql.NullTime
	var route, incID, by sql.NullInt64
	var addrs, tg string
	if err := sc.Scan(&r.ID, &r.Ref, &r.Name, &r.Email, &r.Phone, &r.Organisation, &r.Description, &happened, &addrs,
		&tg, &r.ClientAddress, &route, &r.Status, &r.Reason, &r.DuplicateOf, &incID, &r.IncidentRef, &by, &r.TriagedName,
		&triaged, &r.CreatedAt); err != nil {
		return PublicReport{}, err
	}
	r.HappenedAt, r.TriagedAt, r.CreatedAt = store.TimeOf(happened), store.TimeOf(triaged), r.CreatedAt.UTC()
	r.RouteOrgID, r.IncidentID, r.TriagedBy, r.TypeGuess = route.Int64, incID.Int64, by.Int64, Type(tg)
	if err := json.Unmarshal([]byte(addrs), &r.Addresses); err != nil || r.Addresses == nil {
		r.Addresses = []string{}
	}
	return r, nil
}

// resource is the report as a policy resource: owned by the response unit
// it was routed to, or by the national coordinator.
func (r PublicReport) resource(national []int64) policy.Resource {
	owner := r.RouteOrgID
	var shared []int64
	if owner == 0 && len(national) > 0 {
		owner, shared = national[0], national[1:]
	}
	return policy.Resource{OwnerOrg: owner, TLP: policy.TLPAmber, SharedOrgs: shared}
}

func (p *PublicReports) checkReport(ctx context.Context, q store.Q, a policy.Actor, act policy.Action, r PublicReport) error {
	nat, err := nationalOrgs(ctx, q)
	if err != nil {
		return errs.Internal("public report: check", err)
	}
	return checkPublic(a, act, r, nat)
}

// checkPublic decides act on r, given the national coordinator's
// organisations (read once for a whole list).
func checkPublic(a policy.Actor, act policy.Action, r PublicReport, national []int64) error {
	res := r.resource(national)
	err := policy.Check(a, act, res)
	if err == nil {
		return nil
	}
	// Who may not read the report learns nothing of it.
	if act == policy.PublicReportRead || policy.Check(a, policy.PublicReportRead, res) != nil {
		return errs.NotFound("public report")
	}
	return err
}

// Allowed reports whether the actor may do act on r (for the buttons of a
// page: the decision the service's own methods take).
func (p *PublicReports) Allowed(ctx context.Context, a policy.Actor, act policy.Action, r PublicReport) bool {
	return p.checkReport(ctx, p.S.DB, a, act, r) == nil
}

// PublicFilter selects public reports.
type PublicFilter struct {
	Status string // "" for every status
	Limit  int
}

// List returns the queue the actor may see, newest first.
func (p *PublicReports) List(ctx context.Context, a policy.Actor, f PublicFilter) ([]PublicReport, error) {
	out, _, err := p.list(ctx, a, f)
	return out, err
}

// list is List with the national coordinator's organisations it checked
// the reports against.
func (p *PublicReports) list(ctx context.Context, a policy.Actor, f PublicFilter) ([]PublicReport, []int64, error) {
	const op = "public report: list"
	where, args := "WHERE 1=1", []any{}
	if f.Status != "" {
		where += " AND p.status = ?"
		args = append(args, f.Status)
	}
	if !a.System && !a.Scope.All {
		ids := a.Scope.IDs()
		if len(ids) == 0 {
			return nil, nil, nil
		}
		where += " AND p.route_org_id IN (" + idList(ids) + ")"
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	nat, err := nationalOrgs(ctx, p.S.DB)
	if err != nil {
		return nil, nil, errs.Internal(op, err)
	}
	rows, err := p.S.DB.Query(ctx, `SELECT `+publicCols+publicFrom+where+fmt.Sprintf(` ORDER BY p.id DESC LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []PublicReport
	for rows.Next() {
		r, err := scanPublic(rows)
		if err != nil {
			return nil, nil, errs.Internal(op, err)
		}
		if checkPublic(a, policy.PublicReportRead, r, nat) == nil {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, errs.Internal(op, err)
	}
	return out, nat, nil
}

func (p *PublicReports) load(ctx context.Context, q store.Q, a policy.Actor, ref string, act policy.Action) (PublicReport, error) {
	r, err := scanPublic(q.QueryRow(ctx, `SELECT `+publicCols+publicFrom+` WHERE p.ref = ?`, strings.ToUpper(strings.TrimSpace(ref))))
	if store.IsNoRows(err) {
		return PublicReport{}, errs.NotFound("public report")
	}
	if err != nil {
		return PublicReport{}, errs.Internal("public report: get", err)
	}
	if err := p.checkReport(ctx, q, a, act, r); err != nil {
		return PublicReport{}, err
	}
	return r, nil
}

// Get returns one report.
func (p *PublicReports) Get(ctx context.Context, a policy.Actor, ref string) (PublicReport, error) {
	return p.load(ctx, p.S.DB, a, ref, policy.PublicReportRead)
}

// Dismiss closes a new report as spam, not an incident, or a duplicate of
// an incident the actor sees (dup: its reference).
func (p *PublicReports) Dismiss(ctx context.Context, a policy.Actor, ref, reason, dup string) (PublicReport, error) {
	const op = "public report: dismiss"
	var out PublicReport
	err := p.S.DB.InTx(ctx, func(tx *store.Tx) error {
		r, err := p.load(ctx, tx, a, ref, policy.PublicReportTriage)
		if err != nil {
			return err
		}
		if r.Status != PublicNew {
			return errs.Conflict(op, "public.err.triaged")
		}
		v := errs.Invalid(op)
		dup = strings.ToUpper(strings.TrimSpace(dup))
		if !slices.Contains(DismissReasons, reason) {
			v.Field("reason", "field.invalid_choice")
		} else if reason == DismissDuplicate {
			if dup == "" {
				v.Field("duplicate_of", "field.required")
			} else if inc, err := getVisible(ctx, tx, a, dup); err != nil {
				if !errs.Is(err, errs.KindNotFound) {
					return err
				}
				v.Field("duplicate_of", "public.err.duplicate_of")
			} else {
				dup = inc.Ref
			}
		} else {
			dup = ""
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		now := p.S.stamp()
		before := r
		if _, err := tx.Exec(ctx, `UPDATE public_reports SET status = ?, reason = ?, duplicate_of = ?, triaged_by = ?,
			triaged_name = ?, triaged_at = ? WHERE id = ? AND status = ?`, PublicDismissed, reason, dup, store.NullID(a.UserID),
			a.Label(), now, r.ID, PublicNew); err != nil {
			return err
		}
		r.Status, r.Reason, r.DuplicateOf, r.TriagedBy, r.TriagedName, r.TriagedAt = PublicDismissed, reason, dup, a.UserID, a.Label(), now
		out = r
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: r.RouteOrgID, Action: "public_report.dismiss",
			Entity: "public_report", EntityID: r.Ref, Before: map[string]any{"status": before.Status},
			After: map[string]any{"status": r.Status, "reason": reason, "duplicate_of": dup}})
	})
	if err != nil {
		return PublicReport{}, errs.Ensure(op, err)
	}
	return out, nil
}

// Draft is the form-03 intake prefilled from a new report: the text, the
// type guess, the reporter as contact, the addresses as the system's, and
// the affected organisation proposed from whois (0 when none is known).
func (p *PublicReports) Draft(ctx context.Context, a policy.Actor, ref string) (Input, PublicReport, error) {
	r, err := p.load(ctx, p.S.DB, a, ref, policy.PublicReportTriage)
	if err != nil {
		return Input{}, PublicReport{}, err
	}
	title := r.Description
	if i := strings.IndexAny(title, "\r\n"); i >= 0 {
		title = title[:i]
	}
	if utf8.RuneCountInString(title) > 120 {
		title = string([]rune(title)[:120]) + "…"
	}
	in := Input{Title: title, Description: r.Description, Type: r.TypeGuess, Severity: SeverityMedium, TLP: policy.TLPAmber,
		ReporterOrgID: a.OrgID, DetectedAt: r.HappenedAt, DetectedBy: DetectNotifiedBy,
		DetectedByText: r.Name, Contact: Contact{Name: r.Name, Email: r.Email, Phone: r.Phone}}
	if in.DetectedAt.IsZero() {
		in.DetectedAt = r.CreatedAt
	}
	if in.Type == "" || !in.Type.Valid() {
		in.Type = TypeOther
	}
	for _, x := range r.Addresses {
		h := hostOf(x)
		if _, err := netip.ParseAddr(h); err == nil {
			in.System.PublicIPs = append(in.System.PublicIPs, h)
		} else if _, err := netip.ParsePrefix(h); err == nil {
			in.System.PublicIPs = append(in.System.PublicIPs, h)
		} else {
			in.System.Domains = append(in.System.Domains, h)
		}
	}
	switch {
	case len(in.System.Domains) > 0:
		in.System.Name = in.System.Domains[0]
	case len(in.System.PublicIPs) > 0:
		in.System.Name = in.System.PublicIPs[0]
	default:
		in.System.Name = r.Organisation
	}
	if _, owner, err := p.route(ctx, r.Addresses); err == nil && owner != 0 {
		in.AffectedOrgID = owner
	} else if err == nil && r.RouteOrgID != 0 {
		in.AffectedOrgID = r.RouteOrgID
	}
	return in, r, nil
}

// Convert creates the incident from in (the draft as the triager changed
// it) and links the report to it. The incident is created first in its own
// transaction (the incident service's); if the report was triaged by
// someone else in the meantime the new incident stays and the answer is a
// conflict naming nothing more.
func (p *PublicReports) Convert(ctx context.Context, a policy.Actor, ref string, in Input) (PublicReport, Incident, error) {
	const op = "public report: convert"
	r, err := p.load(ctx, p.S.DB, a, ref, policy.PublicReportTriage)
	if err != nil {
		return PublicReport{}, Incident{}, err
	}
	if r.Status != PublicNew {
		return PublicReport{}, Incident{}, errs.Conflict(op, "public.err.triaged")
	}
	// The incident and the report's new state are one transaction: of two
	// coordinators converting the same report at once, the second gets a
	// conflict and leaves no incident behind.
	inc, err := p.S.create(ctx, a, in, func(ctx context.Context, tx *store.Tx, inc Incident) error {
		now := inc.CreatedAt
		res, err := tx.Exec(ctx, `UPDATE public_reports SET status = ?, incident_id = ?, triaged_by = ?, triaged_name = ?,
			triaged_at = ? WHERE id = ? AND status = ?`, PublicConverted, inc.ID, store.NullID(a.UserID), a.Label(), now, r.ID, PublicNew)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Conflict(op, "public.err.triaged")
		}
		r.Status, r.IncidentID, r.IncidentRef, r.TriagedBy, r.TriagedName, r.TriagedAt = PublicConverted, inc.ID, inc.Ref, a.UserID, a.Label(), now
		if _, err := addEvent(ctx, tx, now, a, inc.ID, EventFromPublicReport, map[string]any{"ref": r.Ref}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: inc.AffectedOrgID, Action: "public_report.convert",
			Entity: "public_report", EntityID: r.Ref, Before: map[string]any{"status": PublicNew},
			After: map[string]any{"status": PublicConverted, "incident": inc.Ref}})
	})
	if err != nil {
		return PublicReport{}, Incident{}, err
	}
	return r, inc, nil
}

// Waiting counts the new reports the actor may triage (for "what needs me
// now").
func (p *PublicReports) Waiting(ctx context.Context, a policy.Actor) (int, error) {
	list, nat, err := p.list(ctx, a, PublicFilter{Status: PublicNew, Limit: 500})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range list {
		if checkPublic(a, policy.PublicReportTriage, r, nat) == nil {
			n++
		}
	}
	return n, nil
}
