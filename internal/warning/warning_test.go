package warning_test

import (
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
	"certnet/internal/warning"
)

// The same indicator at ≥ N organisations raises one national warning,
// updated (not duplicated) while it lasts, ended when it stops; a
// recurrence raises a new one. The coordinator is told once.
func TestSpreadIndicator(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ind := e.indicator(t, "203.0.113.50", 60, policy.TLPGreen)
		e.sighting(t, ind.ID, e.members[0].ID, 5, t0.Add(-10*time.Minute))
		e.sighting(t, ind.ID, e.members[1].ID, 3, t0.Add(-5*time.Minute))
		if r := e.evaluate(t); r.Raised != 0 || len(e.all(t)) != 0 {
			t.Fatalf("2 organisations (threshold 3) in 1 province: %+v", r)
		}
		e.sighting(t, ind.ID, e.members[2].ID, 2, t0.Add(-time.Minute))
		if r := e.evaluate(t); r.Raised != 1 {
			t.Fatalf("3 organisations: %+v, want one raised", r)
		}
		l := e.all(t)
		if len(l) != 1 {
			t.Fatalf("%d warnings", len(l))
		}
		w := l[0]
		if w.Kind != warning.KindSpread || w.Subject != warning.SubjectIndicator || w.IndicatorID != ind.ID || w.Orgs != 3 ||
			w.Provinces != 1 || w.Total != 10 || w.State != warning.StateOpen || !w.Active || w.Label != "ipv4 203.0.113.50" {
			t.Fatalf("warning %+v", w)
		}
		if !w.FirstSeen.Equal(t0.Add(-10*time.Minute)) || !w.LastSeen.Equal(t0.Add(-time.Minute)) {
			t.Fatalf("first/last seen %v %v", w.FirstSeen, w.LastSeen)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM notifications WHERE kind = ?", warning.KindRaised); n != 1 {
			t.Fatalf("%d notifications of the warning, want 1", n)
		}
		// Nothing new: nothing changes. More of it: the same warning is
		// updated, the coordinator not told again.
		if r := e.evaluate(t); r != (warning.Result{}) {
			t.Fatalf("second run changed %+v", r)
		}
		e.Clock.Advance(5 * time.Minute)
		e.sighting(t, ind.ID, e.members[4].ID, 7, e.Clock.Now())
		if r := e.evaluate(t); r.Raised != 0 || r.Updated != 1 {
			t.Fatalf("a fourth organisation: %+v, want an update", r)
		}
		w, err := e.w.Get(e.ctx, e.Sys, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if w.Orgs != 4 || w.Provinces != 2 || w.Total != 17 || len(w.Affected) != 4 || w.Affected[0].OrgID != e.members[4].ID {
			t.Fatalf("updated warning %+v", w)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM warnings"); n != 1 {
			t.Fatalf("%d warnings after the update", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM notifications WHERE kind = ?", warning.KindRaised); n != 1 {
			t.Fatalf("%d notifications after the update, want still 1", n)
		}
		// The window (60 minutes) passes with no sighting: it ends.
		e.Clock.Advance(2 * time.Hour)
		if r := e.evaluate(t); r.Ended != 1 {
			t.Fatalf("after the window: %+v, want it ended", r)
		}
		if w, _ = e.w.Get(e.ctx, e.Sys, w.ID); w.Active || w.EndedAt.IsZero() || w.State != warning.StateOpen {
			t.Fatalf("ended warning %+v", w)
		}
		// It comes back: a new warning.
		for _, m := range e.members[:3] {
			e.sighting(t, ind.ID, m.ID, 1, e.Clock.Now())
		}
		// The minute job (jobs.Runner, on the injected clock) raises it.
		if ran, err := e.App.Jobs.RunNow(e.ctx, warning.JobEvaluate); !ran || err != nil {
			t.Fatalf("the job: ran %v, %v", ran, err)
		}
		if l := e.all(t); len(l) != 2 || !l[0].Active || !l[0].RaisedAt.Equal(e.Clock.Now()) {
			t.Fatalf("a recurrence: %+v", l)
		}
	})
}

