package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"certnet/internal/auth"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// seededKey is the settings row that marks the database as seeded. Its value
// is "started <time>" while seeding runs and "done <time>" once it finished.
const seededKey = "demo.seeded"

// dataYear is the year the data is written for (cluster heads, member
// profiles). Seeding moves these years by as many years as now is after it,
// so that the demo network is always current.
const dataYear = 2026

// Credential is a demo user's first password, shown once.
type Credential struct {
	Username, Password, Role, Org string
}

// Result is what Seed did.
type Result struct {
	// Seeded is false when the database had been seeded before: nothing
	// was done.
	Seeded      bool
	Orgs, Users int
	Credentials []Credential
}

// Seed fills an empty database with the demo network, through the org and
// auth services acting as policy.SystemActor("demo"): every row is validated
// and audited like any other change. It is idempotent: a second run finds the
// settings row "demo.seeded" and returns Seeded=false. It refuses a database
// that already holds organisations of its own, so the fictional network
// never mixes with a real registry.
func Seed(ctx context.Context, db *store.DB, orgs *org.Service, users *auth.Service, now time.Time) (Result, error) {
	const op = "demo: seed"
	d, err := Load()
	if err != nil {
		return Result{}, err
	}
	claimed, err := claim(ctx, db, now)
	if err != nil || !claimed {
		return Result{}, err
	}
	s := &seeder{d: d, orgs: orgs, users: users, a: policy.SystemActor("demo"),
		yearShift: now.Year() - dataYear, ids: map[string]int64{}, clusters: map[string]int64{}}
	res, err := s.run(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w (the seeding is incomplete: start again with an empty database)", op, err)
	}
	if _, err := db.Exec(ctx, "UPDATE settings SET value = ? WHERE key = ?", "done "+now.UTC().Format(time.RFC3339), seededKey); err != nil {
		return Result{}, fmt.Errorf("%s: %w", op, err)
	}
	res.Seeded = true
	return res, nil
}

// claim marks the database as being seeded. It returns false when it was
// seeded before, and an error when a previous run did not finish or the
// database holds organisations already.
func claim(ctx context.Context, db *store.DB, now time.Time) (bool, error) {
	const op = "demo: seed"
	var claimed bool
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var v string
		err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", seededKey).Scan(&v)
		switch {
		case err == nil && strings.HasPrefix(v, "done"):
			return nil
		case err == nil:
			return fmt.Errorf("a previous demo seeding did not finish (%s): start again with an empty database", v)
		case !store.IsNoRows(err):
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM organisations").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the database holds %d organisations already: the demo network is seeded only into an empty database", n)
		}
		res, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
			seededKey, "started "+now.UTC().Format(time.RFC3339))
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		claimed = err == nil && k == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return claimed, nil
}

type seeder struct {
	d         *Dataset
	orgs      *org.Service
	users     *auth.Service
	a         policy.Actor
	yearShift int
	ids       map[string]int64 // organisation code → id
	clusters  map[string]int64 // cluster code → id
}

func (s *seeder) run(ctx context.Context) (Result, error) {
	var res Result
	for _, p := range s.d.Provinces {
		if err := s.orgs.SaveProvince(ctx, s.a, org.Province{Code: p.Code, Name: p.Name, Region: p.Region, SortOrder: p.SortOrder,
			Map: &org.MapTile{Col: p.MapCol, Row: p.MapRow}}); err != nil {
			return res, fmt.Errorf("province %s: %w", p.Code, err)
		}
	}
	// Clusters first without their head and deputy, who do not exist yet.
	for _, c := range s.d.Clusters {
		cl, err := s.orgs.SaveCluster(ctx, s.a, org.Cluster{Code: c.Code, Name: c.Name})
		if err != nil {
			return res, fmt.Errorf("cluster %s: %w", c.Code, err)
		}
		s.clusters[c.Code] = cl.ID
	}
	for _, o := range parentFirst(s.d.Orgs) {
		if err := s.org(ctx, o); err != nil {
			return res, fmt.Errorf("organisation %s: %w", o.Code, err)
		}
		res.Orgs++
	}
	for _, c := range s.d.Clusters {
		_, err := s.orgs.SaveCluster(ctx, s.a, org.Cluster{ID: s.clusters[c.Code], Code: c.Code, Name: c.Name,
			HeadOrgID: s.ids[c.Head], DeputyOrgID: s.ids[c.Deputy], HeadYear: c.HeadYear + s.yearShift})
		if err != nil {
			return res, fmt.Errorf("cluster %s: %w", c.Code, err)
		}
	}
	for _, u := range s.d.Users {
		pw, err := password()
		if err != nil {
			return res, err
		}
		roles := make([]policy.Role, len(u.Roles))
		for i, r := range u.Roles {
			roles[i] = policy.Role(r)
		}
		if _, err := s.users.CreateUser(ctx, s.a, auth.UserInput{OrgID: s.ids[u.Org], Username: u.Username,
			DisplayName: u.DisplayName, Email: u.Email, Locale: u.Locale, Roles: roles, Password: pw}); err != nil {
			return res, fmt.Errorf("user %s: %w", u.Username, err)
		}
		res.Users++
		res.Credentials = append(res.Credentials, Credential{Username: u.Username, Password: pw,
			Role: strings.Join(u.Roles, ","), Org: s.d.Org(u.Org).Name})
	}
	return res, nil
}

