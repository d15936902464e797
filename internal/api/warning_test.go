package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
	"certnet/internal/warning"
)

func init() { addMatrixRoutes(warningMatrix) }

// mxWarning makes an open signature warning concerning the target, as the
// evaluation job would.
func mxWarning(t *testing.T, c *mCase) int64 {
	return c.m.e.SignatureWarning(t, c.m.ctx, c.t.org.ID, c.n, fmt.Sprintf("chữ ký %d", c.n))
}

func ownRes(c *mCase) policy.Resource {
	return policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPAmber}
}

// decideWarning: the action on the caller's own organisation, then the
// warning must concern an organisation of the caller's scope.
func decideWarning(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		for _, x := range []policy.Action{act, policy.WarningRead} {
			if err := policy.Check(c.a.actor, x, ownRes(c)); err != nil {
				return err
			}
		}
		if !c.a.actor.Scope.Contains(c.t.org.ID) {
			return errs.NotFound("warning")
		}
		return nil
	}
}

func decideOwn(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error { return policy.Check(c.a.actor, act, ownRes(c)) }
}

func mxWarningPost(action string) func(t *testing.T, c *mCase) (string, string) {
	return func(t *testing.T, c *mCase) (string, string) {
		return fmt.Sprintf("/api/v1/warnings/%d/%s", mxWarning(t, c), action), `{"note":"ghi chú"}`
	}
}

var warningMatrix = map[string]mRoute{
	"GET /api/v1/warnings": {
		req: func(t *testing.T, c *mCase) (string, string) {
			mxWarning(t, c)
			return fmt.Sprintf("/api/v1/warnings?state=active&q=k%%C3%%BD%%20%d", c.n), ""
		},
		decide: decideOwn(policy.WarningRead),
		shows:  decideWarning(policy.WarningRead),
		listed: func(t *testing.T, c *mCase, r reply) bool {
			var l struct{ Items []warning.Warning }
			r.into(t, &l)
			for _, w := range l.Items {
				if w.Label == fmt.Sprintf("chữ ký %d", c.n) {
					return true
				}
			}
			return false
		},
	},
	"GET /api/v1/warnings/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/warnings/%d", mxWarning(t, c)), ""
		},
		decide: decideWarning(policy.WarningRead),
	},
	"POST /api/v1/warnings/{id}/acknowledge": {req: mxWarningPost("acknowledge"), decide: decideWarning(policy.WarningManage)},
	"POST /api/v1/warnings/{id}/close":       {req: mxWarningPost("close"), decide: decideWarning(policy.WarningManage)},
	"POST /api/v1/warnings/{id}/advisory": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/warnings/%d/advisory", mxWarning(t, c)), ""
		},
		decide: decideWarning(policy.WarningManage),
	},
	"GET /api/v1/warnings/settings": {req: static("/api/v1/warnings/settings", ""), decide: decideOwn(policy.WarningRead)},
	"PUT /api/v1/warnings/settings": {
		req:    static("/api/v1/warnings/settings", `{"min_orgs":3,"min_provinces":3,"window_minutes":60,"rate_factor":5,"rate_min_events":1000,"incident_confidence":80}`),
		decide: decideOwn(policy.WarningSettings),
	},
	"GET /api/v1/watch": {req: static("/api/v1/watch", ""), decide: decideOwn(policy.WarningRead)},
}