// Signatures and CVEs reported by enough organisations, or seen in enough
// provinces, raise warnings too.
func TestSpreadSignatureAndProvinces(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		at := t0.Add(-20 * time.Minute)
		for _, m := range e.members[:3] {
			e.signal(t, ingest.SignalSignature, "2019401", "ET SCAN Suspicious inbound to mySQL port 3306", m.ID, 4, at)
		}
		e.signal(t, ingest.SignalCVE, "CVE-2024-3400", "", e.members[0].ID, 1, at)
		e.signal(t, ingest.SignalCVE, "CVE-2024-3400", "", e.members[4].ID, 1, at)
		if r := e.evaluate(t); r.Raised != 1 {
			t.Fatalf("%+v, want the signature only", r)
		}
		l, err := e.w.List(e.ctx, e.Sys, warning.Filter{Subject: warning.SubjectSignature})
		if err != nil || len(l) != 1 || l[0].Label != "ET SCAN Suspicious inbound to mySQL port 3306 (2019401)" || l[0].Total != 12 {
			t.Fatalf("signature warnings %+v %v", l, err)
		}
		// Provinces: the CVE is in 2 provinces with 2 organisations.
		st := warning.DefaultSettings()
		st.MinOrgs, st.MinProvinces = 10, 2
		if _, err := e.w.SaveSettings(e.ctx, e.Sys, st); err != nil {
			t.Fatal(err)
		}
		r := e.evaluate(t)
		if r.Raised != 1 || r.Ended != 1 {
			t.Fatalf("with 10 organisations or 2 provinces: %+v, want the CVE raised and the signature (1 province) ended", r)
		}
		l, _ = e.w.List(e.ctx, e.Sys, warning.Filter{Subject: warning.SubjectCVE})
		if len(l) != 1 || l[0].Provinces != 2 || l[0].Label != "CVE-2024-3400" {
			t.Fatalf("CVE warnings %+v", l)
		}
	})
}

func TestBaseline(t *testing.T) {
	h := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	counts := map[int64]int64{}
	for d := 1; d <= 7; d++ {
		counts[h.Add(-time.Duration(d)*day).Unix()] = int64(100 * d) // 100 … 700: median 400
	}
	for i := 1; i <= 24; i++ {
		counts[h.Add(-time.Duration(i)*time.Hour).Unix()] += 10
	}
	for _, c := range []struct {
		name     string
		earliest time.Time
		want     float64
		ok       bool
	}{
		{"a week of history: the same hour", h.Add(-8 * day), 400, true},
		{"a day of history: the trailing 24 hours", h.Add(-2 * day), 10, true},
		{"less than a day: none", h.Add(-5 * time.Hour), 0, false},
	} {
		got, ok := warning.Baseline(counts, c.earliest, h)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// A source whose hour jumps above k × its baseline (and the minimum)
// raises a rate warning; a new source without history does not.
func TestRate(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		h := t0.Truncate(time.Hour)
		for d := 1; d <= 8; d++ {
			for i := 0; i < 24; i++ {
				e.rate(t, ingest.RateSource, e.src.ID, h.Add(-time.Duration(d)*24*time.Hour+time.Duration(i)*time.Hour), 200)
			}
		}
		e.rate(t, ingest.RateSource, e.src.ID, h, 900) // 4.5 × 200: under k = 5
		e.rate(t, ingest.RateOrg, e.members[5].ID, h, 5000)
		if r := e.evaluate(t); r.Raised != 0 {
			t.Fatalf("under the factor, and a member without history: %+v", r)
		}
		e.rate(t, ingest.RateSource, e.src.ID, h, 1500)
		if r := e.evaluate(t); r.Raised != 1 {
			t.Fatalf("7.5 × the baseline: %+v", r)
		}
		l := e.all(t)
		if len(l) != 1 || l[0].Kind != warning.KindRate || l[0].Subject != warning.SubjectSource || l[0].Rate != 1500 ||
			l[0].Baseline != 200 || l[0].Label != "suricata-p1 — Đội ứng cứu tỉnh P1" {
			t.Fatalf("rate warning %+v", l)
		}
		// Into the next hour it still holds (the previous hour); two hours
		// on, it ends.
		e.Clock.Advance(time.Hour)
		if r := e.evaluate(t); r.Raised != 0 || r.Ended != 0 {
			t.Fatalf("next hour: %+v", r)
		}
		e.Clock.Advance(time.Hour)
		if r := e.evaluate(t); r.Ended != 1 {
			t.Fatalf("two hours on: %+v", r)
		}
	})
}

