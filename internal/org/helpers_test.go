package org

import (
	"context"
	"testing"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// fixture is a registry with a small network in it:
//
//	VNCERT (national coordinator)
//	├── HN   Sở Khoa học và Công nghệ Hà Nội (provincial response unit, Hà Nội)
//	│   └── HNIOC  Trung tâm IOC Hà Nội
//	├── ISP  Tổng công ty viễn thông (ISP)
//	│   └── CUST Khách hàng của ISP (system owner)
//	└── BANK CERT ngân hàng (sector CERT, banking)
type fixture struct {
	t     *testing.T
	db    *store.DB
	s     *Service
	clock *testkit.Clock
	sys   policy.Actor

	national, hn, hnioc, isp, cust, bank Org
}

func newService(t testing.TB, db *store.DB) (*Service, *testkit.Clock) {
	clock := testkit.NewClock(t0)
	return NewService(db, clock.Now, nil), clock
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	s, clock := newService(t, db)
	f := &fixture{t: t, db: db, s: s, clock: clock, sys: policy.SystemActor("test")}
	for i, p := range []Province{
		{Code: "HN", Name: "Hà Nội", Region: "north", SortOrder: 1},
		{Code: "HCM", Name: "TP. Hồ Chí Minh", Region: "south", SortOrder: 2},
		{Code: "DN", Name: "Đà Nẵng", Region: "central", SortOrder: 3},
	} {
		if err := s.SaveProvince(ctx, f.sys, p); err != nil {
			t.Fatalf("province %d: %v", i, err)
		}
	}
	f.national = f.create(Input{Code: "VNCERT", Name: "Trung tâm Ứng cứu khẩn cấp máy tính Việt Nam",
		NameEN: "Vietnam Computer Emergency Response Team", Roles: []Role{RoleNationalCoordinator}, Active: true})
	f.hn = f.create(Input{Code: "HN", Name: "Sở Khoa học và Công nghệ Hà Nội", ParentID: f.national.ID,
		ProvinceCode: "HN", Roles: []Role{RoleProvincialResponseUnit}, Active: true})
	f.hnioc = f.create(Input{Code: "HNIOC", Name: "Trung tâm Điều hành thông minh Hà Nội", ParentID: f.hn.ID,
		ProvinceCode: "HN", Roles: []Role{RoleIOCProvincial}, Active: true})
	f.isp = f.create(Input{Code: "ISP", Name: "Tổng công ty Viễn thông", ShortName: "VT", ParentID: f.national.ID,
		ProvinceCode: "HCM", Roles: []Role{RoleISP}, Active: true})
	f.cust = f.create(Input{Code: "CUST", Name: "Công ty Khách hàng", ParentID: f.isp.ID,
		ProvinceCode: "DN", Roles: []Role{RoleSystemOwner}, Active: true})
	f.bank = f.create(Input{Code: "BANK", Name: "CERT Ngân hàng", ParentID: f.national.ID,
		Roles: []Role{RoleSectorCERT}, Sector: SectorBanking, Active: true})
	return f
}

func (f *fixture) create(in Input) Org {
	f.t.Helper()
	o, err := f.s.Create(context.Background(), f.sys, in)
	if err != nil {
		f.t.Fatalf("create %s: %v", in.Code, err)
	}
	return o
}

// actor is a user of org with the given roles and the org's real scope.
func (f *fixture) actor(org Org, roles ...policy.Role) policy.Actor {
	f.t.Helper()
	sc, err := f.s.ScopeOf(context.Background(), org.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return policy.Actor{UserID: 100 + org.ID, Username: "user-" + org.Code, OrgID: org.ID, Roles: roles, Scope: sc}
}

func (f *fixture) auditCount() int64 {
	f.t.Helper()
	var n int64
	if err := f.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log").Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) verifyAudit() {
	f.t.Helper()
	res, err := audit.Verify(context.Background(), f.db, nil)
	if err != nil || res.Break != nil {
		f.t.Fatalf("audit chain: %+v %v", res.Break, err)
	}
}

// wantKind fails unless err has kind k (and, when field is set, a message
// on that field; when key is set, that message key on the field or as the
// error's message).
func wantKind(t *testing.T, err error, k errs.Kind, field, key string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", k)
	}
	if errs.KindOf(err) != k {
		t.Fatalf("got %v, want kind %v", err, k)
	}
	if field == "" && key == "" {
		return
	}
	e, _ := errs.As(err)
	if field != "" {
		m, ok := e.Fields[field]
		if !ok {
			t.Fatalf("got %v, want a message on field %q", err, field)
		}
		if key != "" && m.Key != key {
			t.Fatalf("field %q: got %q, want %q", field, m.Key, key)
		}
		return
	}
	if e.Message.Key != key {
		t.Fatalf("got message %q, want %q", e.Message.Key, key)
	}
}

func codes(orgs []Org) []string {
	out := make([]string, len(orgs))
	for i, o := range orgs {
		out[i] = o.Code
	}
	return out
}
