package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/ingest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/warning"
)

func init() { addWMRoutes(wmWarningRoutes) }

// wmWarning makes (as the pipeline's job would) an open signature warning
// concerning the target organisation, named by the case.
func wmWarning(t *testing.T, c *wmCase) int64 {
	return c.m.e.SignatureWarning(t, c.m.ctx, c.t.org.ID, c.n, fmt.Sprintf("chữ ký mw-%d", c.n))
}

func warnRes(c *wmCase) policy.Resource {
	return policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPAmber}
}

// onWarning decides a warning concerning the target: the action on the
// actor's own organisation, then the target in the actor's scope.
func onWarning(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		if act != policy.WarningRead {
			if err := c.check(act, warnRes(c)); err != nil {
				return err
			}
		}
		if err := c.check(policy.WarningRead, warnRes(c)); err != nil {
			return err
		}
		if !c.a.actor.Scope.Contains(c.t.org.ID) {
			return errs.NotFound("warning")
		}
		return nil
	}
}

func wmWarningPost(action string) func(t *testing.T, c *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		id := wmWarning(t, c)
		return wmReq{method: http.MethodPost, path: fmt.Sprintf("/warnings/%d/%s", id, action), form: url.Values{"note": {"ghi chú"}}}
	}
}

var wmWarningRoutes = map[string]wmRoute{
	"GET /warnings": {
		req: func(t *testing.T, c *wmCase) wmReq {
			wmWarning(t, c)
			return wmReq{method: http.MethodGet, path: "/warnings"}
		},
		decide: func(c *wmCase) error { return c.check(policy.WarningRead, warnRes(c)) },
		shows:  onWarning(policy.WarningRead),
		seen:   contains(func(c *wmCase) string { return fmt.Sprintf("chữ ký mw-%d<", c.n) }),
	},
	"GET /warnings/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/warnings/%d", wmWarning(t, c))}
		},
		decide: onWarning(policy.WarningRead),
	},
	"POST /warnings/{id}/acknowledge": {req: wmWarningPost("acknowledge"), decide: onWarning(policy.WarningManage)},
	"POST /warnings/{id}/close":       {req: wmWarningPost("close"), decide: onWarning(policy.WarningManage)},
	"POST /warnings/{id}/advisory":    {req: wmWarningPost("advisory"), decide: onWarning(policy.WarningManage)},
	"GET /warnings/settings": {
		req:    wmGet(wmPath("/warnings/settings")),
		decide: func(c *wmCase) error { return c.check(policy.WarningRead, warnRes(c)) },
	},
	"POST /warnings/settings": {
		req: wmPost(wmPath("/warnings/settings"), func(c *wmCase) url.Values {
			return url.Values{"min_orgs": {"3"}, "min_provinces": {"3"}, "window_minutes": {"60"}, "rate_factor": {"5"},
				"rate_min_events": {"1000"}, "incident_confidence": {"80"}}
		}),
		decide: func(c *wmCase) error { return c.check(policy.WarningSettings, warnRes(c)) },
	},
	"GET /watch": {
		req:    wmGet(wmPath("/watch")),
		decide: func(c *wmCase) error { return c.check(policy.WarningRead, warnRes(c)) },
	},
}