// Acknowledge and close by the national coordinator; the scope of a
// province's reader; the state machine.
func TestLifecycleAndScope(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ind := e.indicator(t, "evil.example", 60, policy.TLPAmber)
		for _, m := range e.members[3:6] { // one in P1, two elsewhere
			e.sighting(t, ind.ID, m.ID, 2, t0.Add(-time.Minute))
		}
		e.evaluate(t)
		w := e.all(t)[0]
		duty := e.actor(t, e.nat.ID, "duty", policy.RoleCoordinator)
		provAn := e.actor(t, e.prov.ID, "p1.analyst", policy.RoleAnalyst)
		provCo := e.actor(t, e.prov.ID, "p1.coord", policy.RoleCoordinator)
		viewer := e.actor(t, e.nat.ID, "nat.viewer", policy.RoleViewer)

		got, err := e.w.Get(e.ctx, provAn, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Affected) != 1 || got.Affected[0].OrgID != e.members[3].ID {
			t.Fatalf("the province sees %+v, want its member only", got.Affected)
		}
		if _, err := e.w.List(e.ctx, viewer, warning.Filter{}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a viewer lists warnings: %v", err)
		}
		if _, err := e.w.Acknowledge(e.ctx, provCo, w.ID, ""); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a province acknowledges a national warning: %v", err)
		}
		if _, err := e.w.Acknowledge(e.ctx, duty, w.ID, string(make([]rune, 2001))); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("a note too long: %v", err)
		}
		a, err := e.w.Acknowledge(e.ctx, duty, w.ID, "Đang theo dõi")
		if err != nil || a.State != warning.StateAcknowledged || a.AckedName != "duty" || a.Note != "Đang theo dõi" {
			t.Fatalf("acknowledge: %+v %v", a, err)
		}
		if _, err := e.w.Acknowledge(e.ctx, duty, w.ID, ""); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("acknowledged twice: %v", err)
		}
		c, err := e.w.Close(e.ctx, duty, w.ID, "")
		if err != nil || c.State != warning.StateClosed || c.ClosedAt.IsZero() || c.Note != "Đang theo dõi" {
			t.Fatalf("close: %+v %v", c, err)
		}
		if _, err := e.w.Close(e.ctx, duty, w.ID, ""); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("closed twice: %v", err)
		}
		// Closed while it lasts: updated, not raised again.
		e.sighting(t, ind.ID, e.members[0].ID, 1, t0)
		if r := e.evaluate(t); r.Raised != 0 || r.Updated != 1 {
			t.Fatalf("a closed warning that lasts: %+v", r)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action IN ('warning.acknowledged', 'warning.closed')"); n != 2 {
			t.Fatalf("%d audit entries of the changes", n)
		}
		// Filters.
		for _, c := range []struct {
			f    warning.Filter
			want int
		}{
			{warning.Filter{State: warning.StateClosed}, 1},
			{warning.Filter{State: warning.StateActive}, 0},
			{warning.Filter{Kind: warning.KindRate}, 0},
			{warning.Filter{Q: "EVIL"}, 1},
			{warning.Filter{Q: "100%"}, 0},
		} {
			l, err := e.w.List(e.ctx, duty, c.f)
			if err != nil || len(l) != c.want {
				t.Errorf("filter %+v: %d %v, want %d", c.f, len(l), err, c.want)
			}
		}
		if _, err := e.w.List(e.ctx, duty, warning.Filter{State: "gone"}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("a bad state filter: %v", err)
		}
		// A province outside the warning sees nothing of it.
		other := e.Org("P9-CERT", "Đội tỉnh khác", e.nat.ID, org.RoleProvincialResponseUnit)
		outsider := e.actor(t, other.ID, "p9.analyst", policy.RoleAnalyst)
		if _, err := e.w.Get(e.ctx, outsider, w.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("an outsider reads it: %v", err)
		}
		if l, err := e.w.List(e.ctx, outsider, warning.Filter{}); err != nil || len(l) != 0 {
			t.Fatalf("an outsider lists %d: %v", len(l), err)
		}
	})
}

// One step from a warning to an advisory draft, prefilled and targeting
// the affected organisations; a second step returns the same draft.
func TestToAdvisory(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ind := e.indicator(t, "198.18.7.7", 70, policy.TLPGreen)
		for _, m := range e.members[:3] {
			e.sighting(t, ind.ID, m.ID, 2, t0.Add(-time.Minute))
		}
		e.evaluate(t)
		w := e.all(t)[0]
		duty := e.actor(t, e.nat.ID, "duty", policy.RoleCoordinator)
		adv, err := e.w.ToAdvisory(e.ctx, duty, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if adv.Status != intel.AdvisoryDraft || adv.OwnerOrgID != e.nat.ID || len(adv.Targeting.Orgs) != 3 ||
			len(adv.IndicatorIDs) != 1 || adv.IndicatorIDs[0] != ind.ID || adv.Title == "" || adv.TitleEN == "" {
			t.Fatalf("advisory %+v", adv)
		}
		again, err := e.w.ToAdvisory(e.ctx, duty, w.ID)
		if err != nil || again.ID != adv.ID {
			t.Fatalf("second step: %d %v, want the same draft %d", again.ID, err, adv.ID)
		}
		if got, _ := e.w.Get(e.ctx, duty, w.ID); got.AdvisoryID != adv.ID {
			t.Fatalf("the warning links advisory %d", got.AdvisoryID)
		}
		provCo := e.actor(t, e.prov.ID, "p1.coord", policy.RoleCoordinator)
		if _, err := e.w.ToAdvisory(e.ctx, provCo, w.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a province turns a national warning into an advisory: %v", err)
		}
	})
}

