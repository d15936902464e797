package coord

import (
	"context"
	"testing"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// fixture is a small network:
//
//	VNCERT (national coordinator)
//	├── HN   provincial response unit
//	│   └── HNM  a member (system owner)
//	├── DN   provincial response unit
//	│   └── DNM  a member
//	└── ISP  an ISP
type fixture struct {
	t     testing.TB
	db    *store.DB
	orgs  *org.Service
	inc   *incident.Service
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, hn, hnm, dn, dnm, isp org.Org
	uid                             int64
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testkit.NewClock(t0)
	f := &fixture{t: t, db: db, clock: clock, sys: policy.SystemActor("test"), uid: 1000}
	f.orgs = org.NewService(db, clock.Now, nil)
	f.inc = incident.NewService(db, f.orgs, clock.Now, nil)
	f.s = NewService(db, f.inc, clock.Now, nil)
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 2}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	f.national = f.create(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.hn = f.create(org.Input{Code: "HN", Name: "Sở KH&CN Hà Nội", ParentID: f.national.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.hnm = f.create(org.Input{Code: "HNM", Name: "Công ty Hà Nội", ParentID: f.hn.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.dn = f.create(org.Input{Code: "DN", Name: "Sở KH&CN Đà Nẵng", ParentID: f.national.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.dnm = f.create(org.Input{Code: "DNM", Name: "Công ty Đà Nẵng", ParentID: f.dn.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.isp = f.create(org.Input{Code: "ISP", Name: "Nhà mạng Sao Mai", ParentID: f.national.ID, Roles: []org.Role{org.RoleISP}, Active: true})
	return f
}

func (f *fixture) create(in org.Input) org.Org {
	f.t.Helper()
	o, err := f.orgs.Create(context.Background(), f.sys, in)
	if err != nil {
		f.t.Fatalf("create org %s: %v", in.Code, err)
	}
	return o
}

func (f *fixture) actor(o org.Org, roles ...policy.Role) policy.Actor {
	f.t.Helper()
	sc, err := f.orgs.ScopeOf(context.Background(), o.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.uid++
	return policy.Actor{UserID: f.uid, Username: o.Code + "-user", OrgID: o.ID, Roles: roles, Scope: sc}
}

func (f *fixture) incident(a policy.Actor) incident.Incident {
	f.t.Helper()
	inc, err := f.inc.Create(context.Background(), a, incident.Input{
		Title: "Mã độc lây lan từ máy chủ 198.51.100.7", Description: "Máy chủ 198.51.100.7 phát tán mã độc tới khách hàng.",
		Type: incident.TypeDefacement, Severity: incident.SeverityHigh, DetectedAt: t0.Add(-2 * time.Hour),
		Contact:    incident.Contact{Name: "Nguyễn Văn A", Email: "a@hn-member.vn", Phone: "+84 24 1234 5678"},
		System:     incident.System{Name: "Cổng thông tin", OwnerName: "Công ty Hà Nội", Level: 3, PublicIPs: []string{"198.51.100.7"}},
		DetectedBy: incident.DetectLogReview, AlreadyNotified: []string{incident.NotifiedNationalCoordinator},
	})
	if err != nil {
		f.t.Fatalf("create incident: %v", err)
	}
	return inc
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// outbox returns "key orgs" of the queued messages of a kind.
func (f *fixture) outbox(kind string) []string {
	f.t.Helper()
	rows, err := f.db.Query(context.Background(), "SELECT dedupe_key || ' ' || org_ids FROM notifications WHERE kind = ? ORDER BY id", kind)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func (f *fixture) verifyAudit() {
	f.t.Helper()
	res, err := audit.Verify(context.Background(), f.db, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Break != nil {
		f.t.Fatalf("audit chain broken at %d: %s", res.Break.Seq, res.Break.Reason)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("want %v, got %v", k, err)
	}
}
