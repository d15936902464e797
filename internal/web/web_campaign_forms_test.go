package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"certnet/internal/campaign"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// The campaign forms end to end: the coordinator's analyst creates a
// campaign (a bad date shown on the form), previews a list with a refused
// line (nothing stored), imports it; the member's reporter answers "not
// ours" without a note (refused on its form), acknowledges, then "in
// progress" with a note.
func TestCampaignForms(t *testing.T) {
	n := newOrgNet(t)
	e, ctx := n.e, context.Background()
	mem := e.Org("HNI-BV", "Bệnh viện Đa khoa Hà Nội", n.hanoi.ID, org.RoleSystemOwner)
	if _, err := e.App.Orgs.AddRange(ctx, e.Sys, mem.ID, "198.51.100.0/24", ""); err != nil {
		t.Fatal(err)
	}
	e.User(n.nat.ID, "phantich", policy.RoleAnalyst)
	e.User(mem.ID, "baocao.bv", policy.RoleReporter)

	b := newOrgBrowser(t, e)
	b.login("phantich")
	if p := b.get("/campaigns"); p.Status != 200 || !strings.Contains(p.Body, `href="/campaigns/new"`) {
		t.Fatalf("list: %d, no link to a new campaign", p.Status)
	}
	b.get("/campaigns/new")
	form := url.Values{"name": {"Bóc gỡ Mirai 2026"}, "malware": {"Mirai"}, "actions": {"Cập nhật firmware, đổi mật khẩu"},
		"tlp": {"amber"}, "starts_at": {"2026-11-26"}, "ends_at": {"27/12/2026"}, "ack_days": {"3"}}
	if p := b.post("/campaigns", form); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "YYYY-MM-DD") {
		t.Fatalf("a bad end date: %d\n%s", p.Status, p.Body)
	}
	form.Set("ends_at", "2026-12-27")
	p := b.post("/campaigns", form)
	m := regexp.MustCompile(`^/campaigns/(\d+)/import$`).FindStringSubmatch(p.Location)
	if p.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	path := "/campaigns/" + m[1]
	b.get(path + "/import")
	csv := "ip,port,malware\n198.51.100.7,23,Mirai\n198.51.100.8,2323,Mirai\nnot-an-ip,1,x\n203.0.113.50,23,Mirai\n"
	p = b.upload(path+"/import", url.Values{}, "list.csv", []byte(csv))
	if p.Status != 200 || !strings.Contains(p.Body, "198.51.100.8") || !strings.Contains(p.Body, "<td>4</td>") {
		t.Fatalf("preview: %d\n%s", p.Status, p.Body)
	}
	cs := e.App.Campaign
	var id int64
	fmt.Sscan(m[1], &id)
	if got, _ := cs.Addresses(ctx, e.Sys, id, campaign.Filter{Limit: 10}); len(got) != 0 {
		t.Fatalf("the preview stored %d addresses", len(got))
	}
	data := regexp.MustCompile(`name="data" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if data == nil {
		t.Fatal("no confirm form")
	}
	p = b.post(path+"/import/confirm", url.Values{"data": {data[1]}, "file_name": {"list.csv"}})
	if p.Status != 200 || !strings.Contains(p.Body, "status-ok") {
		t.Fatalf("import: %d\n%s", p.Status, p.Body)
	}
	if got, _ := cs.Addresses(ctx, e.Sys, id, campaign.Filter{Limit: 10}); len(got) != 3 {
		t.Fatalf("%d addresses stored, want 3", len(got))
	}

	r := newOrgBrowser(t, e)
	r.login("baocao.bv")
	if p := r.get(path); p.Status != 200 || !strings.Contains(p.Body, fmt.Sprintf(`action="%s/parts/%d/status"`, path, mem.ID)) {
		t.Fatalf("member page: %d, no answer form\n%s", p.Status, p.Body)
	}
	status := fmt.Sprintf("%s/parts/%d/status", path, mem.ID)
	if p := r.post(status, url.Values{"status": {campaign.PartNotAffected}}); p.Status != http.StatusBadRequest {
		t.Fatalf("not ours without a note: %d", p.Status)
	}
	if p := r.post(status, url.Values{"status": {campaign.PartAcknowledged}}); p.Status != http.StatusSeeOther {
		t.Fatalf("acknowledged: %d\n%s", p.Status, p.Body)
	}
	r.get(path)
	if p := r.post(status, url.Values{"status": {campaign.PartCleaning}, "note": {"Đang cập nhật"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("in progress: %d\n%s", p.Status, p.Body)
	}
	parts, err := cs.Parts(ctx, e.Sys, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range parts {
		if pt.OrgID == mem.ID && (pt.Status != campaign.PartCleaning || pt.Note != "Đang cập nhật") {
			t.Fatalf("part %+v", pt)
		}
	}
	// The member may not import into the campaign.
	if p := r.get(path + "/import"); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Fatalf("member import form: %d", p.Status)
	}
}
