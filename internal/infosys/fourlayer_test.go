package infosys

import (
	"context"
	"strings"
	"testing"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// fullLayers evidences all four layers, the provider's contract ending on
// end (YYYY-MM-DD).
func fullLayers(end string) LayersInput {
	return LayersInput{Staff: []Staff{{Name: "Nguyễn Văn An"}}, Monitoring: MonitorProvider, Provider: "SOC Viettel",
		ContractStart: "2026-01-01", ContractEnd: end, Assessor: "Công ty kiểm định A", LastReportOn: "2026-06-30",
		ConnectedSince: "2025-03-01", RangesShared: []string{"203.0.113.0/24"}}
}

func layersOK(st []LayerStatus) map[string]bool {
	m := map[string]bool{}
	for _, x := range st {
		m[x.Layer] = x.Evidenced
	}
	return m
}

func verifyAudit(t *testing.T, db *store.DB) {
	t.Helper()
	res, err := audit.Verify(context.Background(), db, nil)
	if err != nil || res.Break != nil {
		t.Fatalf("audit: %v %+v", err, res.Break)
	}
}

// TestFourLayers: an organisation's and a system's records, inheritance
// layer by layer, completeness moving with the clock (a contract past its
// end date does not count), bad input changing nothing, and who may read
// and edit.
func TestFourLayers(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HIS", Sector: "health"})
		if err != nil {
			t.Fatal(err)
		}

		// Nothing recorded: no layer, the KPI counts none.
		_, _, _, st, err := f.s.SystemLayers(ctx, owner, sys.ID)
		if err != nil || Complete(st) || len(st) != 4 {
			t.Fatalf("%+v %v", st, err)
		}

		// Bad input: clear fields, nothing stored.
		bad := fullLayers("2025-12-31") // ends before it starts
		bad.Monitoring, bad.RangesShared, bad.LastReportOn = MonitorProvider, []string{"203.0.113.0/24", "not-a-range"}, "2027-01-01"
		bad.Staff = append(bad.Staff, Staff{PersonID: 999999})
		_, err = f.s.SaveOrgLayers(ctx, owner, f.hosp.ID, bad)
		for _, fld := range []string{"contract_end", "ranges_shared", "last_report_on", "staff"} {
			wantField(t, err, fld)
		}
		noProvider := LayersInput{Monitoring: MonitorProvider, ContractStart: "2026-13-01"}
		_, err = f.s.SaveOrgLayers(ctx, owner, f.hosp.ID, noProvider)
		for _, fld := range []string{"monitoring_provider", "contract_start", "contract_end"} {
			wantField(t, err, fld)
		}
		_, err = f.s.SaveOrgLayers(ctx, owner, f.hosp.ID, LayersInput{Monitoring: "cloud", RangesShared: []string{"198.51.100.0/24"}})
		wantField(t, err, "monitoring")
		wantField(t, err, "connected_since")
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_layers").Scan(&n); err != nil || n != 0 {
			t.Fatalf("bad input stored %d rows (%v)", n, err)
		}

		// Who may edit: the owner's admin; not a viewer, not another province.
		_, err = f.s.SaveOrgLayers(ctx, f.actor(f.hosp, policy.RoleViewer), f.hosp.ID, fullLayers("2027-06-30"))
		wantKind(t, err, errs.KindForbidden)
		_, err = f.s.SaveOrgLayers(ctx, f.actor(f.dn, policy.RoleAdmin), f.hosp.ID, fullLayers("2027-06-30"))
		wantKind(t, err, errs.KindNotFound)
		_, err = f.s.SaveSystemLayers(ctx, f.actor(f.dn, policy.RoleAdmin), sys.ID, fullLayers("2027-06-30"))
		wantKind(t, err, errs.KindNotFound)
		_, _, err = f.s.OrgLayers(ctx, f.actor(f.dn, policy.RoleViewer), f.hosp.ID)
		wantKind(t, err, errs.KindNotFound)

		// The organisation's record: its systems inherit every layer.
		in := fullLayers("2027-06-30")
		in.RangesShared = []string{"203.0.113.0/24", " 203.0.113.7 ", "203.0.113.0/24"}
		l, err := f.s.SaveOrgLayers(ctx, owner, f.hosp.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.RangesShared) != 2 || l.RangesShared[1] != "203.0.113.7/32" || l.Staff[0].Name != "Nguyễn Văn An" {
			t.Fatalf("%+v", l)
		}
		// The response unit of the province reads it; the national viewer too.
		if _, st, err := f.s.OrgLayers(ctx, f.actor(f.hn, policy.RoleViewer), f.hosp.ID); err != nil || !Complete(st) {
			t.Fatalf("%+v %v", st, err)
		}
		_, own, orgL, st, err := f.s.SystemLayers(ctx, f.actor(f.national, policy.RoleViewer), sys.ID)
		if err != nil || own.ID != 0 || orgL.ID != l.ID || !Complete(st) || !st[0].Inherited {
			t.Fatalf("%+v %+v %v", own, st, err)
		}
		kpi := func() KPI {
			t.Helper()
			ks, err := f.s.KPIs(ctx, f.actor(f.national, policy.RoleViewer), ByNation)
			if err != nil || len(ks) != 1 {
				t.Fatalf("%+v %v", ks, err)
			}
			return ks[0]
		}
		if k := kpi(); k.Layers != 1 || k.LayersPct != 100 {
			t.Fatalf("%+v", k)
		}

		// The system's own record of layer 2 replaces the organisation's:
		// in-house SOC; the rest is still inherited.
		if _, err := f.s.SaveSystemLayers(ctx, owner, sys.ID, LayersInput{Monitoring: MonitorInHouse}); err != nil {
			t.Fatal(err)
		}
		_, _, _, st, _ = f.s.SystemLayers(ctx, owner, sys.ID)
		if !Complete(st) || st[1].Inherited || !st[0].Inherited {
			t.Fatalf("%+v", st)
		}
		// The organisation's contract ends on 30 June 2027: on the 30th it
		// still counts, the next day it does not — for the organisation, and
		// for a system that inherits it.
		sys2, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "Cổng", Sector: "health"})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2027, 6, 30, 16, 59, 0, 0, time.UTC)) // 23:59 in Hà Nội
		if k := kpi(); k.Layers != 2 {
			t.Fatalf("on the last day: %+v", k)
		}
		f.clock.Set(time.Date(2027, 6, 30, 17, 0, 0, 0, time.UTC)) // 1 July, 00:00
		if _, st, _ := f.s.OrgLayers(ctx, owner, f.hosp.ID); Complete(st) || layersOK(st)[LayerMonitoring] || !layersOK(st)[LayerStaff] {
			t.Fatalf("contract ended: %+v", st)
		}
		if k := kpi(); k.Layers != 1 || k.LayersPct != 50 {
			t.Fatalf("after the end: %+v", k)
		}
		if xs, err := f.s.OrgSystemsComplete(ctx, f.actor(f.hn, policy.RoleViewer), f.hosp.ID); err != nil || len(xs) != 2 ||
			xs[0].Name != "Cổng" || xs[0].Complete || xs[1].Name != "HIS" || !xs[1].Complete {
			t.Fatalf("org systems: %+v %v", xs, err)
		}
		if _, err := f.s.OrgSystemsComplete(ctx, f.actor(f.dn, policy.RoleViewer), f.hosp.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("DN reads HN's systems: %v", err)
		}
		_, _, _, st, _ = f.s.SystemLayers(ctx, owner, sys2.ID)
		if Complete(st) {
			t.Fatalf("inherited ended contract: %+v", st)
		}
		// The report is evidence for 24 months: from 1 July 2028 layer 3 lapses.
		f.clock.Set(time.Date(2028, 7, 1, 1, 0, 0, 0, time.UTC))
		if k := kpi(); k.Layers != 0 {
			t.Fatalf("report too old: %+v", k)
		}
		f.clock.Set(t0)

		// The operator's writers keep the system's record, with a person of
		// the readiness register of the operator as its staff.
		op, err := f.orgs.Create(ctx, f.sys, org.Input{Code: "OPS", Name: "Công ty vận hành", ParentID: f.hn.ID, ProvinceCode: "HN",
			Roles: []org.Role{org.RoleSystemOwner}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.UpdateSystem(ctx, owner, sys2.ID, SystemInput{OwnerOrgID: f.hosp.ID, OperatorOrgID: op.ID, Name: "Cổng", Sector: "health"}); err != nil {
			t.Fatal(err)
		}
		var pid int64
		if err := db.QueryRow(ctx, `INSERT INTO readiness_people (org_id, full_name, created_at, updated_at) VALUES (?, 'Trần Thị Bình', ?, ?) RETURNING id`,
			op.ID, t0, t0).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		sl, err := f.s.SaveSystemLayers(ctx, f.actor(op, policy.RoleCoordinator), sys2.ID, LayersInput{Staff: []Staff{{PersonID: pid}, {Name: " "}}})
		if err != nil || len(sl.Staff) != 1 || sl.Staff[0].Name != "Trần Thị Bình" || sl.Staff[0].PersonID != pid {
			t.Fatalf("%+v %v", sl, err)
		}
		// …but not someone of another organisation's register.
		_, err = f.s.SaveOrgLayers(ctx, owner, f.hosp.ID, LayersInput{Staff: []Staff{{PersonID: pid}}})
		wantField(t, err, "staff")

		// A record saved again is updated in place, and audited each time.
		if _, err := f.s.SaveSystemLayers(ctx, owner, sys.ID, LayersInput{Monitoring: MonitorNone}); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_layers").Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d records (%v)", n, err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'infosys.layers.save'").Scan(&n); err != nil || n != 4 {
			t.Fatalf("%d audit rows (%v)", n, err)
		}
		verifyAudit(t, db)
	})
}

