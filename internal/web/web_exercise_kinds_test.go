package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

// --- scenario: Hà Nội injects a coordination order and an advisory into
// a drill from the exercise page; the hospital finds them under the
// exercise filter only, marked DIỄN TẬP / EXERCISE, never in its real
// lists ---

func TestWebExerciseOrderAndAdvisoryInjects(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := t.Context()
	hosp := e.Org("BV-HN", "Bệnh viện Hữu nghị", n.hanoi.ID, org.RoleSystemOwner)
	if _, err := e.DB.Exec(ctx, "UPDATE organisations SET intake_email = 'ucsc@hanoi.gov.vn' WHERE id = ?", n.hanoi.ID); err != nil {
		t.Fatal(err)
	}
	e.User(n.hanoi.ID, "hn.dieuphoi", policy.RoleCoordinator)
	e.User(hosp.ID, "bv.it", policy.RoleCoordinator)
	d, err := e.App.Readiness.SaveDrill(ctx, e.Sys, 0, readiness.DrillInput{OrgID: n.hanoi.ID, Title: "Diễn tập mã độc tống tiền",
		Kind: readiness.DrillOrganisation, StartsOn: e.Clock.Now(), EndsOn: e.Clock.Now().AddDate(0, 0, 1), Scenario: "Mã độc tống tiền",
		Participants: []int64{hosp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.App.Exercise.Create(ctx, e.Sys, d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	hb := newOrgBrowser(t, e)
	hb.login("hn.dieuphoi")
	path := fmt.Sprintf("/exercises/%d", x.ID)
	p := hb.get(path)
	orgWant(t, "inject form", p.Body, `name="kind"`, `value="order"`, `value="advisory"`)
	inject := func(kind, title string) orgPage {
		return hb.post(path+"/injects", url.Values{"kind": {kind}, "offset_minutes": {"5"}, "target_org_id": {fmt.Sprint(hosp.ID)},
			"title": {title}, "description": {"Cô lập máy chủ, vá VPN và báo lại"}, "type": {"ransomware"}, "severity": {"critical"}})
	}
	if p := inject("tabletop", "Sai loại"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Sai loại") {
		t.Fatalf("unknown kind: %d", p.Status)
	}
	for kind, title := range map[string]string{"order": "Lệnh diễn tập: cô lập máy chủ", "advisory": "Cảnh báo diễn tập: lỗ hổng VPN"} {
		if p := inject(kind, title); p.Status != http.StatusSeeOther {
			t.Fatalf("%s inject: %d %s", kind, p.Status, p.Body)
		}
	}
	if p := hb.post(path+"/start", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("start: %d", p.Status)
	}
	e.Clock.Advance(5 * time.Minute)
	if k, err := e.App.Exercise.Deliver(ctx); err != nil || k != 2 {
		t.Fatalf("delivered %d %v", k, err)
	}
	p = hb.get(path)
	orgWant(t, "exercise page", p.Body, "Lệnh điều phối", "Cảnh báo", `href="/orders/`, `href="/advisories/`)

	bb := newOrgBrowser(t, e)
	bb.login("bv.it")
	for _, list := range []string{"/orders", "/advisories", "/incidents", "/"} {
		p := bb.get(list)
		if p.Status != http.StatusOK || strings.Contains(p.Body, "Lệnh diễn tập") || strings.Contains(p.Body, "Cảnh báo diễn tập") {
			t.Fatalf("%s shows the drill (%d)", list, p.Status)
		}
	}
	p = bb.get("/orders?exercise=1")
	orgWant(t, "exercise orders", p.Body, "Lệnh diễn tập: cô lập máy chủ", "DIỄN TẬP / EXERCISE", `id="exercise-banner"`)
	p = bb.get("/advisories?exercise=1")
	orgWant(t, "exercise advisories", p.Body, "Cảnh báo diễn tập: lỗ hổng VPN", "DIỄN TẬP / EXERCISE")
	adv := between(p.Body, `<a href="`, `">Cảnh báo diễn tập: lỗ hổng VPN`)
	p = bb.get(adv)
	orgWant(t, "exercise advisory", p.Body, `id="exercise-banner"`, "Cảnh báo diễn tập: lỗ hổng VPN")
	p = hb.get("/incidents?exercise=all")
	orgWant(t, "the drills' incidents", p.Body, "Lệnh diễn tập: cô lập máy chủ", `id="exercise-banner"`)
	if p := hb.get("/incidents"); strings.Contains(p.Body, "Lệnh diễn tập") {
		t.Fatal("the real incident list shows the order's exercise incident")
	}
	if p := hb.get("/incidents?exercise=abc"); p.Status != http.StatusBadRequest {
		t.Fatalf("a broken exercise filter: %d", p.Status)
	}
}
