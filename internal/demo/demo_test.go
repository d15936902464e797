package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"certnet/internal/audit"
	"certnet/internal/auth"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var seedTime = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func services(db *store.DB) (*org.Service, *auth.Service) {
	clock := testkit.NewClock(seedTime)
	orgs := org.NewService(db, clock.Now, nil)
	users := auth.NewService(db, orgs, clock.Now, nil)
	// Cheap hashes: the test is about the seeding, not argon2id.
	users.HashParams = argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	return orgs, users
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestSeed(t *testing.T) {
	d := load(t)
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		orgs, users := services(db)
		start := time.Now()
		res, err := Seed(ctx, db, orgs, users, seedTime)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seeded %d organisations and %d users in %v", res.Orgs, res.Users, time.Since(start))
		if !res.Seeded || res.Orgs != len(d.Orgs) || res.Users != len(d.Users) || len(res.Credentials) != len(d.Users) {
			t.Fatalf("result %+v: want %d organisations, %d users", res, len(d.Orgs), len(d.Users))
		}

		// Counts in the store.
		for _, c := range []struct {
			what string
			q    string
			args []any
			want int
		}{
			{"provinces", "SELECT COUNT(*) FROM provinces", nil, 34},
			{"clusters with head and deputy", "SELECT COUNT(*) FROM clusters WHERE head_org_id IS NOT NULL AND deputy_org_id IS NOT NULL AND head_year = 2026", nil, 11},
			{"organisations", "SELECT COUNT(*) FROM organisations", nil, len(d.Orgs)},
			{"provincial response units", "SELECT COUNT(*) FROM org_roles WHERE role = ?", []any{"provincial_response_unit"}, 34},
			{"provincial SOCs", "SELECT COUNT(*) FROM org_roles WHERE role = ?", []any{"provincial_soc"}, 34},
			{"sector CERTs", "SELECT COUNT(*) FROM org_roles WHERE role = ?", []any{"sector_cert"}, 11},
			{"sectors with a CERT", "SELECT COUNT(DISTINCT o.sector) FROM organisations o JOIN org_roles r ON r.org_id = o.id WHERE r.role = ?", []any{"sector_cert"}, 11},
			{"ISPs", "SELECT COUNT(*) FROM org_roles WHERE role = ?", []any{"isp"}, 3},
			{"profiles", "SELECT COUNT(*) FROM organisations WHERE profile_year = 2026", nil, 4},
			{"users", "SELECT COUNT(*) FROM users", nil, len(d.Users)},
		} {
			if got := count(t, db, c.q, c.args...); got != c.want {
				t.Errorf("%s: %d, want %d", c.what, got, c.want)
			}
		}
		var contacts, ranges, asns, domains int
		for _, o := range d.Orgs {
			contacts += len(o.Contacts)
			ranges += len(o.Ranges)
			asns += len(o.ASNs)
			domains += len(o.Domains)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM contacts"); got != contacts {
			t.Errorf("%d contacts, want %d", got, contacts)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM org_ranges"); got != ranges {
			t.Errorf("%d ranges, want %d", got, ranges)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM org_asns"); got != asns {
			t.Errorf("%d ASNs, want %d", got, asns)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM org_domains"); got != domains {
			t.Errorf("%d domains, want %d", got, domains)
		}

		// Whois of an ISP's subscriber address answers the ISP and its chain
		// up to the national coordinator.
		sys := policy.SystemActor("test")
		w, err := orgs.Whois(ctx, sys, "10.1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		if w.Org.Code != "ISP-SAOMAI" || w.Matched != "10.0.0.0/10" || len(w.Chain) != 1 || w.Chain[0].Code != "DPQG" {
			t.Errorf("whois 10.1.2.3: %s matched %s, chain %v", w.Org.Code, w.Matched, codes(w.Chain))
		}
		// A provincial SOC's address: SOC, response unit, national coordinator.
		w, err = orgs.Whois(ctx, sys, "2001:db8:5001::10")
		if err != nil {
			t.Fatal(err)
		}
		if w.Org.Code != "HNI-SOC" || strings.Join(codes(w.Chain), " ") != "HNI-UCSC DPQG" {
			t.Errorf("whois 2001:db8:5001::10: %s, chain %v", w.Org.Code, codes(w.Chain))
		}
		// A subdomain of a province's domain belongs to its owner.
		w, err = orgs.Whois(ctx, sys, "https://portal.ioc.danang.gov.vn.example/login")
		if err != nil {
			t.Fatal(err)
		}
		if w.Org.Code != "DNG-IOC" {
			t.Errorf("whois of an IOC URL: %s", w.Org.Code)
		}
		w, err = orgs.Whois(ctx, sys, "AS64502")
		if err == nil {
			t.Errorf("AS64502 is nobody's in the demo, whois said %s", w.Org.Code)
		}

		// The profile survived the trip through the service.
		bank, err := orgs.Whois(ctx, sys, "kimlongbank.vn.example")
		if err != nil {
			t.Fatal(err)
		}
		if p := bank.Org.Profile; bank.Org.ProfileYear != 2026 || p.SecurityLead.Name == "" || p.SystemsByLevel != [5]int{5, 18, 9, 4, 0} {
			t.Errorf("bank profile %d %+v", bank.Org.ProfileYear, p)
		}

		// The audit chain holds every change and is intact.
		v, err := audit.Verify(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v.Break != nil || v.Checked < int64(len(d.Orgs)+contacts+ranges+len(d.Users)) {
			t.Errorf("audit: %d entries checked, break %+v", v.Checked, v.Break)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_log WHERE actor <> ?", "demo"); n != 0 {
			t.Errorf("%d audit entries not by the demo actor", n)
		}

		// The printed credentials sign in, with the roles and organisation
		// the data says.
		var out strings.Builder
		if err := res.WriteCredentials(&out); err != nil {
			t.Fatal(err)
		}
		for i, c := range res.Credentials {
			u := d.Users[i]
			if len(c.Password) < 16 || !strings.Contains(out.String(), c.Password) {
				t.Errorf("%s: password %q too short or not printed", c.Username, c.Password)
			}
			lr, err := users.Login(ctx, c.Username, c.Password, "192.0.2.200", "demo-test")
			if err != nil {
				t.Errorf("login %s: %v", c.Username, err)
				continue
			}
			if lr.SessionToken == "" || string(lr.User.Roles[0]) != u.Roles[0] || c.Role != u.Roles[0] {
				t.Errorf("login %s: roles %v, credential role %q", c.Username, lr.User.Roles, c.Role)
			}
			if got := count(t, db, "SELECT COUNT(*) FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.username = ? AND o.code = ?",
				c.Username, u.Org); got != 1 {
				t.Errorf("user %s is not at %s", c.Username, u.Org)
			}
		}
		// Passwords are never stored in clear, not even in the audit log.
		for _, c := range res.Credentials {
			if n := count(t, db, "SELECT COUNT(*) FROM audit_log WHERE after_json LIKE ?", "%"+c.Password+"%"); n != 0 {
				t.Errorf("the password of %s is in the audit log", c.Username)
			}
		}

		// Seeding twice does nothing.
		entries := count(t, db, "SELECT COUNT(*) FROM audit_log")
		again, err := Seed(ctx, db, orgs, users, seedTime.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if again.Seeded || again.Orgs != 0 || again.Users != 0 || len(again.Credentials) != 0 {
			t.Errorf("second seed: %+v", again)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_log"); n != entries {
			t.Errorf("second seed wrote %d audit entries", n-entries)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM organisations"); n != len(d.Orgs) {
			t.Errorf("second seed: %d organisations", n)
		}
	})
}

// A database that holds a registry of its own is never mixed with the
// fictional network.
func TestSeedRefusesNonEmptyRegistry(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		orgs, users := services(db)
		if _, err := orgs.Create(ctx, policy.SystemActor("test"), org.Input{Code: "REAL", Name: "Cơ quan thật",
			Roles: []org.Role{org.RoleNationalCoordinator}, Active: true}); err != nil {
			t.Fatal(err)
		}
		res, err := Seed(ctx, db, orgs, users, seedTime)
		if err == nil || res.Seeded {
			t.Fatalf("seeded a non-empty registry: %+v, %v", res, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM organisations"); n != 1 {
			t.Errorf("%d organisations after the refusal", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM settings WHERE key = ?", seededKey); n != 0 {
			t.Errorf("the refusal left the %s row", seededKey)
		}
	})
}

// Years in the data follow the clock: a demo started in 2028 has its
// cluster heads for 2028.
func TestSeedYearsFollowTheClock(t *testing.T) {
	db := testkit.NewSQLite(t)
	ctx := context.Background()
	later := seedTime.AddDate(2, 0, 0)
	clock := testkit.NewClock(later)
	orgs := org.NewService(db, clock.Now, nil)
	users := auth.NewService(db, orgs, clock.Now, nil)
	users.HashParams = argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	if _, err := Seed(ctx, db, orgs, users, later); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM clusters WHERE head_year = 2028"); n != 11 {
		t.Errorf("%d clusters headed in 2028, want 11", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM organisations WHERE profile_year = 2028"); n != 4 {
		t.Errorf("%d profiles of 2028, want 4", n)
	}
}

func TestPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := password()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) < 16 || seen[p] || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("password %q: short, repeated or ambiguous", p)
		}
		seen[p] = true
	}
}

func codes(os []org.Org) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Code
	}
	return out
}
