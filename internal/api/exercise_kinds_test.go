package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/exercise"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// Order and advisory injects through the API: added with their kind,
// delivered, listed under exercise=true only (orders, advisories,
// incidents), and measured in the after-action report.
func TestExerciseInjectKindsAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	ctx := t.Context()
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	hosp := e.Org("BV", "Bệnh viện", hn.ID, org.RoleSystemOwner)
	if _, err := e.DB.Exec(ctx, "UPDATE organisations SET intake_email = 'ucsc@hanoi.gov.vn' WHERE id = ?", hn.ID); err != nil {
		t.Fatal(err)
	}
	hnc := e.Token(e.User(hn.ID, "hnc", policy.RoleCoordinator))
	bv := e.Token(e.User(hosp.ID, "benhvien", policy.RoleCoordinator))
	d, err := e.App.Readiness.SaveDrill(ctx, e.Sys, 0, readiness.DrillInput{OrgID: hn.ID, Title: "Diễn tập", Kind: readiness.DrillOrganisation,
		StartsOn: e.Clock.Now(), EndsOn: e.Clock.Now(), Scenario: "Mã độc tống tiền", Participants: []int64{hosp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.App.Exercise.Create(ctx, e.Sys, d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	inj := fmt.Sprintf("/api/v1/exercises/%d/injects", x.ID)
	add := func(kind, title string) reply {
		return call(t, e, "POST", inj, hnc, jsonBody(map[string]any{"kind": kind, "offset_minutes": 1, "target_org_id": hosp.ID, "title": title,
			"description": "Làm ngay và báo lại", "type": "ransomware", "severity": "high"}), nil)
	}
	if r := add("tabletop", "x"); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(`"kind"`)) {
		t.Fatalf("unknown kind: %d %s", r.Status, r.Body)
	}
	for _, k := range []string{exercise.KindOrder, exercise.KindAdvisory} {
		if r := add(k, "Diễn tập "+k); r.Status != http.StatusCreated {
			t.Fatalf("%s inject: %d %s", k, r.Status, r.Body)
		}
	}
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/exercises/%d/start", x.ID), hnc, "", nil); r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(time.Minute)
	if n, err := e.App.Exercise.Deliver(ctx); err != nil || n != 2 {
		t.Fatalf("delivered %d %v", n, err)
	}
	for _, c := range []struct{ path, title string }{{"/api/v1/orders", "Diễn tập order"}, {"/api/v1/advisories", "Diễn tập advisory"}} {
		if r := call(t, e, "GET", c.path, bv, "", nil); r.Status != 200 || bytes.Contains(r.Body, []byte(c.title)) {
			t.Fatalf("real %s: %d %s", c.path, r.Status, r.Body)
		}
		if r := call(t, e, "GET", c.path+"?exercise=true", bv, "", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(c.title)) {
			t.Fatalf("exercise %s: %d %s", c.path, r.Status, r.Body)
		}
	}
	if r := call(t, e, "GET", "/api/v1/incidents", hnc, "", nil); bytes.Contains(r.Body, []byte("Diễn tập order")) {
		t.Fatalf("real incidents show the order's incident: %s", r.Body)
	}
	if r := call(t, e, "GET", fmt.Sprintf("/api/v1/incidents?exercise=%d", x.ID), hnc, "", nil); r.Status != 200 ||
		!bytes.Contains(r.Body, []byte("Diễn tập order")) {
		t.Fatalf("exercise incidents: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", "/api/v1/incidents?exercise=-3", hnc, "", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("bad exercise filter: %d", r.Status)
	}
	r := call(t, e, "GET", fmt.Sprintf("/api/v1/exercises/%d/report", x.ID), hnc, "", nil)
	var rep exercise.Report
	if err := json.Unmarshal(r.Body, &rep); err != nil || r.Status != 200 {
		t.Fatalf("report: %d %v %s", r.Status, err, r.Body)
	}
	kinds := map[string]bool{}
	for _, in := range rep.Injects {
		kinds[in.Kind] = in.OrderID != 0 || in.AdvisoryID != 0
	}
	if !kinds[exercise.KindOrder] || !kinds[exercise.KindAdvisory] || len(rep.Teams) != 1 || rep.Teams[0].Missed["ack"] != 2 {
		t.Fatalf("report: %+v %+v", rep.Injects, rep.Teams)
	}
}
