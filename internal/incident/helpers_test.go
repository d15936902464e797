package incident

import (
	"context"
	"testing"
	"time"

	"certnet/internal/audit"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// fixture is a small network:
//
//	VNCERT (national coordinator)
//	├── HN   provincial response unit, Hà Nội
//	│   └── HNM  a member in Hà Nội (system owner), 203.0.113.0/24, hn-member.vn
//	├── DN   provincial response unit, Đà Nẵng (sibling)
//	│   └── DNM  a member in Đà Nẵng
//	└── ISP  an ISP, 198.51.100.0/22
//	BCA  standing body (national scope)
type fixture struct {
	t     testing.TB
	db    *store.DB
	orgs  *org.Service
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, standing, hn, hnm, dn, dnm, isp org.Org
	uid                                       int64
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testkit.NewClock(t0)
	f := &fixture{t: t, db: db, clock: clock, sys: policy.SystemActor("test"), uid: 1000}
	f.orgs = org.NewService(db, clock.Now, nil)
	f.s = NewService(db, f.orgs, clock.Now, nil)
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 2}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	f.national = f.create(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.standing = f.create(org.Input{Code: "BCA", Name: "Cơ quan thường trực", Roles: []org.Role{org.RoleStandingBody}, Active: true})
	f.hn = f.create(org.Input{Code: "HN", Name: "Sở KH&CN Hà Nội", ParentID: f.national.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.hnm = f.create(org.Input{Code: "HNM", Name: "Công ty Hà Nội", ParentID: f.hn.ID, ProvinceCode: "HN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.dn = f.create(org.Input{Code: "DN", Name: "Sở KH&CN Đà Nẵng", ParentID: f.national.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.dnm = f.create(org.Input{Code: "DNM", Name: "Công ty Đà Nẵng", ParentID: f.dn.ID, ProvinceCode: "DN",
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.isp = f.create(org.Input{Code: "ISP", Name: "Nhà mạng", ParentID: f.national.ID, Roles: []org.Role{org.RoleISP}, Active: true})
	if _, err := f.orgs.AddRange(ctx, f.sys, f.hnm.ID, "203.0.113.0/24", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.orgs.AddRange(ctx, f.sys, f.isp.ID, "198.51.100.0/22", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.orgs.AddDomain(ctx, f.sys, f.hnm.ID, "hn-member.vn", ""); err != nil {
		t.Fatal(err)
	}
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

// actor is a new user of o with roles and o's real scope.
func (f *fixture) actor(o org.Org, roles ...policy.Role) policy.Actor {
	f.t.Helper()
	sc, err := f.orgs.ScopeOf(context.Background(), o.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.uid++
	return policy.Actor{UserID: f.uid, Username: o.Code + "-user", OrgID: o.ID, Roles: roles, Scope: sc}
}

// input is a valid notice from the actor's organisation.
func input(mods ...func(*Input)) Input {
	in := Input{
		Title: "Tấn công thay đổi giao diện cổng thông tin", Description: "Trang chủ www.hn-member.vn bị thay đổi, máy chủ 203.0.113.10 gửi lưu lượng bất thường.",
		Type: TypeDefacement, Severity: SeverityHigh, DetectedAt: t0.Add(-2 * time.Hour),
		Contact:    Contact{Name: "Nguyễn Văn A", Email: "a@hn-member.vn", Phone: "+84 24 1234 5678"},
		System:     System{Name: "Cổng thông tin điện tử", OwnerName: "Công ty Hà Nội", Level: 3, PublicIPs: []string{"203.0.113.10"}, Domains: []string{"www.hn-member.vn"}},
		DetectedBy: DetectLogReview, AlreadyNotified: []string{NotifiedNationalCoordinator},
	}
	for _, m := range mods {
		m(&in)
	}
	return in
}

func (f *fixture) mustCreate(a policy.Actor, mods ...func(*Input)) Incident {
	f.t.Helper()
	inc, err := f.s.Create(context.Background(), a, input(mods...))
	if err != nil {
		f.t.Fatalf("create incident: %v", err)
	}
	return inc
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

func (f *fixture) timelineLen(id int64) int {
	f.t.Helper()
	evs, err := loadEvents(context.Background(), f.db, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(evs)
}