// A high-confidence indicator seen in a member's range opens one incident
// for it (updated, never duplicated) and tells the member once; a low one
// does not; after the member closes it, new sightings open a new one.
func TestIncidentDraft(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		hi := e.indicator(t, "203.0.113.66", 90, policy.TLPGreen)
		lo := e.indicator(t, "203.0.113.67", 50, policy.TLPGreen)
		m := e.members[1]
		e.sighting(t, hi.ID, m.ID, 3, t0.Add(-2*time.Minute))
		e.sighting(t, lo.ID, m.ID, 3, t0.Add(-2*time.Minute))
		if r := e.evaluate(t); r.Incidents != 1 {
			t.Fatalf("%+v, want one incident", r)
		}
		var incID, affected int64
		var status string
		if err := e.DB.QueryRow(e.ctx, `SELECT l.incident_id, i.affected_org_id, i.status FROM warning_incidents l JOIN incidents i ON i.id = l.incident_id
			WHERE l.org_id = ? AND l.indicator_id = ?`, m.ID, hi.ID).Scan(&incID, &affected, &status); err != nil {
			t.Fatal(err)
		}
		if affected != m.ID || status != "received" {
			t.Fatalf("incident for %d in %s", affected, status)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM notifications WHERE kind = ?", warning.KindIncident); n != 1 {
			t.Fatalf("%d messages to the member", n)
		}
		e.Clock.Advance(2 * time.Hour)
		e.sighting(t, hi.ID, m.ID, 4, e.Clock.Now())
		if r := e.evaluate(t); r.Incidents != 0 || r.Updates != 1 {
			t.Fatalf("more sightings: %+v, want the open incident updated", r)
		}
		if r := e.evaluate(t); r.Incidents != 0 || r.Updates != 0 {
			t.Fatalf("nothing new: %+v", r)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM incidents WHERE affected_org_id = ?", m.ID); n != 1 {
			t.Fatalf("%d incidents for the member", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM incident_events WHERE incident_id = ? AND kind = ?", incID, warning.EventSightings); n != 1 {
			t.Fatalf("%d timeline notes of new sightings", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM notifications WHERE kind = ?", warning.KindIncident); n != 1 {
			t.Fatalf("%d messages to the member after the update", n)
		}
		// The member closes it; later sightings open a new one.
		if _, err := e.DB.Exec(e.ctx, "UPDATE incidents SET status = 'closed' WHERE id = ?", incID); err != nil {
			t.Fatal(err)
		}
		if r := e.evaluate(t); r.Incidents != 0 {
			t.Fatalf("closed, no new sighting: %+v", r)
		}
		e.Clock.Advance(time.Minute)
		e.sighting(t, hi.ID, m.ID, 1, e.Clock.Now())
		if r := e.evaluate(t); r.Incidents != 1 {
			t.Fatalf("closed, then seen again: %+v", r)
		}
	})
}

// Thresholds: validated, changed by the national administrator only,
// audited.
func TestSettings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.actor(t, e.nat.ID, "nat.admin", policy.RoleAdmin)
		provAdmin := e.actor(t, e.prov.ID, "p1.admin", policy.RoleAdmin)
		st, err := e.w.Settings(e.ctx, admin)
		if err != nil || st != warning.DefaultSettings() {
			t.Fatalf("defaults %+v %v", st, err)
		}
		bad := warning.Settings{MinOrgs: 1, MinProvinces: -1, WindowMinutes: 1, RateFactor: 0.5, RateMinEvents: 0, IncidentConfidence: 101}
		_, err = e.w.SaveSettings(e.ctx, admin, bad)
		er, ok := errs.As(err)
		if !ok || er.Kind != errs.KindInvalid || len(er.Fields) != 6 {
			t.Fatalf("bad settings: %v", err)
		}
		if st, _ := e.w.Settings(e.ctx, admin); st != warning.DefaultSettings() {
			t.Fatalf("refused settings changed them: %+v", st)
		}
		good := warning.Settings{MinOrgs: 5, MinProvinces: 0, WindowMinutes: 180, RateFactor: 3, RateMinEvents: 50, IncidentConfidence: 95}
		if _, err := e.w.SaveSettings(e.ctx, provAdmin, good); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a province's administrator: %v", err)
		}
		if _, err := e.w.SaveSettings(e.ctx, admin, good); err != nil {
			t.Fatal(err)
		}
		if st, _ := e.w.Settings(e.ctx, admin); st != good {
			t.Fatalf("saved %+v, read %+v", good, st)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'warning.settings'"); n != 1 {
			t.Fatalf("%d audit entries", n)
		}
	})
}
