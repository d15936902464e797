package intel

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

// fixture: VNCERT (national) ├── HN (provincial) │ └── HNM (member) └── DN (provincial, sibling).
type fixture struct {
	t     testing.TB
	db    *store.DB
	orgs  *org.Service
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, hn, hnm, dn org.Org
	uid                   int64
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	clock := testkit.NewClock(t0)
	f := &fixture{t: t, db: db, clock: clock, sys: policy.SystemActor("test"), uid: 1000}
	f.orgs = org.NewService(db, clock.Now, nil)
	f.s = NewService(db, clock.Now, nil)
	f.national = f.create(org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	f.hn = f.create(org.Input{Code: "HN", Name: "Sở Hà Nội", ParentID: f.national.ID, Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
	f.hnm = f.create(org.Input{Code: "HNM", Name: "Công ty Hà Nội", ParentID: f.hn.ID, Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	f.dn = f.create(org.Input{Code: "DN", Name: "Sở Đà Nẵng", ParentID: f.national.ID, Roles: []org.Role{org.RoleProvincialResponseUnit}, Active: true})
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

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