// The early-warning pages end to end: the pipeline's counters of a SOC
// make a warning, the coordinator sees it on the 24/7 view and the list,
// acknowledges it, turns it into an advisory draft; the thresholds page
// refuses bad values with their field and keeps the old ones.
func TestWebWarnings(t *testing.T) {
	e := apptest.StartSQLite(t)
	ctx := t.Context()
	nat := e.Org("NCSC", "Trung tâm Điều phối", 0, org.RoleNationalCoordinator)
	var members []org.Org
	for i := 0; i < 3; i++ {
		members = append(members, e.Org(fmt.Sprintf("M%d", i), fmt.Sprintf("Bệnh viện %d", i), nat.ID, org.RoleSystemOwner))
	}
	if err := e.App.Orgs.SaveProvince(ctx, e.Sys, org.Province{Code: "HN", Name: "Hà Nội", Map: &org.MapTile{Col: 1, Row: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(ctx, "UPDATE organisations SET province_code = 'HN' WHERE id = ?", members[0].ID); err != nil {
		t.Fatal(err)
	}
	src, _, err := e.App.Ingest.CreateSource(ctx, e.Sys, ingest.SourceInput{OrgID: nat.ID, Name: "suricata-quocgia"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now().UTC()
	for _, m := range members {
		if _, err := e.DB.Exec(ctx, `INSERT INTO ingest_signals (kind, key, org_id, hour, count, first_seen, last_seen, name)
			VALUES ('signature', '2024897', ?, ?, 4, ?, ?, 'ET EXPLOIT Fortinet SSL VPN')`, m.ID, now.Truncate(time.Hour), now, now); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.Exec(ctx, "INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES ('org', ?, ?, 40, 4)",
			m.ID, now.Truncate(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.DB.Exec(ctx, "INSERT INTO ingest_minutes (source_id, minute, events, matches) VALUES (?, ?, 6000, 12)",
		src.ID, now.Truncate(time.Minute).Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r, err := e.App.Warning.Evaluate(ctx); err != nil || r.Raised != 1 {
		t.Fatalf("evaluate: %+v %v", r, err)
	}
	duty := e.User(nat.ID, "truc.ban", policy.RoleCoordinator)
	b := newOrgBrowser(t, e)
	b.login(duty.Username)

	p := b.get("/watch")
	if p.Status != http.StatusOK || p.Header.Get("Refresh") == "" {
		t.Fatalf("watch: %d refresh %q", p.Status, p.Header.Get("Refresh"))
	}
	for _, want := range []string{"100.0 /s", "ET EXPLOIT Fortinet SSL VPN", "Bệnh viện 0", "suricata-quocgia", "<svg", "Hà Nội: 4"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the 24/7 view lacks %q", want)
		}
	}
	p = b.get("/warnings")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "ET EXPLOIT Fortinet SSL VPN (2024897)") {
		t.Fatalf("warnings list: %d", p.Status)
	}
	l, err := e.App.Warning.List(ctx, e.Sys, warning.Filter{})
	if err != nil || len(l) != 1 {
		t.Fatalf("%d warnings %v", len(l), err)
	}
	id := l[0].ID
	p = b.get(fmt.Sprintf("/warnings/%d", id))
	for _, m := range members {
		if !strings.Contains(p.Body, m.Name) {
			t.Errorf("the warning does not name %s", m.Name)
		}
	}
	p = b.post(fmt.Sprintf("/warnings/%d/acknowledge", id), url.Values{"note": {"Đã giao đội trực"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", p.Status)
	}
	p = b.post(fmt.Sprintf("/warnings/%d/advisory", id), url.Values{})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/advisories/") {
		t.Fatalf("to advisory: %d %s", p.Status, p.Location)
	}
	if got, _ := e.App.Warning.Get(ctx, e.Sys, id); got.State != warning.StateAcknowledged || got.AdvisoryID == 0 {
		t.Fatalf("after the page: %+v", got)
	}
	// The thresholds: the coordinator reads them; the national
	// administrator changes them; bad values are refused with their field.
	if p = b.get("/warnings/settings"); p.Status != http.StatusOK || strings.Contains(p.Body, `type="submit" class="primary">`) {
		t.Fatalf("settings for the coordinator: %d", p.Status)
	}
	admin := e.User(nat.ID, "qt.quocgia", policy.RoleAdmin)
	ab := newOrgBrowser(t, e)
	ab.login(admin.Username)
	p = ab.post("/warnings/settings", url.Values{"min_orgs": {"1"}, "min_provinces": {"x"}, "window_minutes": {"60"}, "rate_factor": {"5"},
		"rate_min_events": {"1000"}, "incident_confidence": {"80"}})
	if p.Status != http.StatusBadRequest && p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad thresholds: %d", p.Status)
	}
	if !strings.Contains(p.Body, `id="min_provinces-err"`) {
		t.Fatal("the refused field is not marked")
	}
	if st, _ := e.App.Warning.Settings(ctx, e.Sys); st != warning.DefaultSettings() {
		t.Fatalf("refused thresholds changed them: %+v", st)
	}
	p = ab.post("/warnings/settings", url.Values{"min_orgs": {"4"}, "min_provinces": {"0"}, "window_minutes": {"120"}, "rate_factor": {"2,5"},
		"rate_min_events": {"100"}, "incident_confidence": {"90"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save thresholds: %d", p.Status)
	}
	if st, _ := e.App.Warning.Settings(ctx, e.Sys); st.MinOrgs != 4 || st.RateFactor != 2.5 || st.IncidentConfidence != 90 {
		t.Fatalf("saved %+v", st)
	}
}
