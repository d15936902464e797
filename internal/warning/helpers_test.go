package warning_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/warning"
)

// env is a certnet with a national coordinator, a province with four
// members (each with a range) and two more provinces with one member each,
// a SOC source, on a fixed clock.
type env struct {
	*apptest.Env
	ctx       context.Context
	w         *warning.Service
	nat, prov org.Org
	members   []org.Org // 0–3 in province P1 (under prov), 4 in P2, 5 in P3
	src       ingest.Source
}

var t0 = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{Env: apptest.Start(t, db), ctx: context.Background()}
	e.Clock.Set(t0)
	e.w = e.App.Warning
	for i, code := range []string{"P1", "P2", "P3"} {
		if err := e.App.Orgs.SaveProvince(e.ctx, e.Sys, org.Province{Code: code, Name: "Tỉnh " + code, SortOrder: i}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(code, name string, parent int64, province string, role org.Role) org.Org {
		o, err := e.App.Orgs.Create(e.ctx, e.Sys, org.Input{Code: code, Name: name, ParentID: parent, Roles: []org.Role{role},
			Active: true, TLP: policy.TLPGreen, ProvinceCode: province, IntakeEmail: "ir@" + code + ".example.vn"})
		if err != nil {
			t.Fatalf("org %s: %v", code, err)
		}
		return o
	}
	e.nat = mk("NCSC", "Trung tâm Điều phối", 0, "", org.RoleNationalCoordinator)
	e.prov = mk("P1-CERT", "Đội ứng cứu tỉnh P1", e.nat.ID, "P1", org.RoleProvincialResponseUnit)
	for i, p := range []string{"P1", "P1", "P1", "P1", "P2", "P3"} {
		parent := e.prov.ID
		if p != "P1" {
			parent = e.nat.ID
		}
		m := mk(fmt.Sprintf("M%d", i), fmt.Sprintf("Thành viên %d", i), parent, p, org.RoleSystemOwner)
		if _, err := e.App.Orgs.AddRange(e.ctx, e.Sys, m.ID, fmt.Sprintf("198.51.%d.0/24", i), ""); err != nil {
			t.Fatal(err)
		}
		e.members = append(e.members, m)
	}
	var err error
	e.src, _, err = e.App.Ingest.CreateSource(e.ctx, e.Sys, ingest.SourceInput{OrgID: e.prov.ID, Name: "suricata-p1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// actor signs in a user of the organisation with the role.
func (e *env) actor(t *testing.T, orgID int64, name string, r policy.Role) policy.Actor {
	t.Helper()
	u := e.User(orgID, name, r)
	a, err := e.App.Auth.ActorFor(e.ctx, u, "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) indicator(t *testing.T, value string, conf int, tlp policy.TLP) intel.Indicator {
	t.Helper()
	ind, err := e.App.Intel.Create(e.ctx, e.Sys, intel.Input{OwnerOrgID: e.nat.ID, Value: value, TLP: tlp, Confidence: conf})
	if err != nil {
		t.Fatal(err)
	}
	return ind
}

// sighting adds n sightings of the indicator at the organisation at t, as
// the pipeline does (one row per indicator × organisation × hour).
func (e *env) sighting(t *testing.T, ind, orgID, n int64, at time.Time) {
	t.Helper()
	hour := at.UTC().Truncate(time.Hour)
	_, err := e.DB.Exec(e.ctx, `INSERT INTO intel_sightings (indicator_id, stix_id, first_seen, last_seen, count, source, org_id, created_at)
		VALUES (?, ?, ?, ?, ?, 'ingest', ?, ?)
		ON CONFLICT (indicator_id, stix_id) DO UPDATE SET count = intel_sightings.count + excluded.count, last_seen = excluded.last_seen`,
		ind, ingest.SightingID(ind, orgID, hour), at.UTC(), at.UTC(), n, orgID, at.UTC())
	if err != nil {
		t.Fatal(err)
	}
}

// signal adds n occurrences of a signature or CVE reported by the
// organisation at t.
func (e *env) signal(t *testing.T, kind, key, name string, orgID, n int64, at time.Time) {
	t.Helper()
	_, err := e.DB.Exec(e.ctx, `INSERT INTO ingest_signals (kind, key, org_id, hour, count, first_seen, last_seen, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, key, org_id, hour) DO UPDATE SET count = ingest_signals.count + excluded.count, last_seen = excluded.last_seen`,
		kind, key, orgID, at.UTC().Truncate(time.Hour), n, at.UTC(), at.UTC(), name)
	if err != nil {
		t.Fatal(err)
	}
}

// rate sets a subject's events in the hour.
func (e *env) rate(t *testing.T, subject string, id int64, hour time.Time, n int64) {
	t.Helper()
	_, err := e.DB.Exec(e.ctx, `INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES (?, ?, ?, ?, 0)
		ON CONFLICT (subject, subject_id, hour) DO UPDATE SET events = excluded.events`, subject, id, hour.UTC().Truncate(time.Hour), n)
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) evaluate(t *testing.T) warning.Result {
	t.Helper()
	r, err := e.w.Evaluate(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRow(e.ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) all(t *testing.T) []warning.Warning {
	t.Helper()
	l, err := e.w.List(e.ctx, e.Sys, warning.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
