package readiness

import (
	"context"
	"database/sql"
	"net/mail"
	"slices"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Member roles on a team.
const (
	RoleLead   = "lead"
	RoleDeputy = "deputy"
	RoleExpert = "expert"
	RoleMember = "member"
)

// MemberRoles lists the roles, for forms.
var MemberRoles = []string{RoleLead, RoleDeputy, RoleExpert, RoleMember}

// Training levels (QĐ 1014: operators trained basic, security staff in depth).
const (
	LevelBasic    = "basic"
	LevelAdvanced = "advanced"
)

// TrainingLevels lists the levels, for forms.
var TrainingLevels = []string{LevelBasic, LevelAdvanced}

// IOC roles of a person (QĐ 1014 smart-city targets).
const (
	IOCNone     = ""
	IOCOperator = "operator"
	IOCSecurity = "security"
)

// IOCRoles lists the roles, for forms.
var IOCRoles = []string{IOCNone, IOCOperator, IOCSecurity}

// Agreement lets people of PartnerOrgID serve on teams of OrgID.
type Agreement struct {
	ID           int64     `json:"id"`
	OrgID        int64     `json:"org_id"`
	PartnerOrgID int64     `json:"partner_org_id"`
	PartnerName  string    `json:"partner_name,omitempty"`
	DocRef       string    `json:"doc_ref"`
	SignedOn     time.Time `json:"signed_on"`
	ValidUntil   time.Time `json:"valid_until,omitzero"`
	Note         string    `json:"note,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// Valid reports whether the agreement holds on day now.
func (g Agreement) Valid(now time.Time) bool {
	return !now.Before(g.SignedOn) && (g.ValidUntil.IsZero() || !day(now).After(g.ValidUntil))
}

// AgreementInput is a new agreement.
type AgreementInput struct {
	OrgID        int64
	PartnerOrgID int64
	DocRef       string
	SignedOn     time.Time
	ValidUntil   time.Time
	Note         string
}

// Team is a response team of an organisation.
type Team struct {
	ID          int64     `json:"id"`
	OrgID       int64     `json:"org_id"`
	OrgName     string    `json:"org_name,omitempty"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	Email       string    `json:"email,omitempty"`
	Members     int       `json:"members"`
	Qualified   int       `json:"qualified"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MeetsExperts reports whether the team has at least MinExperts qualified experts.
func (t Team) MeetsExperts() bool { return t.Qualified >= MinExperts }

// TeamInput is a team's editable fields.
type TeamInput struct {
	OrgID       int64
	Name        string
	Description string
	Phone       string
	Email       string
}

// Person is someone of an organisation who serves on teams.
type Person struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	OrgName   string    `json:"org_name,omitempty"`
	FullName  string    `json:"full_name"`
	Title     string    `json:"title,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Skills    string    `json:"skills,omitempty"`
	IOCRole   string    `json:"ioc_role,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	Certificates []Certificate `json:"certificates"`
	Trainings    []Training    `json:"trainings"`
}

// Qualified reports whether the person holds a certificate valid on now
// (the skill standard: a recorded, unexpired professional certificate).
func (p Person) Qualified(now time.Time) bool {
	return slices.ContainsFunc(p.Certificates, func(c Certificate) bool { return c.ValidOn(now) })
}

// TrainedAt reports whether the person finished a course of the level
// (advanced also counts as basic).
func (p Person) TrainedAt(level string) bool {
	return slices.ContainsFunc(p.Trainings, func(t Training) bool {
		return t.Level == level || (level == LevelBasic && t.Level == LevelAdvanced)
	})
}

// PersonInput is a person's editable fields.
type PersonInput struct {
	OrgID    int64
	FullName string
	Title    string
	Email    string
	Phone    string
	Skills   string
	IOCRole  string
}

// Member is a person on a team.
type Member struct {
	Person
	TeamID      int64     `json:"team_id"`
	Role        string    `json:"role"`
	AgreementID int64     `json:"agreement_id,omitempty"`
	JoinedAt    time.Time `json:"joined_at"`
	IsQualified bool      `json:"qualified"`
}

// Certificate is a professional certificate of a person.
type Certificate struct {
	ID         int64     `json:"id"`
	PersonID   int64     `json:"person_id"`
	Name       string    `json:"name"`
	Issuer     string    `json:"issuer,omitempty"`
	ObtainedOn time.Time `json:"obtained_on"`
	ExpiresOn  time.Time `json:"expires_on,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
}

// ValidOn reports whether the certificate is valid on now.
func (c Certificate) ValidOn(now time.Time) bool {
	return !day(now).Before(c.ObtainedOn) && (c.ExpiresOn.IsZero() || !day(now).After(c.ExpiresOn))
}

// CertificateInput is a new certificate.
type CertificateInput struct {
	Name       string
	Issuer     string
	ObtainedOn time.Time
	ExpiresOn  time.Time
}

// Training is a course a person attended.
type Training struct {
	ID         int64     `json:"id"`
	PersonID   int64     `json:"person_id"`
	Course     string    `json:"course"`
	Provider   string    `json:"provider,omitempty"`
	Level      string    `json:"level"`
	FinishedOn time.Time `json:"finished_on"`
	Hours      int       `json:"hours"`
	CreatedAt  time.Time `json:"created_at"`
}

// TrainingInput is a new course attended.
type TrainingInput struct {
	Course     string
	Provider   string
	Level      string
	FinishedOn time.Time
	Hours      int
}

// ---- agreements

// AddAgreement records an agreement between the organisation and a partner.
func (s *Service) AddAgreement(ctx context.Context, a policy.Actor, in AgreementInput) (Agreement, error) {
	const op = "readiness: add agreement"
	in.DocRef, in.Note = strings.TrimSpace(in.DocRef), strings.TrimSpace(in.Note)
	in.SignedOn, in.ValidUntil = day(in.SignedOn), day(in.ValidUntil)
	if err := check(a, policy.ReadinessWrite, in.OrgID); err != nil {
		return Agreement{}, err
	}
	var out Agreement
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		v := errs.Invalid(op)
		text(v, "doc_ref", in.DocRef, maxLine, true)
		text(v, "note", in.Note, maxText, false)
		date(v, "signed_on", in.SignedOn, now, true, 1)
		date(v, "valid_until", in.ValidUntil, now, false, 50)
		if !in.ValidUntil.IsZero() && !in.SignedOn.IsZero() && in.ValidUntil.Before(in.SignedOn) {
			v.Field("valid_until", "readiness.err.before_start")
		}
		if in.PartnerOrgID == in.OrgID {
			v.Field("partner_org_id", "readiness.err.partner_self")
		} else if ok, err := orgExists(ctx, tx, in.PartnerOrgID); err != nil {
			return err
		} else if !ok {
			v.Field("partner_org_id", "readiness.err.org")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Agreement{OrgID: in.OrgID, PartnerOrgID: in.PartnerOrgID, DocRef: in.DocRef, SignedOn: in.SignedOn,
			ValidUntil: in.ValidUntil, Note: in.Note, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_agreements (org_id, partner_org_id, doc_ref, signed_on,
			valid_until, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.PartnerOrgID,
			in.DocRef, in.SignedOn, store.NullTime(in.ValidUntil), in.Note, now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, in.OrgID, "readiness.agreement.add", "readiness_agreement", out.ID, nil, out)
	})
	return out, err
}

// Agreements lists the organisation's agreements.
func (s *Service) Agreements(ctx context.Context, a policy.Actor, orgID int64) ([]Agreement, error) {
	const op = "readiness: agreements"
	if err := check(a, policy.ReadinessRead, orgID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT g.id, g.org_id, g.partner_org_id, o.name, g.doc_ref, g.signed_on, g.valid_until,
		g.note, g.created_at FROM readiness_agreements g JOIN organisations o ON o.id = g.partner_org_id
		WHERE g.org_id = ? ORDER BY g.signed_on DESC, g.id`, orgID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Agreement
	for rows.Next() {
		var g Agreement
		var until sql.NullTime
		if err := rows.Scan(&g.ID, &g.OrgID, &g.PartnerOrgID, &g.PartnerName, &g.DocRef, &g.SignedOn, &until, &g.Note, &g.CreatedAt); err != nil {
			return nil, errs.Internal(op, err)
		}
		g.SignedOn, g.ValidUntil, g.CreatedAt = g.SignedOn.UTC(), store.TimeOf(until), g.CreatedAt.UTC()
		out = append(out, g)
	}
	return out, store.Wrap(op, rows.Err())
}

// validAgreement returns the id of an agreement of orgID with partner valid at now, 0 when none.
func validAgreement(ctx context.Context, q store.Q, orgID, partner int64, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM readiness_agreements WHERE org_id = ? AND partner_org_id = ?
		AND signed_on <= ? AND (valid_until IS NULL OR valid_until >= ?) ORDER BY id DESC LIMIT 1`,
		orgID, partner, now, day(now)).Scan(&id)
	if store.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// ---- teams

func (s *Service) validateTeam(ctx context.Context, q store.Q, op string, in *TeamInput, id int64) error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	in.Phone, in.Email = strings.TrimSpace(in.Phone), strings.TrimSpace(in.Email)
	v := errs.Invalid(op)
	text(v, "name", in.Name, maxName, true)
	text(v, "description", in.Description, maxText, false)
	text(v, "phone", in.Phone, 40, false)
	checkEmail(v, "email", in.Email)
	if in.Name != "" && !v.Has("name") {
		var other int64
		err := q.QueryRow(ctx, "SELECT id FROM readiness_teams WHERE org_id = ? AND name = ?", in.OrgID, in.Name).Scan(&other)
		if err != nil && !store.IsNoRows(err) {
			return err
		}
		if err == nil && other != id {
			v.Field("name", "readiness.err.team_exists")
		}
	}
	return v.OrNil()
}

func checkEmail(v *errs.Error, field, s string) {
	if s == "" {
		return
	}
	if len(s) > 254 {
		v.Field(field, "readiness.err.email")
		return
	}
	if addr, err := mail.ParseAddress(s); err != nil || addr.Address != s {
		v.Field(field, "readiness.err.email")
	}
}

// CreateTeam adds a team to an organisation.
func (s *Service) CreateTeam(ctx context.Context, a policy.Actor, in TeamInput) (Team, error) {
	const op = "readiness: create team"
	if err := check(a, policy.ReadinessWrite, in.OrgID); err != nil {
		return Team{}, err
	}
	var out Team
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if err := needOrg(ctx, tx, op, in.OrgID); err != nil {
			return err
		}
		if err := s.validateTeam(ctx, tx, op, &in, 0); err != nil {
			return err
		}
		out = Team{OrgID: in.OrgID, Name: in.Name, Description: in.Description, Phone: in.Phone, Email: in.Email,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_teams (org_id, name, description, phone, email, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.Name, in.Description, in.Phone, in.Email, now, now).
			Scan(&out.ID); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Invalid(op).Field("name", "readiness.err.team_exists")
			}
			return err
		}
		return record(ctx, tx, now, a, in.OrgID, "readiness.team.create", "readiness_team", out.ID, nil, out)
	})
	return out, err
}