func (s *seeder) org(ctx context.Context, o OrgData) error {
	in := org.Input{
		Code: o.Code, Name: o.Name, NameEN: o.NameEn, ShortName: o.ShortName, ParentID: s.ids[o.Parent],
		Region: o.Region, ProvinceCode: o.Province, ClusterID: s.clusters[o.Cluster], Sector: org.Sector(o.Sector),
		Address: o.Address, IntakeEmail: o.IntakeEmail, IntakePhone: o.IntakePhone, Website: o.Website,
		SecurityLead: o.SecurityLead, Active: true,
	}
	for _, r := range o.Roles {
		in.Roles = append(in.Roles, org.Role(r))
	}
	if p := o.Profile; p != nil {
		in.ProfileYear = o.ProfileYear + s.yearShift
		in.Profile = profile(p)
	}
	created, err := s.orgs.Create(ctx, s.a, in)
	if err != nil {
		return err
	}
	s.ids[o.Code] = created.ID
	for _, c := range o.Contacts {
		if _, err := s.orgs.SaveContact(ctx, s.a, created.ID, org.ContactInput{Kind: c.Kind, Name: c.Name,
			Title: c.Title, Email: c.Email, Phone: c.Phone, Phone247: c.Phone247}); err != nil {
			return fmt.Errorf("contact %s: %w", c.Name, err)
		}
	}
	for _, r := range o.Ranges {
		if _, err := s.orgs.AddRange(ctx, s.a, created.ID, r.CIDR, r.Note); err != nil {
			return fmt.Errorf("range %s: %w", r.CIDR, err)
		}
	}
	for _, r := range o.ASNs {
		if _, err := s.orgs.AddASN(ctx, s.a, created.ID, r.ASN, r.Note); err != nil {
			return fmt.Errorf("%s: %w", r.ASN, err)
		}
	}
	for _, r := range o.Domains {
		if _, err := s.orgs.AddDomain(ctx, s.a, created.ID, r.Domain, r.Note); err != nil {
			return fmt.Errorf("domain %s: %w", r.Domain, err)
		}
	}
	return nil
}

func profile(p *ProfileData) org.Profile {
	out := org.Profile{
		SecurityLead:     org.Person{Name: p.SecurityLead.Name, Title: p.SecurityLead.Title, Email: p.SecurityLead.Email, Phone: p.SecurityLead.Phone},
		Capabilities:     slices.Clone(p.Capabilities),
		ResponseTeamSize: p.ResponseTeamSize,
		SystemsByLevel:   p.SystemsByLevel,
		Notes:            p.Notes,
	}
	for _, c := range p.Staff {
		out.Staff = append(out.Staff, org.StaffCount{Field: c.Field, Count: c.Count})
	}
	for _, c := range p.Certificates {
		out.Certificates = append(out.Certificates, org.CertCount{Name: c.Name, Count: c.Count})
	}
	for _, g := range p.ExpertGroups {
		out.ExpertGroups = append(out.ExpertGroups, org.ExpertGroup{Name: g.Name, Lead: g.Lead, Members: g.Members})
	}
	return out
}

// parentFirst orders organisations so that every parent comes before its
// children (the data is written that way; this keeps the seeder right if
// someone reorders the file).
func parentFirst(in []OrgData) []OrgData {
	out := make([]OrgData, 0, len(in))
	done := map[string]bool{}
	for len(out) < len(in) {
		progress := false
		for _, o := range in {
			if !done[o.Code] && (o.Parent == "" || done[o.Parent]) {
				out = append(out, o)
				done[o.Code] = true
				progress = true
			}
		}
		if !progress { // a missing parent or a cycle: let Create report it
			for _, o := range in {
				if !done[o.Code] {
					out = append(out, o)
					done[o.Code] = true
				}
			}
		}
	}
	return out
}

// passwordAlphabet leaves out characters that are easily confused when a
// password is read off a terminal: 0/O, 1/l/I.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// password returns a random password of four groups of five characters
// (about 116 bits), e.g. "k3Rtw-9xQpa-…".
func password() (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		for {
			if _, err := rand.Read(buf); err != nil {
				return "", fmt.Errorf("demo: password: %w", err)
			}
			// Rejection sampling keeps the choice uniform.
			if int(buf[0]) < 256-256%len(passwordAlphabet) {
				b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
				break
			}
		}
	}
	return b.String(), nil
}

// WriteCredentials prints the demo users and their passwords as a table.
// The passwords are not stored anywhere else: this is the only time they
// are shown.
func (r Result) WriteCredentials(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tPASSWORD\tROLE\tORGANISATION")
	for _, c := range r.Credentials {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Username, c.Password, c.Role, c.Org)
	}
	return tw.Flush()
}

// claimOnce records in settings that the demo part named key is being
// seeded; it reports false when an earlier start (or a concurrent one)
// claimed it already, so that each part is seeded once.
func claimOnce(ctx context.Context, db *store.DB, key string, now time.Time) (bool, error) {
	res, err := db.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		key, "done "+now.UTC().Format(time.RFC3339))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
