package taxii_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestAdvisories: a published advisory is served as a STIX report in the
// collection of its label to those who may read it, with object_refs
// naming its CVE's vulnerability and the indicators the reader may read;
// a draft or an exercise's advisory never, another organisation's AMBER
// advisory never (404).
func TestAdvisories(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := advSetup(t, db)
		ctx := context.Background()
		natUser := e.e.User(e.nat.ID, "nat-pub", policy.RoleCoordinator)
		nat, err := e.e.App.Auth.ActorFor(ctx, natUser, "")
		if err != nil {
			t.Fatal(err)
		}
		in := e.e.App.Intel
		greenInd, err := in.Create(ctx, e.e.Sys, intel.Input{OwnerOrgID: e.nat.ID, Value: "198.51.100.99", TLP: policy.TLPGreen})
		if err != nil {
			t.Fatal(err)
		}
		amberInd, err := in.Create(ctx, e.e.Sys, intel.Input{OwnerOrgID: e.nat.ID, Value: "evil.example", TLP: policy.TLPAmber})
		if err != nil {
			t.Fatal(err)
		}
		publish := func(tlp policy.TLP, target intel.Targeting, pub bool, inds ...int64) intel.Advisory {
			t.Helper()
			v, err := in.CreateAdvisory(ctx, nat, intel.AdvisoryInput{Title: "Lỗ hổng VPN " + string(tlp), Summary: "Khai thác từ xa.",
				Actions: "Vá ngay.", Severity: intel.SeverityHigh, TLP: tlp, CVEs: []string{"CVE-2024-3400"}, Targeting: target,
				DeadlineAt: e.e.Clock.Now().Add(72 * time.Hour), IndicatorIDs: inds})
			if err != nil {
				t.Fatal(err)
			}
			if pub {
				if v, err = in.Publish(ctx, nat, v.ID); err != nil {
					t.Fatal(err)
				}
			}
			return v
		}
		gAdv := publish(policy.TLPGreen, intel.Targeting{All: true}, true, greenInd.ID)
		aAdv := publish(policy.TLPAmber, intel.Targeting{Orgs: []int64{e.dn.ID}}, true, greenInd.ID, amberInd.ID)
		draft := publish(policy.TLPGreen, intel.Targeting{All: true}, false)
		// An exercise of a drill (rows as the exercise service writes them).
		var drillID, ex int64
		now := e.e.Clock.Now()
		if err := db.QueryRow(ctx, `INSERT INTO readiness_drills (org_id, title, kind, starts_on, ends_on, scenario, objectives, status,
			created_at, updated_at) VALUES (?, 'Diễn tập', 'organisation', ?, ?, '', '', 'planned', ?, ?) RETURNING id`,
			e.nat.ID, now, now, now, now).Scan(&drillID); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, `INSERT INTO exercises (drill_id, org_id, title, status, started_at, created_at, updated_at)
			VALUES (?, ?, 'Diễn tập', 'running', ?, ?, ?) RETURNING id`, drillID, e.nat.ID, now, now, now).Scan(&ex); err != nil {
			t.Fatal(err)
		}
		drill, err := in.PublishExercise(ctx, intel.ExerciseAdvisoryInput{ExerciseID: ex, OwnerOrgID: e.nat.ID, TargetOrgID: e.dn.ID,
			Title: "Diễn tập: lỗ hổng VPN", Body: "Vá ngay.", Severity: intel.SeverityHigh, DeadlineAt: e.e.Clock.Now().Add(time.Hour)}, nil)
		if err != nil {
			t.Fatal(err)
		}

		reports := func(tok, col string) map[string]map[string]any {
			t.Helper()
			r := do(t, e.e, "GET", root+"collections/"+col+"/objects/?match[type]=report", "Bearer "+tok, "", nil)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", col, r.Status, r.Body)
			}
			var p page
			r.into(t, &p)
			out := map[string]map[string]any{}
			for _, o := range p.Objects {
				if o["type"] != "report" {
					t.Fatalf("match[type]=report gave %v", o["type"])
				}
				out[o["id"].(string)] = o
			}
			return out
		}
		// DN (a recipient of the AMBER one) gets both, each in its label's collection.
		g := reports(e.dnAnalyst, "indicators-green")
		if len(g) != 1 || g[gAdv.STIXID] == nil {
			t.Fatalf("green reports for DN: %v", g)
		}
		if refs := g[gAdv.STIXID]["object_refs"].([]any); !slices.Contains(refs, any(greenInd.STIXID)) || len(refs) != 2 {
			t.Fatalf("green report refs: %v (its vulnerability and indicator)", refs)
		}
		if g[gAdv.STIXID]["published"] == nil || g[gAdv.STIXID]["object_marking_refs"] == nil {
			t.Fatalf("report lacks published or marking: %v", g[gAdv.STIXID])
		}
		a := reports(e.dnAnalyst, "amber")
		if len(a) != 1 || a[aAdv.STIXID] == nil {
			t.Fatalf("amber reports for DN: %v", a)
		}
		// DN may not read the national centre's AMBER indicator: the
		// report does not name it (as in the advisory's STIX export).
		if refs := a[aAdv.STIXID]["object_refs"].([]any); !slices.Contains(refs, any(greenInd.STIXID)) || slices.Contains(refs, any(amberInd.STIXID)) {
			t.Fatalf("amber report refs for DN: %v", refs)
		}
		// The referenced GREEN indicator is served in the GREEN collection.
		if r := do(t, e.e, "GET", green+"objects/"+greenInd.STIXID+"/", "Bearer "+e.dnAnalyst, "", nil); r.Status != 200 {
			t.Fatalf("referenced indicator: %d", r.Status)
		}
		// HN is not a recipient of the AMBER one: absent from lists, 404 by id.
		if a := reports(e.hnAnalyst, "amber"); len(a) != 0 {
			t.Fatalf("HN sees AMBER advisories: %v", a)
		}
		if r := do(t, e.e, "GET", root+"collections/amber/objects/"+aAdv.STIXID+"/", "Bearer "+e.hnAnalyst, "", nil); r.Status != 404 {
			t.Fatalf("HN reads DN's AMBER advisory: %d", r.Status)
		}
		// The draft never, not even to its publisher; the exercise
		// advisory never, not even to its participant.
		for _, tok := range []string{e.dnAnalyst, e.natTok} {
			if r := do(t, e.e, "GET", green+"objects/"+draft.STIXID+"/", "Bearer "+tok, "", nil); r.Status != 404 {
				t.Fatalf("draft served: %d %s", r.Status, r.Body)
			}
			if r := do(t, e.e, "GET", root+"collections/amber/objects/"+drill.STIXID+"/", "Bearer "+tok, "", nil); r.Status != 404 {
				t.Fatalf("exercise advisory served: %d %s", r.Status, r.Body)
			}
		}
	})
}

// advWorld is a certnet with the organisations kept for advisories.
type advWorld struct {
	e                            *apptest.Env
	nat, hn, dn                  org.Org
	hnAnalyst, dnAnalyst, natTok string
}

func advSetup(t *testing.T, db *store.DB) *advWorld {
	e := apptest.Start(t, db)
	w := &advWorld{e: e}
	w.nat = e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	w.hn = e.Org("HN", "Hà Nội", w.nat.ID, org.RoleProvincialResponseUnit)
	w.dn = e.Org("DN", "Đà Nẵng", w.nat.ID, org.RoleProvincialResponseUnit)
	w.hnAnalyst = e.Token(e.User(w.hn.ID, "hn-analyst", policy.RoleAnalyst))
	w.dnAnalyst = e.Token(e.User(w.dn.ID, "dn-analyst", policy.RoleAnalyst))
	w.natTok = e.Token(e.User(w.nat.ID, "nat-analyst", policy.RoleAnalyst))
	return w
}