// UpdateTeam changes a team's fields (not its organisation).
func (s *Service) UpdateTeam(ctx context.Context, a policy.Actor, id int64, in TeamInput) (Team, error) {
	const op = "readiness: update team"
	var out Team
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		before, err := loadTeam(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := check(a, policy.ReadinessWrite, before.OrgID); err != nil {
			return err
		}
		in.OrgID = before.OrgID
		if err := s.validateTeam(ctx, tx, op, &in, id); err != nil {
			return err
		}
		out = before
		out.Name, out.Description, out.Phone, out.Email, out.UpdatedAt = in.Name, in.Description, in.Phone, in.Email, now
		if _, err := tx.Exec(ctx, `UPDATE readiness_teams SET name = ?, description = ?, phone = ?, email = ?, updated_at = ?
			WHERE id = ?`, out.Name, out.Description, out.Phone, out.Email, now, id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, out.OrgID, "readiness.team.update", "readiness_team", id, before, out)
	})
	return out, err
}

const teamCols = `t.id, t.org_id, o.name, t.name, t.description, t.phone, t.email, t.created_at, t.updated_at`

// scanTeam scans teamCols, then more.
func scanTeam(sc interface{ Scan(...any) error }, more ...any) (Team, error) {
	var t Team
	err := sc.Scan(append([]any{&t.ID, &t.OrgID, &t.OrgName, &t.Name, &t.Description, &t.Phone, &t.Email, &t.CreatedAt, &t.UpdatedAt},
		more...)...)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

func loadTeam(ctx context.Context, q store.Q, id int64) (Team, error) {
	t, err := scanTeam(q.QueryRow(ctx, `SELECT `+teamCols+` FROM readiness_teams t JOIN organisations o ON o.id = t.org_id
		WHERE t.id = ?`, id))
	if store.IsNoRows(err) {
		return Team{}, errs.NotFound("readiness: team")
	}
	return t, err
}

// TeamDetail is a team with its members.
type TeamDetail struct {
	Team
	MemberList []Member `json:"member_list"`
}

// Team returns one team with its members, their certificates and courses.
func (s *Service) Team(ctx context.Context, a policy.Actor, id int64) (TeamDetail, error) {
	const op = "readiness: team"
	t, err := loadTeam(ctx, s.DB, id)
	if err != nil {
		return TeamDetail{}, store.Wrap(op, err)
	}
	if err := check(a, policy.ReadinessRead, t.OrgID); err != nil {
		return TeamDetail{}, err
	}
	members, err := s.members(ctx, id)
	if err != nil {
		return TeamDetail{}, errs.Internal(op, err)
	}
	now := s.now()
	d := TeamDetail{Team: t}
	for _, m := range members {
		d.Members++
		if m.IsQualified = m.Qualified(now); m.IsQualified {
			d.Qualified++
		}
		d.MemberList = append(d.MemberList, m)
	}
	return d, nil
}

// Teams lists the teams in the actor's scope (of one organisation when
// orgID is not 0), with member and qualified-expert counts.
func (s *Service) Teams(ctx context.Context, a policy.Actor, orgID int64) ([]Team, error) {
	const op = "readiness: teams"
	where, args := scopeWhere(a, "t.org_id")
	if orgID != 0 {
		if err := check(a, policy.ReadinessRead, orgID); err != nil {
			return nil, err
		}
		where, args = "t.org_id = ?", []any{orgID}
	}
	// Members, and those qualified (Person.Qualified: a certificate valid today).
	today := day(s.now())
	rows, err := s.DB.Query(ctx, `SELECT `+teamCols+`,
		(SELECT COUNT(*) FROM readiness_members m WHERE m.team_id = t.id),
		(SELECT COUNT(*) FROM readiness_members m WHERE m.team_id = t.id AND EXISTS (SELECT 1 FROM readiness_certificates c
			WHERE c.person_id = m.person_id AND c.obtained_on <= ? AND (c.expires_on IS NULL OR c.expires_on >= ?)))
		FROM readiness_teams t JOIN organisations o ON o.id = t.org_id
		WHERE `+where+` ORDER BY o.name, t.name, t.id`, append([]any{today, today}, args...)...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		var members, qualified int
		t, err := scanTeam(rows, &members, &qualified)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		t.Members, t.Qualified = members, qualified
		if policy.Check(a, policy.ReadinessRead, Resource(t.OrgID)) == nil {
			out = append(out, t)
		}
	}
	return out, store.Wrap(op, rows.Err())
}

// members loads the team's members with their certificates and courses.
func (s *Service) members(ctx context.Context, teamID int64) ([]Member, error) {
	rows, err := s.DB.Query(ctx, `SELECT m.team_id, m.role, m.agreement_id, m.joined_at, `+personCols+`
		FROM readiness_members m JOIN readiness_people p ON p.id = m.person_id JOIN organisations o ON o.id = p.org_id
		WHERE m.team_id = ? ORDER BY p.full_name, p.id`, teamID)
	if err != nil {
		return nil, err
	}
	var out []Member
	var ids []int64
	for rows.Next() {
		var m Member
		var agr sql.NullInt64
		if err := rows.Scan(append([]any{&m.TeamID, &m.Role, &agr, &m.JoinedAt}, personDest(&m.Person)...)...); err != nil {
			rows.Close()
			return nil, err
		}
		m.AgreementID, m.JoinedAt = agr.Int64, m.JoinedAt.UTC()
		fixPerson(&m.Person)
		out = append(out, m)
		ids = append(ids, m.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	certs, trainings, err := s.records(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Certificates, out[i].Trainings = certs[out[i].ID], trainings[out[i].ID]
	}
	return out, nil
}

// records loads the certificates and courses of the people.
func (s *Service) records(ctx context.Context, ids []int64) (map[int64][]Certificate, map[int64][]Training, error) {
	certs, trainings := map[int64][]Certificate{}, map[int64][]Training{}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, maxIn) {
		in, args := store.InList(chunk)
		rows, err := s.DB.Query(ctx, `SELECT id, person_id, name, issuer, obtained_on, expires_on, created_at
			FROM readiness_certificates WHERE person_id IN `+in+` ORDER BY obtained_on, id`, args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			c, err := scanCert(rows)
			if err != nil {
				rows.Close()
				return nil, nil, err
			}
			certs[c.PersonID] = append(certs[c.PersonID], c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		rows, err = s.DB.Query(ctx, `SELECT id, person_id, course, provider, level, finished_on, hours, created_at
			FROM readiness_trainings WHERE person_id IN `+in+` ORDER BY finished_on, id`, args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var t Training
			if err := rows.Scan(&t.ID, &t.PersonID, &t.Course, &t.Provider, &t.Level, &t.FinishedOn, &t.Hours, &t.CreatedAt); err != nil {
				rows.Close()
				return nil, nil, err
			}
			t.FinishedOn, t.CreatedAt = t.FinishedOn.UTC(), t.CreatedAt.UTC()
			trainings[t.PersonID] = append(trainings[t.PersonID], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return certs, trainings, nil
}

func scanCert(sc interface{ Scan(...any) error }) (Certificate, error) {
	var c Certificate
	var exp sql.NullTime
	err := sc.Scan(&c.ID, &c.PersonID, &c.Name, &c.Issuer, &c.ObtainedOn, &exp, &c.CreatedAt)
	c.ObtainedOn, c.ExpiresOn, c.CreatedAt = c.ObtainedOn.UTC(), store.TimeOf(exp), c.CreatedAt.UTC()
	return c, err
}

// ---- people

const personCols = `p.id, p.org_id, o.name, p.full_name, p.title, p.email, p.phone, p.skills, p.ioc_role, p.created_at, p.updated_at`

func personDest(p *Person) []any {
	return []any{&p.ID, &p.OrgID, &p.OrgName, &p.FullName, &p.Title, &p.Email, &p.Phone, &p.Skills, &p.IOCRole, &p.CreatedAt, &p.UpdatedAt}
}

func fixPerson(p *Person) { p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC() }

func loadPerson(ctx context.Context, q store.Q, id int64) (Person, error) {
	var p Person
	err := q.QueryRow(ctx, `SELECT `+personCols+` FROM readiness_people p JOIN organisations o ON o.id = p.org_id
		WHERE p.id = ?`, id).Scan(personDest(&p)...)
	if store.IsNoRows(err) {
		return Person{}, errs.NotFound("readiness: person")
	}
	fixPerson(&p)
	return p, err
}

// validatePerson trims and checks a person's fields.
func validatePerson(op string, in *PersonInput) error {
	in.FullName, in.Title, in.Email = strings.TrimSpace(in.FullName), strings.TrimSpace(in.Title), strings.TrimSpace(in.Email)
	in.Phone, in.Skills, in.IOCRole = strings.TrimSpace(in.Phone), strings.TrimSpace(in.Skills), strings.TrimSpace(in.IOCRole)
	v := errs.Invalid(op)
	text(v, "full_name", in.FullName, maxName, true)
	text(v, "title", in.Title, maxLine, false)
	text(v, "phone", in.Phone, 40, false)
	text(v, "skills", in.Skills, maxText, false)
	checkEmail(v, "email", in.Email)
	if !slices.Contains(IOCRoles, in.IOCRole) {
		v.Field("ioc_role", "readiness.err.choice")
	}
	return v.OrNil()
}

// CreatePerson records a person of an organisation.
func (s *Service) CreatePerson(ctx context.Context, a policy.Actor, in PersonInput) (Person, error) {
	const op = "readiness: create person"
	if err := check(a, policy.ReadinessWrite, in.OrgID); err != nil {
		return Person{}, err
	}
	if err := validatePerson(op, &in); err != nil {
		return Person{}, err
	}
	var out Person
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if err := needOrg(ctx, tx, op, in.OrgID); err != nil {
			return err
		}
		out = Person{OrgID: in.OrgID, FullName: in.FullName, Title: in.Title, Email: in.Email, Phone: in.Phone,
			Skills: in.Skills, IOCRole: in.IOCRole, CreatedAt: now, UpdatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_people (org_id, full_name, title, email, phone, skills, ioc_role,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.FullName, in.Title,
			in.Email, in.Phone, in.Skills, in.IOCRole, now, now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, in.OrgID, "readiness.person.create", "readiness_person", out.ID, nil, out)
	})
	return out, err
}

// Person returns one person with their certificates and courses.
func (s *Service) Person(ctx context.Context, a policy.Actor, id int64) (Person, error) {
	const op = "readiness: person"
	p, err := loadPerson(ctx, s.DB, id)
	if err != nil {
		return Person{}, store.Wrap(op, err)
	}
	if err := check(a, policy.ReadinessRead, p.OrgID); err != nil {
		return Person{}, err
	}
	certs, trainings, err := s.records(ctx, []int64{id})
	if err != nil {
		return Person{}, errs.Internal(op, err)
	}
	p.Certificates, p.Trainings = certs[id], trainings[id]
	return p, nil
}

// UpdatePerson changes a person's fields (not their organisation).
func (s *Service) UpdatePerson(ctx context.Context, a policy.Actor, id int64, in PersonInput) (Person, error) {
	const op = "readiness: update person"
	var out Person
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		before, err := personForWrite(ctx, tx, a, id)
		if err != nil {
			return err
		}
		in.OrgID = before.OrgID
		if err := validatePerson(op, &in); err != nil {
			return err
		}
		out = before
		out.FullName, out.Title, out.Email, out.Phone, out.Skills, out.IOCRole, out.UpdatedAt =
			in.FullName, in.Title, in.Email, in.Phone, in.Skills, in.IOCRole, now
		if _, err := tx.Exec(ctx, `UPDATE readiness_people SET full_name = ?, title = ?, email = ?, phone = ?, skills = ?,
			ioc_role = ?, updated_at = ? WHERE id = ?`, out.FullName, out.Title, out.Email, out.Phone, out.Skills, out.IOCRole,
			now, id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, out.OrgID, "readiness.person.update", "readiness_person", id, before, out)
	})
	return out, err
}

// DeletePerson removes a person with their certificates, courses, team
// memberships and shifts. A person serving (under an agreement) on a team
// of an organisation the actor does not keep is taken off that team by
// its keeper first (Conflict). Response plans keep the name they were
// written with.
func (s *Service) DeletePerson(ctx context.Context, a policy.Actor, id int64) error {
	const op = "readiness: delete person"
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		p, err := personForWrite(ctx, tx, a, id)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT t.id, t.org_id, t.name, m.role FROM readiness_members m
			JOIN readiness_teams t ON t.id = m.team_id WHERE m.person_id = ? ORDER BY t.id`, id)
		if err != nil {
			return err
		}
		var teams []map[string]any
		var blocked string
		for rows.Next() {
			var tid, torg int64
			var name, role string
			if err := rows.Scan(&tid, &torg, &name, &role); err != nil {
				rows.Close()
				return err
			}
			teams = append(teams, map[string]any{"team_id": tid, "role": role})
			if blocked == "" && policy.Check(a, policy.ReadinessWrite, Resource(torg)) != nil {
				blocked = name
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if blocked != "" {
			return errs.Conflict(op, "readiness.err.person_on_other_team", blocked)
		}
		var certs []Certificate
		crow, err := tx.Query(ctx, `SELECT id, person_id, name, issuer, obtained_on, expires_on, created_at
			FROM readiness_certificates WHERE person_id = ? ORDER BY id`, id)
		if err != nil {
			return err
		}
		for crow.Next() {
			c, err := scanCert(crow)
			if err != nil {
				crow.Close()
				return err
			}
			certs = append(certs, c)
		}
		crow.Close()
		if err := crow.Err(); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM readiness_shifts WHERE person_id = ?", "DELETE FROM readiness_members WHERE person_id = ?",
			"DELETE FROM readiness_certificates WHERE person_id = ?", "DELETE FROM readiness_trainings WHERE person_id = ?",
			"DELETE FROM readiness_people WHERE id = ?"} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		p.Certificates = certs
		return record(ctx, tx, now, a, p.OrgID, "readiness.person.delete", "readiness_person", id,
			map[string]any{"person": p, "teams": teams}, nil)
	})
}

// People lists the people of the organisations in scope (of one when orgID
// is not 0), with their certificates and courses.
func (s *Service) People(ctx context.Context, a policy.Actor, orgID int64) ([]Person, error) {
	const op = "readiness: people"
	out, err := s.PeopleBrief(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(out))
	for i, p := range out {
		ids[i] = p.ID
	}
	certs, trainings, err := s.records(ctx, ids)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	for i := range out {
		out[i].Certificates, out[i].Trainings = certs[out[i].ID], trainings[out[i].ID]
	}
	return out, nil
}

// PeopleBrief is People without their certificates and courses (to pick
// someone from).
func (s *Service) PeopleBrief(ctx context.Context, a policy.Actor, orgID int64) ([]Person, error) {
	const op = "readiness: people"
	where, args := scopeWhere(a, "p.org_id")
	if orgID != 0 {
		if err := check(a, policy.ReadinessRead, orgID); err != nil {
			return nil, err
		}
		where, args = "p.org_id = ?", []any{orgID}
	}
	rows, err := s.DB.Query(ctx, `SELECT `+personCols+` FROM readiness_people p JOIN organisations o ON o.id = p.org_id
		WHERE `+where+` ORDER BY o.name, p.full_name, p.id`, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(personDest(&p)...); err != nil {
			return nil, errs.Internal(op, err)
		}
		fixPerson(&p)
		if policy.Check(a, policy.ReadinessRead, Resource(p.OrgID)) == nil {
			out = append(out, p)
		}
	}
	return out, store.Wrap(op, rows.Err())
}

// AddMember puts a person on a team. A person of another organisation
// needs an agreement of the team's organisation with theirs, valid today.
func (s *Service) AddMember(ctx context.Context, a policy.Actor, teamID, personID int64, role string) (Member, error) {
	const op = "readiness: add member"
	var out Member
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		t, err := loadTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		if err := check(a, policy.ReadinessWrite, t.OrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if !slices.Contains(MemberRoles, role) {
			v.Field("role", "readiness.err.choice")
		}
		p, err := loadPerson(ctx, tx, personID)
		if errs.Is(err, errs.KindNotFound) {
			return v.Field("person_id", "readiness.err.person").OrNil()
		} else if err != nil {
			return err
		}
		// The person must be someone the actor may see.
		if policy.Check(a, policy.ReadinessRead, Resource(p.OrgID)) != nil {
			return v.Field("person_id", "readiness.err.person").OrNil()
		}
		var agr int64
		if p.OrgID != t.OrgID {
			if agr, err = validAgreement(ctx, tx, t.OrgID, p.OrgID, now); err != nil {
				return err
			}
			if agr == 0 {
				v.Field("person_id", "readiness.err.agreement", p.OrgName)
			}
		}
		var dup int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM readiness_members WHERE team_id = ? AND person_id = ?", teamID, personID).
			Scan(&dup); err != nil {
			return err
		}
		if dup > 0 {
			v.Field("person_id", "readiness.err.member_exists")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Member{Person: p, TeamID: teamID, Role: role, AgreementID: agr, JoinedAt: now}
		if _, err := tx.Exec(ctx, `INSERT INTO readiness_members (team_id, person_id, role, agreement_id, joined_at)
			VALUES (?, ?, ?, ?, ?)`, teamID, personID, role, store.NullID(agr), now); err != nil {
			return err
		}
		return record(ctx, tx, now, a, t.OrgID, "readiness.member.add", "readiness_team", teamID, nil,
			map[string]any{"person_id": personID, "name": p.FullName, "role": role, "agreement_id": agr})
	})
	return out, err
}

// RemoveMember takes a person off a team (their shifts on it go too).
func (s *Service) RemoveMember(ctx context.Context, a policy.Actor, teamID, personID int64) error {
	const op = "readiness: remove member"
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		t, err := loadTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		if err := check(a, policy.ReadinessWrite, t.OrgID); err != nil {
			return err
		}
		var role string
		if err := tx.QueryRow(ctx, "SELECT role FROM readiness_members WHERE team_id = ? AND person_id = ?", teamID, personID).
			Scan(&role); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM readiness_shifts WHERE team_id = ? AND person_id = ?", teamID, personID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM readiness_members WHERE team_id = ? AND person_id = ?", teamID, personID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, t.OrgID, "readiness.member.remove", "readiness_team", teamID,
			map[string]any{"person_id": personID, "role": role}, nil)
	})
}

// personForWrite loads a person and checks the actor may change their records.
func personForWrite(ctx context.Context, tx *store.Tx, a policy.Actor, id int64) (Person, error) {
	p, err := loadPerson(ctx, tx, id)
	if err != nil {
		return Person{}, err
	}
	return p, check(a, policy.ReadinessWrite, p.OrgID)
}

func validateCert(op string, in *CertificateInput, now time.Time) error {
	in.Name, in.Issuer = strings.TrimSpace(in.Name), strings.TrimSpace(in.Issuer)
	in.ObtainedOn, in.ExpiresOn = day(in.ObtainedOn), day(in.ExpiresOn)
	v := errs.Invalid(op)
	text(v, "name", in.Name, maxLine, true)
	text(v, "issuer", in.Issuer, maxLine, false)
	date(v, "obtained_on", in.ObtainedOn, now, true, 0)
	date(v, "expires_on", in.ExpiresOn, now, false, 30)
	if !in.ExpiresOn.IsZero() && !in.ObtainedOn.IsZero() && !in.ExpiresOn.After(in.ObtainedOn) {
		v.Field("expires_on", "readiness.err.before_start")
	}
	return v.OrNil()
}

// AddCertificate records a certificate of a person.
func (s *Service) AddCertificate(ctx context.Context, a policy.Actor, personID int64, in CertificateInput) (Certificate, error) {
	const op = "readiness: add certificate"
	var out Certificate
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		p, err := personForWrite(ctx, tx, a, personID)
		if err != nil {
			return err
		}
		if err := validateCert(op, &in, now); err != nil {
			return err
		}
		out = Certificate{PersonID: personID, Name: in.Name, Issuer: in.Issuer, ObtainedOn: in.ObtainedOn,
			ExpiresOn: in.ExpiresOn, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_certificates (person_id, name, issuer, obtained_on, expires_on, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, personID, in.Name, in.Issuer, in.ObtainedOn, store.NullTime(in.ExpiresOn), now).
			Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, p.OrgID, "readiness.certificate.add", "readiness_certificate", out.ID, nil, out)
	})
	return out, err
}

// certForWrite loads a certificate of the person and checks the actor
// keeps the person's records.
func certForWrite(ctx context.Context, tx *store.Tx, a policy.Actor, personID, id int64) (Person, Certificate, error) {
	p, err := personForWrite(ctx, tx, a, personID)
	if err != nil {
		return p, Certificate{}, err
	}
	c, err := scanCert(tx.QueryRow(ctx, `SELECT id, person_id, name, issuer, obtained_on, expires_on, created_at
		FROM readiness_certificates WHERE id = ? AND person_id = ?`, id, personID))
	if store.IsNoRows(err) {
		return p, c, errs.NotFound("readiness: certificate")
	}
	return p, c, err
}

// UpdateCertificate corrects a certificate of a person (renewed, mistyped).
func (s *Service) UpdateCertificate(ctx context.Context, a policy.Actor, personID, id int64, in CertificateInput) (Certificate, error) {
	const op = "readiness: update certificate"
	var out Certificate
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		p, before, err := certForWrite(ctx, tx, a, personID, id)
		if err != nil {
			return err
		}
		if err := validateCert(op, &in, now); err != nil {
			return err
		}
		out = before
		out.Name, out.Issuer, out.ObtainedOn, out.ExpiresOn = in.Name, in.Issuer, in.ObtainedOn, in.ExpiresOn
		if _, err := tx.Exec(ctx, `UPDATE readiness_certificates SET name = ?, issuer = ?, obtained_on = ?, expires_on = ?
			WHERE id = ?`, out.Name, out.Issuer, out.ObtainedOn, store.NullTime(out.ExpiresOn), id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, p.OrgID, "readiness.certificate.update", "readiness_certificate", id, before, out)
	})
	return out, err
}

// DeleteCertificate removes a certificate of a person.
func (s *Service) DeleteCertificate(ctx context.Context, a policy.Actor, personID, id int64) error {
	const op = "readiness: delete certificate"
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		p, before, err := certForWrite(ctx, tx, a, personID, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM readiness_certificates WHERE id = ?", id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, p.OrgID, "readiness.certificate.delete", "readiness_certificate", id, before, nil)
	})
}

// AddTraining records a course a person attended.
func (s *Service) AddTraining(ctx context.Context, a policy.Actor, personID int64, in TrainingInput) (Training, error) {
	const op = "readiness: add training"
	in.Course, in.Provider, in.Level = strings.TrimSpace(in.Course), strings.TrimSpace(in.Provider), strings.TrimSpace(in.Level)
	in.FinishedOn = day(in.FinishedOn)
	var out Training
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		p, err := personForWrite(ctx, tx, a, personID)
		if err != nil {
			return err
		}
		v := errs.Invalid(op)
		text(v, "course", in.Course, maxLine, true)
		text(v, "provider", in.Provider, maxLine, false)
		if !slices.Contains(TrainingLevels, in.Level) {
			v.Field("level", "readiness.err.choice")
		}
		date(v, "finished_on", in.FinishedOn, now, true, 0)
		if in.Hours < 0 || in.Hours > 10000 {
			v.Field("hours", "readiness.err.hours")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Training{PersonID: personID, Course: in.Course, Provider: in.Provider, Level: in.Level,
			FinishedOn: in.FinishedOn, Hours: in.Hours, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_trainings (person_id, course, provider, level, finished_on, hours, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, personID, in.Course, in.Provider, in.Level, in.FinishedOn, in.Hours, now).
			Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, p.OrgID, "readiness.training.add", "readiness_training", out.ID, nil, out)
	})
	return out, err
}

// Targets1014 are the QĐ 1014 people percentages of an organisation's
// records: IOC operators trained (basic) and IOC security staff trained in
// depth (advanced).
type Targets1014 struct {
	Operators        int `json:"operators"`
	OperatorsTrained int `json:"operators_trained"`
	Security         int `json:"security"`
	SecurityTrained  int `json:"security_trained"`
}

// Pct returns part of whole in percent (100 when whole is 0: nothing to do).
func Pct(part, whole int) int {
	if whole == 0 {
		return 100
	}
	return part * 100 / whole
}

// OperatorsPct is the share of IOC operators trained.
func (t Targets1014) OperatorsPct() int { return Pct(t.OperatorsTrained, t.Operators) }

// SecurityPct is the share of IOC security staff trained in depth.
func (t Targets1014) SecurityPct() int { return Pct(t.SecurityTrained, t.Security) }

// Targets computes the QĐ 1014 people percentages from the people listed.
func Targets(people []Person) Targets1014 {
	var t Targets1014
	for _, p := range people {
		switch p.IOCRole {
		case IOCOperator:
			t.Operators++
			if p.TrainedAt(LevelBasic) {
				t.OperatorsTrained++
			}
		case IOCSecurity:
			t.Security++
			if p.TrainedAt(LevelAdvanced) {
				t.SecurityTrained++
			}
		}
	}
	return t
}
