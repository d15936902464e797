package campaign

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

// fixture: VNCERT (national) ├── ISP (isp, HCM, 100.64.0.0/16, AS64500)
// │ └── CUST (member, HN, 100.64.7.0/24: a delegation of the ISP's range)
// ├── HNU (provincial response unit, HN) ├── OTHER (member, HCM,
// 198.51.100.0/24) └── SIB (member, HCM, no range).
type fixture struct {
	t     testing.TB
	db    *store.DB
	orgs  *org.Service
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, isp, hnu, cust, other, sib org.Org
	uid                                  int64
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testkit.NewClock(t0)
	f := &fixture{t: t, db: db, clock: clock, sys: policy.SystemActor("test"), uid: 1000}
	f.orgs = org.NewService(db, clock.Now, nil)
	f.s = NewService(db, clock.Now, f.orgs.WhoisIndex, nil)
	for _, p := range []org.Province{{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "HCM", Name: "TP. Hồ Chí Minh", Region: "south", SortOrder: 2}} {
		if err := f.orgs.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatal(err)
		}
	}
	f.national = f.create(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.isp = f.create(org.Input{Code: "ISP", Name: "Nhà mạng", ParentID: f.national.ID, ProvinceCode: "HCM", Roles: []org.Role{org.RoleISP}, Active: true})
	f.hnu = f.create(org.Input{Code: "HNU", Name: "Sở Hà Nội", ParentID: f.national.ID, ProvinceCode: "HN", Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.cust = f.create(org.Input{Code: "CUST", Name: "Công ty Hà Nội", ParentID: f.isp.ID, ProvinceCode: "HN", Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.other = f.create(org.Input{Code: "OTHER", Name: "Công ty HCM", ParentID: f.national.ID, ProvinceCode: "HCM", Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.sib = f.create(org.Input{Code: "SIB", Name: "Công ty khác", ParentID: f.national.ID, ProvinceCode: "HCM", Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	for _, r := range []struct {
		o    org.Org
		cidr string
	}{{f.isp, "100.64.0.0/16"}, {f.cust, "100.64.7.0/24"}, {f.other, "198.51.100.0/24"}} {
		if _, err := f.orgs.AddRange(ctx, f.sys, r.o.ID, r.cidr, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.orgs.AddASN(ctx, f.sys, f.isp.ID, "64500", ""); err != nil {
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

func (f *fixture) actor(o org.Org, roles ...policy.Role) policy.Actor {
	f.t.Helper()
	sc, err := f.orgs.ScopeOf(context.Background(), o.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.uid++
	return policy.Actor{UserID: f.uid, Username: o.Code + "-user", OrgID: o.ID, Roles: roles, Scope: sc}
}

func (f *fixture) campaign(a policy.Actor, tlp string) Campaign {
	f.t.Helper()
	c, err := f.s.Create(context.Background(), a, Input{Name: "Bóc gỡ Mirai", Malware: "Mirai", Actions: "Đổi mật khẩu mặc định, cập nhật firmware",
		TLP: tlp, EndsAt: t0.AddDate(0, 1, 0)})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
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
