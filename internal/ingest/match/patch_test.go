package match

import (
	"context"
	"reflect"
	"testing"
	"time"

	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestPatch(t *testing.T) {
	a := ind(t, 1, intel.KindIPv4, "198.51.100.23")
	d := ind(t, 2, intel.KindDomain, "evil.example")
	r := ind(t, 3, intel.KindCIDR, "10.0.0.0/8")
	h := ind(t, 4, intel.KindMD5, "44d88612fea8a8f36de82e1278abb02f")
	x := Build([]Indicator{a, d, r})
	e := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"198.51.100.23","dst_ip":"10.1.2.3","domains":["a.evil.example"],"hashes":["44d88612fea8a8f36de82e1278abb02f"]}`)
	before := keys(x.Match(&e, nil))

	d2 := d
	d2.Confidence = 99
	y := x.Patch([]Change{{a, false}, {h, true}, {d2, true}, {Indicator{ID: 77, Kind: "url", Value: "http://x.example/"}, false}})
	if got, want := keys(y.Match(&e, nil)), []hitKey{{2, "domain", "a.evil.example"}, {3, "dst", "10.1.2.3"}, {4, "hash", "44d88612fea8a8f36de82e1278abb02f"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("patched hits %v, want %v", got, want)
	}
	for _, hit := range y.Match(&e, nil) {
		if hit.IndicatorID == 2 && hit.Confidence != 99 {
			t.Errorf("the changed domain kept its old confidence: %+v", hit)
		}
	}
	if y.Len() != 3 || x.Len() != 3 {
		t.Errorf("Len: patched %d, original %d; want 3 and 3", y.Len(), x.Len())
	}
	if got := keys(x.Match(&e, nil)); !reflect.DeepEqual(got, before) {
		t.Errorf("the original index changed: %v, was %v", got, before)
	}

	// A second patch: the address comes back, the hash goes, the range is
	// listed twice (the last change wins).
	z := y.Patch([]Change{{a, true}, {h, false}, {r, true}, {r, false}})
	if got, want := keys(z.Match(&e, nil)), []hitKey{{1, "src", "198.51.100.23"}, {2, "domain", "a.evil.example"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("twice patched hits %v, want %v", got, want)
	}
	if z.Len() != 2 {
		t.Errorf("Len = %d, want 2", z.Len())
	}
	dst := make([]Hit, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst = z.Match(&e, dst[:0]) }); n != 0 {
		t.Errorf("patched Match allocates %v times", n)
	}
}

func TestRefresh(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
		clock := testkit.NewClock(t0)
		sys := policy.SystemActor("test")
		o, err := org.NewService(db, clock.Now, nil).Create(ctx, sys, org.Input{Code: "VNCERT", Name: "Trung tâm VNCERT", Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		svc := intel.NewService(db, clock.Now, nil)
		mk := func(kind intel.Kind, v string, from, until time.Time) int64 {
			t.Helper()
			i, err := svc.Create(ctx, sys, intel.Input{OwnerOrgID: o.ID, Kind: kind, Value: v, TLP: policy.TLPGreen, Confidence: 70, ValidFrom: from, ValidUntil: until})
			if err != nil {
				t.Fatalf("create %s: %v", v, err)
			}
			return i.ID
		}
		mk(intel.KindCIDR, "203.0.113.0/24", t0.Add(-time.Hour), time.Time{})
		expiring := mk(intel.KindDomain, "evil.example", t0.Add(-time.Hour), t0.Add(20*time.Minute))
		revoked := mk(intel.KindIPv4, "198.51.100.1", t0.Add(-time.Hour), time.Time{})
		mk(intel.KindURL, "http://evil.example/x", t0.Add(15*time.Minute), time.Time{}) // comes into force later

		x, err := Refresh(ctx, db, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() != 3 || !x.Loaded().Equal(t0) {
			t.Fatalf("first load: Len %d at %v", x.Len(), x.Loaded())
		}
		clock.Advance(10 * time.Minute)
		mk(intel.KindSHA1, "3395856ce81f2b7382dee72602f798b642f14140", t0, time.Time{})
		if err := svc.Revoke(ctx, sys, revoked); err != nil {
			t.Fatal(err)
		}
		t30 := t0.Add(30 * time.Minute)
		clock.Set(t30)
		y, err := Refresh(ctx, db, x, t30)
		if err != nil {
			t.Fatal(err)
		}
		if y.delta == nil {
			t.Error("Refresh reloaded instead of patching")
		}
		fresh, err := Load(ctx, db, t30)
		if err != nil {
			t.Fatal(err)
		}
		e := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"203.0.113.9","dst_ip":"198.51.100.1","domains":["www.evil.example"],"urls":["http://evil.example/x"],"hashes":["3395856CE81F2B7382DEE72602F798B642F14140"]}`)
		got, want := keys(y.Match(&e, nil)), keys(fresh.Match(&e, nil))
		if !reflect.DeepEqual(got, want) || len(want) != 3 {
			t.Errorf("refreshed hits %v, a fresh load's %v (want the range, the URL and the hash)", got, want)
		}
		if y.Len() != fresh.Len() || y.Len() != 3 {
			t.Errorf("Len: refreshed %d, fresh %d, want 3", y.Len(), fresh.Len())
		}
		for _, h := range y.Match(&e, nil) {
			if h.IndicatorID == expiring || h.IndicatorID == revoked {
				t.Errorf("hit of an indicator no longer in force: %+v", h)
			}
		}
		// Nothing changed: the next refresh patches nothing new.
		z, err := Refresh(ctx, db, y, t30.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(z.Match(&e, nil)); !reflect.DeepEqual(got, want) || z.Len() != 3 {
			t.Errorf("second refresh: %v, Len %d", got, z.Len())
		}
		// A large import stamps its rows when it starts and commits long
		// after (here an hour, past RefreshMargin): its new rows are found
		// by their ids.
		clock.Set(t30.Add(-time.Hour))
		late := mk(intel.KindIPv4, "192.0.2.77", t0, time.Time{})
		clock.Set(t30.Add(2 * time.Minute))
		w, err := Refresh(ctx, db, z, t30.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		e2 := decodeOne(t, `{"time":"2026-11-20T08:00:00Z","src_ip":"192.0.2.77","dst_ip":"10.0.0.1"}`)
		if hits := w.Match(&e2, nil); len(hits) != 1 || hits[0].IndicatorID != late || w.delta == nil {
			t.Errorf("refresh after a late commit: hits %+v (want indicator %d), patched %v", hits, late, w.delta != nil)
		}
	})
}
