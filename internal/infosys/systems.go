package infosys

import (
	"context"
	"database/sql"
	"net/netip"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// IOC kinds (smart-city intelligent operations centres, QĐ 1014).
const (
	IOCNone       = ""
	IOCProvincial = "provincial"
	IOCCity       = "city"
)

// IOCs lists the IOC kinds a system may be.
var IOCs = []string{IOCNone, IOCProvincial, IOCCity}

// Data kinds a system holds, from least to most sensitive.
const (
	DataPublic    = "public"
	DataPersonal  = "personal"
	DataSecret    = "secret"
	DataNational  = "national_important"
	MaxPersonal   = 200_000_000
	MaxUsers      = 200_000_000
	maxAddrs      = 200
	maxDomainList = 200
)

// DataKinds lists the data kinds.
var DataKinds = []string{DataPublic, DataPersonal, DataSecret, DataNational}

// System is an information system of a member organisation.
type System struct {
	ID                 int64     `json:"id"`
	OwnerOrgID         int64     `json:"owner_org_id"`
	OperatorOrgID      int64     `json:"operator_org_id,omitempty"`
	Name               string    `json:"name"`
	Purpose            string    `json:"purpose"`
	Sector             string    `json:"sector"`
	IOC                string    `json:"ioc"`
	NationalCritical   bool      `json:"national_critical"`
	DataKind           string    `json:"data_kind"`
	PersonalCount      int64     `json:"personal_count"`
	PublicServiceLevel int       `json:"public_service_level"`
	Users              int64     `json:"users"`
	Addresses          []string  `json:"addresses"`
	Domains            []string  `json:"domains"`
	Providers          string    `json:"providers"`
	Components         string    `json:"components"`
	Level              int       `json:"level"`
	LevelApprovedOn    time.Time `json:"level_approved_on,omitzero"`
	PlanDeployed       bool      `json:"plan_deployed"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// SystemInput is what a form or the API gives to register or change a system.
type SystemInput struct {
	OwnerOrgID         int64    `json:"owner_org_id"`
	OperatorOrgID      int64    `json:"operator_org_id"`
	Name               string   `json:"name"`
	Purpose            string   `json:"purpose"`
	Sector             string   `json:"sector"`
	IOC                string   `json:"ioc"`
	NationalCritical   bool     `json:"national_critical"`
	DataKind           string   `json:"data_kind"`
	PersonalCount      int64    `json:"personal_count"`
	PublicServiceLevel int      `json:"public_service_level"`
	Users              int64    `json:"users"`
	Addresses          []string `json:"addresses"`
	Domains            []string `json:"domains"`
	Providers          string   `json:"providers"`
	Components         string   `json:"components"`
	PlanDeployed       bool     `json:"plan_deployed"`
}

// SplitList splits a list typed in a form (commas, spaces, semicolons or
// lines) into its trimmed, non-empty items.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

func (in *SystemInput) normalise() {
	in.Name = strings.TrimSpace(in.Name)
	in.Purpose = strings.TrimSpace(in.Purpose)
	in.Providers = strings.TrimSpace(in.Providers)
	in.Components = strings.TrimSpace(in.Components)
	if in.DataKind == "" {
		in.DataKind = DataPublic
	}
	clean := func(xs []string, lower bool) []string {
		var out []string
		for _, x := range xs {
			x = strings.TrimSpace(x)
			if lower {
				x = strings.TrimSuffix(strings.ToLower(x), ".")
				if d, ok := org.CanonicalDomain(x); ok {
					x = d
				}
			}
			if x != "" && !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	in.Addresses = clean(in.Addresses, false)
	in.Domains = clean(in.Domains, true)
}

// validate checks the input; the addresses and domains must lie in the
// owner's constituency (its registered ranges and domains).
func (s *Service) validate(ctx context.Context, q store.Q, in *SystemInput) error {
	in.normalise()
	v := errs.Invalid("infosys: system")
	text(v, "name", in.Name, maxName, true)
	text(v, "purpose", in.Purpose, maxText, false)
	text(v, "providers", in.Providers, maxText, false)
	text(v, "components", in.Components, maxText, false)
	if in.Sector != "" && !org.ValidSector(org.Sector(in.Sector)) {
		v.Field("sector", "field.invalid_choice")
	}
	if !slices.Contains(IOCs, in.IOC) {
		v.Field("ioc", "field.invalid_choice")
	}
	if !slices.Contains(DataKinds, in.DataKind) {
		v.Field("data_kind", "field.invalid_choice")
	}
	if in.PersonalCount < 0 || in.PersonalCount > MaxPersonal {
		v.Field("personal_count", "infosys.err.count", MaxPersonal)
	} else if in.PersonalCount > 0 && in.DataKind == DataPublic {
		v.Field("personal_count", "infosys.err.personal_public")
	}
	if in.Users < 0 || in.Users > MaxUsers {
		v.Field("users", "infosys.err.count", MaxUsers)
	}
	if in.PublicServiceLevel < 0 || in.PublicServiceLevel > 4 {
		v.Field("public_service_level", "infosys.err.psl")
	}
	if len(in.Addresses) > maxAddrs {
		v.Field("addresses", "infosys.err.too_many", maxAddrs)
	}
	if len(in.Domains) > maxDomainList {
		v.Field("domains", "infosys.err.too_many", maxDomainList)
	}
	if in.OwnerOrgID <= 0 {
		v.Field("owner_org_id", "infosys.err.required")
	} else if ok, err := orgExists(ctx, q, in.OwnerOrgID); err != nil {
		return err
	} else if !ok {
		v.Field("owner_org_id", "infosys.err.org")
	}
	if in.OperatorOrgID < 0 {
		v.Field("operator_org_id", "infosys.err.org")
	} else if in.OperatorOrgID > 0 {
		if ok, err := orgExists(ctx, q, in.OperatorOrgID); err != nil {
			return err
		} else if !ok {
			v.Field("operator_org_id", "infosys.err.org")
		}
	}
	if v.Has("owner_org_id") {
		return v.OrNil()
	}
	// The constituency of the owner.
	var prefixes []netip.Prefix
	var domains []string
	if len(in.Addresses) > 0 {
		cidrs, err := strs(ctx, q, "SELECT cidr FROM org_ranges WHERE org_id = ?", in.OwnerOrgID)
		if err != nil {
			return err
		}
		for _, c := range cidrs {
			if p, err := netip.ParsePrefix(c); err == nil {
				prefixes = append(prefixes, p)
			}
		}
	}
	if len(in.Domains) > 0 {
		ds, err := strs(ctx, q, "SELECT domain FROM org_domains WHERE org_id = ?", in.OwnerOrgID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			domains = append(domains, strings.ToLower(d))
		}
	}
	for _, a := range in.Addresses {
		if msg, arg := addressProblem(a, prefixes); msg != "" {
			v.Field("addresses", msg, arg)
			break
		}
	}
	for _, d := range in.Domains {
		if msg, arg := domainProblem(d, domains); msg != "" {
			v.Field("domains", msg, arg)
			break
		}
	}
	return v.OrNil()
}

// addressProblem says what is wrong with an address or range of a system
// given the owner's ranges ("" when nothing).
func addressProblem(a string, ranges []netip.Prefix) (string, string) {
	var p netip.Prefix
	if strings.Contains(a, "/") {
		x, err := netip.ParsePrefix(a)
		if err != nil {
			return "infosys.err.address", a
		}
		p = x.Masked()
	} else {
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Zone() != "" {
			return "infosys.err.address", a
		}
		p = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
	}
	for _, r := range ranges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return "", ""
		}
	}
	return "infosys.err.address_outside", a
}

// domainProblem says what is wrong with a domain of a system given the
// owner's domains.
func domainProblem(d string, owned []string) (string, string) {
	if c, ok := org.CanonicalDomain(d); !ok || c != d {
		return "infosys.err.domain", d
	}
	for _, o := range owned {
		if d == o || strings.HasSuffix(d, "."+o) {
			return "", ""
		}
	}
	return "infosys.err.domain_outside", d
}

const systemCols = `s.id, s.owner_org_id, s.operator_org_id, s.name, s.purpose, s.sector, s.ioc, s.national_critical, s.data_kind,
	s.personal_count, s.public_service_level, s.users, s.addresses, s.domains, s.providers, s.components, s.level,
	s.level_approved_on, s.plan_deployed, s.created_at, s.updated_at`

type scanner interface{ Scan(...any) error }

func scanSystem(r scanner) (System, error) {
	var x System
	var op sql.NullInt64
	var addrs, doms string
	var appr sql.NullTime
	err := r.Scan(&x.ID, &x.OwnerOrgID, &op, &x.Name, &x.Purpose, &x.Sector, &x.IOC, &x.NationalCritical, &x.DataKind,
		&x.PersonalCount, &x.PublicServiceLevel, &x.Users, &addrs, &doms, &x.Providers, &x.Components, &x.Level,
		&appr, &x.PlanDeployed, &x.CreatedAt, &x.UpdatedAt)
	x.OperatorOrgID = op.Int64
	x.Addresses, x.Domains = splitLines(addrs), splitLines(doms)
	x.LevelApprovedOn = store.TimeOf(appr)
	x.CreatedAt, x.UpdatedAt = x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return x, err
}

func splitLines(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

func getSystem(ctx context.Context, q store.Q, id int64) (System, error) {
	return scanSystem(q.QueryRow(ctx, "SELECT "+systemCols+" FROM infosys_systems s WHERE s.id = ?", id))
}

// CreateSystem registers a system; like moving one (UpdateSystem), it needs
// the right to write for the owner: an operator keeps the systems it runs
// but does not register them in another organisation's name.
func (s *Service) CreateSystem(ctx context.Context, a policy.Actor, in SystemInput) (System, error) {
	const op = "infosys: create system"
	if err := check(a, policy.InfosysWrite, in.OwnerOrgID, 0); err != nil {
		return System{}, err
	}
	var out System
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if err := s.validate(ctx, tx, &in); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO infosys_systems (owner_org_id, operator_org_id, name, purpose, sector, ioc,
			national_critical, data_kind, personal_count, public_service_level, users, addresses, domains, providers,
			components, plan_deployed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.OwnerOrgID, store.NullID(in.OperatorOrgID), in.Name, in.Purpose, in.Sector, in.IOC, in.NationalCritical, in.DataKind,
			in.PersonalCount, in.PublicServiceLevel, in.Users, strings.Join(in.Addresses, "\n"), strings.Join(in.Domains, "\n"),
			in.Providers, in.Components, in.PlanDeployed, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.Invalid(op).Field("name", "infosys.err.name_taken")
		}
		if err != nil {
			return err
		}
		if out, err = getSystem(ctx, tx, id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, in.OwnerOrgID, "infosys.system.create", "infosys_system", id, nil, out)
	})
	return out, err
}

// UpdateSystem changes a system; moving it to another owner needs the
// right to write for both.
func (s *Service) UpdateSystem(ctx context.Context, a policy.Actor, id int64, in SystemInput) (System, error) {
	const op = "infosys: update system"
	var out System
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		before, err := getSystem(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysWrite, before.OwnerOrgID, before.OperatorOrgID); err != nil {
			return err
		}
		if in.OwnerOrgID == 0 {
			in.OwnerOrgID = before.OwnerOrgID
		}
		if in.OwnerOrgID != before.OwnerOrgID || in.OperatorOrgID != before.OperatorOrgID {
			if err := policy.Check(a, policy.InfosysWrite, resource(in.OwnerOrgID, 0)); err != nil {
				return errs.Forbidden(op)
			}
		}
		if err := s.validate(ctx, tx, &in); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE infosys_systems SET owner_org_id = ?, operator_org_id = ?, name = ?, purpose = ?, sector = ?,
			ioc = ?, national_critical = ?, data_kind = ?, personal_count = ?, public_service_level = ?, users = ?, addresses = ?,
			domains = ?, providers = ?, components = ?, plan_deployed = ?, updated_at = ? WHERE id = ?`,
			in.OwnerOrgID, store.NullID(in.OperatorOrgID), in.Name, in.Purpose, in.Sector, in.IOC, in.NationalCritical, in.DataKind,
			in.PersonalCount, in.PublicServiceLevel, in.Users, strings.Join(in.Addresses, "\n"), strings.Join(in.Domains, "\n"),
			in.Providers, in.Components, in.PlanDeployed, now, id)
		if store.IsUniqueViolation(err) {
			return errs.Invalid(op).Field("name", "infosys.err.name_taken")
		}
		if err != nil {
			return err
		}
		if out, err = getSystem(ctx, tx, id); err != nil {
			return err
		}
		if err := noteChange(ctx, tx, now, a, before, out, ""); err != nil {
			return err
		}
		return record(ctx, tx, now, a, out.OwnerOrgID, "infosys.system.update", "infosys_system", id, before, out)
	})
	return out, err
}