// TestKPIOpenFindings: the open critical and high findings counted on the
// system row follow imports and state changes.
func TestKPIOpenFindings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "Cổng", Sector: "health", Addresses: []string{"203.0.113.10"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ImportFindings(ctx, owner, sys.ID, FormatCSV, strings.NewReader(scanCSV)); err != nil {
			t.Fatal(err)
		}
		open := func() (int, int) {
			t.Helper()
			ks, err := f.s.KPIs(ctx, f.actor(f.hn, policy.RoleViewer), ByOrg)
			if err != nil || len(ks) != 1 || ks[0].Key != itoa(f.hosp.ID) {
				t.Fatalf("%+v %v", ks, err)
			}
			return ks[0].OpenCritical, ks[0].OpenHigh
		}
		want, _ := f.s.OpenFindings(ctx, owner, sys.ID)
		if c, h := open(); c != want[SevCritical] || h != want[SevHigh] || c != 1 || h != 1 {
			t.Fatalf("open %d critical %d high, want %v", c, h, want)
		}
		fs, err := f.s.Findings(ctx, owner, sys.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range fs {
			next := FindingInProgress
			if x.Severity == SevCritical {
				next = FindingFixed
			}
			if _, err := f.s.SetFindingStatus(ctx, owner, x.ID, next, "Đang vá"); err != nil {
				t.Fatal(err)
			}
		}
		if c, h := open(); c != 0 || h != 1 {
			t.Fatalf("after fixing the critical one: %d %d", c, h)
		}
		// The same report again reopens the fixed finding.
		if _, err := f.s.ImportFindings(ctx, owner, sys.ID, FormatCSV, strings.NewReader(scanCSV)); err != nil {
			t.Fatal(err)
		}
		if c, h := open(); c != 1 || h != 1 {
			t.Fatalf("reopened: %d %d", c, h)
		}
	})
}
