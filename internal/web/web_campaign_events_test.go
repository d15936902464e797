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

// The campaign import page with an events file: a bad id filter shown on
// the form, the preview (addresses of the member's range once each with
// their event count, the malformed line refused, nothing stored), then the
// import carrying the kind and filter through the confirm form.
func TestCampaignImportEventsForm(t *testing.T) {
	n := newOrgNet(t)
	e, ctx := n.e, context.Background()
	mem := e.Org("HNI-EV", "Công ty Sự kiện", n.hanoi.ID, org.RoleSystemOwner)
	if _, err := e.App.Orgs.AddRange(ctx, e.Sys, mem.ID, "198.51.100.0/24", ""); err != nil {
		t.Fatal(err)
	}
	e.User(n.nat.ID, "phantich", policy.RoleAnalyst)
	cs := e.App.Campaign
	c, err := cs.Create(ctx, e.Sys, campaign.Input{OrgID: n.nat.ID, Name: "Bóc gỡ theo sự kiện", Malware: "Mirai", Actions: "Cập nhật firmware",
		TLP: "amber", EndsAt: e.Clock.Now().AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	events := `{"timestamp":"2026-11-20T08:15:02Z","event_type":"alert","src_ip":"203.0.113.9","dest_ip":"198.51.100.7","alert":{"signature_id":2001219,"signature":"ET SCAN"}}
{"timestamp":"2026-11-20T08:16:02Z","event_type":"alert","src_ip":
{"timestamp":"2026-11-20T09:15:02Z","event_type":"alert","src_ip":"198.51.100.7","dest_ip":"203.0.113.9","alert":{"signature_id":2001219,"signature":"ET SCAN"}}
{"timestamp":"2026-11-20T09:20:02Z","event_type":"alert","src_ip":"198.51.100.8","dest_ip":"203.0.113.9","alert":{"signature_id":2002910,"signature":"ET VNC"}}
`
	b := newOrgBrowser(t, e)
	b.login("phantich")
	path := fmt.Sprintf("/campaigns/%d/import", c.ID)
	if p := b.get(path); p.Status != 200 || !strings.Contains(p.Body, `value="events"`) {
		t.Fatalf("import page: %d, no events option", p.Status)
	}
	if p := b.upload(path, url.Values{"kind": {"events"}, "signature_ids": {"ET SCAN"}}, "eve.json", []byte(events)); p.Status != http.StatusBadRequest ||
		!strings.Contains(p.Body, "ET SCAN") {
		t.Fatalf("a bad filter: %d\n%s", p.Status, p.Body)
	}
	p := b.upload(path, url.Values{"kind": {"events"}, "signature_ids": {"2001219"}}, "eve.json", []byte(events))
	if p.Status != 200 || !strings.Contains(p.Body, "<code>198.51.100.7</code>") || strings.Contains(p.Body, "198.51.100.8") ||
		strings.Contains(p.Body, "<code>203.0.113.9</code>") || !strings.Contains(p.Body, `<td class="num">2</td>`) || !strings.Contains(p.Body, "<td>2</td>") {
		t.Fatalf("preview: %d\n%s", p.Status, p.Body)
	}
	if got, _ := cs.Addresses(ctx, e.Sys, c.ID, campaign.Filter{Limit: 10}); len(got) != 0 {
		t.Fatalf("the preview stored %d addresses", len(got))
	}
	form := url.Values{"file_name": {"eve.json"}}
	for _, k := range []string{"data", "kind", "signature_ids"} {
		m := regexp.MustCompile(`name="` + k + `" value="([^"]+)"`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no %s in the confirm form", k)
		}
		form.Set(k, m[1])
	}
	p = b.post(path+"/confirm", form)
	if p.Status != 200 || !strings.Contains(p.Body, "status-ok") {
		t.Fatalf("import: %d\n%s", p.Status, p.Body)
	}
	got, _ := cs.Addresses(ctx, e.Sys, c.ID, campaign.Filter{Limit: 10})
	if len(got) != 1 || got[0].IP != "198.51.100.7" || got[0].MemberOrgID != mem.ID {
		t.Fatalf("stored %+v", got)
	}
	// A CSV's refused line in the page's language (Vietnamese).
	p = b.upload(path, url.Values{"kind": {"csv"}}, "list.csv", []byte("ip,port\n198.51.100.9,99999\n198.51.100.10,23\n"))
	if p.Status != 200 || !strings.Contains(p.Body, "không phải số cổng") {
		t.Fatalf("CSV preview: %d\n%s", p.Status, p.Body)
	}
}