// System returns one system the actor may see.
func (s *Service) System(ctx context.Context, a policy.Actor, id int64) (System, error) {
	x, err := getSystem(ctx, s.DB, id)
	if err != nil {
		return System{}, store.Wrap("infosys: system", err)
	}
	if err := check(a, policy.InfosysRead, x.OwnerOrgID, x.OperatorOrgID); err != nil {
		return System{}, err
	}
	return x, nil
}

// Filter narrows the list of systems.
type Filter struct {
	OrgID  int64 // owner or operator
	Level  int   // -1 any, 0 unclassified, 1–5
	Sector string
	Query  string
	Limit  int
	Offset int
}

// List returns the systems in scope matching f and how many match.
func (s *Service) List(ctx context.Context, a policy.Actor, f Filter) ([]System, int, error) {
	const op = "infosys: list"
	if err := policy.Check(a, policy.InfosysRead, resource(a.OrgID, 0)); err != nil && !a.System {
		return nil, 0, err
	}
	where, args := scopeWhere(a)
	if f.OrgID > 0 {
		where += " AND (s.owner_org_id = ? OR s.operator_org_id = ?)"
		args = append(args, f.OrgID, f.OrgID)
	}
	if f.Level >= 0 && f.Level <= 5 {
		where += " AND s.level = ?"
		args = append(args, f.Level)
	}
	if f.Sector != "" {
		where += " AND s.sector = ?"
		args = append(args, f.Sector)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where += " AND LOWER(s.name) LIKE ? ESCAPE '\\'"
		args = append(args, store.Like(strings.ToLower(q)))
	}
	var total int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_systems s WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.DB.Query(ctx, "SELECT "+systemCols+" FROM infosys_systems s WHERE "+where+
		" ORDER BY s.level DESC, s.name, s.id LIMIT ? OFFSET ?", append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []System
	for rows.Next() {
		x, err := scanSystem(rows)
		if err != nil {
			return nil, 0, errs.Internal(op, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	return out, total, nil
}