// The API end to end on both engines: a warning raised from the
// counters, listed with filters, read, acknowledged, closed (a second
// close is a conflict), turned into an advisory; the thresholds refused
// with their fields when out of bounds; the 24/7 figures.
func TestAPIWarnings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		ctx := t.Context()
		nat := e.Org("NCSC", "Trung tâm", 0, org.RoleNationalCoordinator)
		now := e.Clock.Now().UTC()
		for i := 0; i < 3; i++ {
			m := e.Org(fmt.Sprintf("M%d", i), fmt.Sprintf("Thành viên %d", i), nat.ID, org.RoleSystemOwner)
			if _, err := e.DB.Exec(ctx, `INSERT INTO ingest_signals (kind, key, org_id, hour, count, first_seen, last_seen, name)
				VALUES ('cve', 'CVE-2024-3400', ?, ?, 2, ?, ?, '')`, m.ID, now.Truncate(time.Hour), now, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.App.Warning.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		tok := e.Token(e.User(nat.ID, "truc.ban", policy.RoleCoordinator))
		admin := e.Token(e.User(nat.ID, "qt.quocgia", policy.RoleAdmin))

		var list struct{ Items []warning.Warning }
		r := call(t, e, http.MethodGet, "/api/v1/warnings?subject=cve", tok, "", nil)
		r.into(t, &list)
		if r.Status != http.StatusOK || len(list.Items) != 1 || list.Items[0].Label != "CVE-2024-3400" || list.Items[0].Orgs != 3 {
			t.Fatalf("list: %d %+v", r.Status, list)
		}
		id := list.Items[0].ID
		if r = call(t, e, http.MethodGet, "/api/v1/warnings?state=nope", tok, "", nil); r.Status != http.StatusBadRequest {
			t.Fatalf("a bad filter: %d", r.Status)
		}
		var w warning.Warning
		r = call(t, e, http.MethodGet, fmt.Sprintf("/api/v1/warnings/%d", id), tok, "", nil)
		r.into(t, &w)
		if len(w.Affected) != 3 {
			t.Fatalf("get: %+v", w)
		}
		r = call(t, e, http.MethodPost, fmt.Sprintf("/api/v1/warnings/%d/acknowledge", id), tok, `{"note":"đã nhận"}`, nil)
		r.into(t, &w)
		if r.Status != http.StatusOK || w.State != warning.StateAcknowledged {
			t.Fatalf("acknowledge: %d %+v", r.Status, w)
		}
		if r = call(t, e, http.MethodPost, fmt.Sprintf("/api/v1/warnings/%d/close", id), tok, "", nil); r.Status != http.StatusOK {
			t.Fatalf("close: %d", r.Status)
		}
		if r = call(t, e, http.MethodPost, fmt.Sprintf("/api/v1/warnings/%d/close", id), tok, "", nil); r.Status != http.StatusConflict {
			t.Fatalf("closed twice: %d", r.Status)
		}
		var adv struct {
			ID   int64    `json:"id"`
			CVEs []string `json:"cves"`
		}
		r = call(t, e, http.MethodPost, fmt.Sprintf("/api/v1/warnings/%d/advisory", id), tok, "", nil)
		r.into(t, &adv)
		if r.Status != http.StatusCreated || adv.ID == 0 || len(adv.CVEs) != 1 {
			t.Fatalf("advisory: %d %+v", r.Status, adv)
		}
		r = call(t, e, http.MethodPut, "/api/v1/warnings/settings", admin, `{"min_orgs":1,"min_provinces":3,"window_minutes":60,"rate_factor":5,"rate_min_events":1000,"incident_confidence":80}`, nil)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "min_orgs") {
			t.Fatalf("bad thresholds: %d %s", r.Status, string(r.Body))
		}
		if r = call(t, e, http.MethodPut, "/api/v1/warnings/settings", tok, `{"min_orgs":3,"min_provinces":3,"window_minutes":60,"rate_factor":5,"rate_min_events":1000,"incident_confidence":80}`, nil); r.Status != http.StatusForbidden {
			t.Fatalf("the coordinator changes thresholds: %d", r.Status)
		}
		var fig struct {
			Warnings []warning.Warning `json:"warnings"`
			EPS      float64           `json:"events_per_second_last_minute"`
		}
		r = call(t, e, http.MethodGet, "/api/v1/watch", tok, "", nil)
		r.into(t, &fig)
		if r.Status != http.StatusOK || fig.Warnings == nil {
			t.Fatalf("watch: %d %s", r.Status, string(r.Body))
		}
	})
}
