package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"certnet/internal/ingest"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmIngestRoutes) }

// onIngest decides by the source actions on the target organisation: read
// its sources (AMBER, scoped), then manage them as its administrator or
// the national coordinator.
func onIngest(manage bool) func(c *wmCase) error {
	return func(c *wmCase) error {
		if err := c.check(policy.OrgRead, c.t.org.Resource()); err != nil {
			return err
		}
		res := ingest.Resource(c.t.org.ID)
		if err := c.check(policy.IngestRead, res); err != nil {
			return err
		}
		if !manage {
			return nil
		}
		err := c.check(policy.IngestManage, res)
		if err != nil && c.check(policy.IngestManageNational, res) == nil {
			return nil
		}
		return err
	}
}

func wmSource(t *testing.T, c *wmCase) ingest.Source {
	src, _, err := c.m.e.App.Ingest.CreateSource(c.m.ctx, c.m.e.Sys, ingest.SourceInput{OrgID: c.t.org.ID, Name: fmt.Sprintf("nguồn %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func wmSourceAction(action string) func(t *testing.T, c *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		src := wmSource(t, c)
		return wmReq{method: http.MethodPost, path: fmt.Sprintf("/orgs/%d/ingest/%d/%s", c.t.org.ID, src.ID, action), form: url.Values{}}
	}
}

var wmIngestRoutes = map[string]wmRoute{
	"GET /ingest/sources": {
		req: func(t *testing.T, c *wmCase) wmReq {
			wmSource(t, c)
			return wmReq{method: http.MethodGet, path: "/ingest/sources"}
		},
		shows: func(c *wmCase) error {
			if err := onIngest(false)(c); err != nil {
				return err
			}
			return nil
		},
		decide: func(*wmCase) error { return nil },
		seen:   contains(func(c *wmCase) string { return fmt.Sprintf("nguồn %d<", c.n) }),
	},
	"GET /orgs/{id}/ingest": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/ingest") }),
		decide: onIngest(false),
	},
	"POST /orgs/{id}/ingest": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/ingest") }, func(c *wmCase) url.Values {
			return url.Values{"name": {fmt.Sprintf("Suricata %d", c.n)}}
		}),
		decide: onIngest(true),
	},
	"POST /orgs/{id}/ingest/{sid}/disable": {req: wmSourceAction("disable"), decide: onIngest(true)},
	"POST /orgs/{id}/ingest/{sid}/enable":  {req: wmSourceAction("enable"), decide: onIngest(true)},
	"POST /orgs/{id}/ingest/{sid}/rotate":  {req: wmSourceAction("rotate"), decide: onIngest(true)},
}

var tokenRe = regexp.MustCompile(`value="(cns_[a-z2-7]{52})"`)

// An organisation's administrator adds a source, sees its token once,
// rotates and disables it; a viewer may not see the sources.
func TestWebIngestSources(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	soc := e.Org("SOC-HN", "SOC Hà Nội", n.hanoi.ID, org.RoleProvincialSOC)
	e.User(soc.ID, "quantri.soc", policy.RoleAdmin)
	b := newOrgBrowser(t, e)
	b.login("quantri.soc")
	page := fmt.Sprintf("/orgs/%d/ingest", soc.ID)
	p := b.get(page)
	orgWant(t, "empty page", p.Body, `action="`+page+`"`, `name="quota"`)

	// Bad input: the form again with the message, nothing saved.
	p = b.post(page, url.Values{"name": {""}, "quota": {"-5"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="quota-err"`) {
		t.Fatalf("bad quota: %d", p.Status)
	}
	if list, _ := e.App.Ingest.Sources(context.Background(), e.Sys, soc.ID); len(list) != 0 {
		t.Fatalf("refused source saved: %v", list)
	}
	p = b.post(page, url.Values{"name": {"Suricata biên"}, "quota": {"1200"}})
	m := tokenRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || m == nil || !strings.Contains(p.Body, "Suricata biên") || !strings.Contains(p.Body, "Chưa gửi lô nào") {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	token := m[1]
	// The token is shown once.
	if p = b.get(page); strings.Contains(p.Body, token) || !strings.Contains(p.Body, token[:12]+"…") {
		t.Fatalf("token shown again or prefix missing")
	}
	list, err := e.App.Ingest.Sources(context.Background(), e.Sys, soc.ID)
	if err != nil || len(list) != 1 || list[0].Quota != 1200 {
		t.Fatalf("sources %v %v", list, err)
	}
	src := list[0]
	if _, err := e.App.Ingest.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("the shown token does not authenticate: %v", err)
	}
	p = b.post(fmt.Sprintf("%s/%d/rotate", page, src.ID), url.Values{})
	m = tokenRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil || m[1] == token {
		t.Fatalf("rotate: %d", p.Status)
	}
	if _, err := e.App.Ingest.Authenticate(context.Background(), token); err == nil {
		t.Fatal("the old token still authenticates")
	}
	p = b.post(fmt.Sprintf("%s/%d/disable", page, src.ID), url.Values{})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.Status)
	}
	if p = b.get(page); !strings.Contains(p.Body, "Tạm dừng") || !strings.Contains(p.Body, "/enable") {
		t.Fatalf("disabled source not shown as such")
	}
	// The national list shows it to the national administrator; a viewer
	// of Hà Nội may not read the sources.
	nb := newOrgBrowser(t, e)
	nb.login(n.adminName)
	if p = nb.get("/ingest/sources"); p.Status != 200 || !strings.Contains(p.Body, "Suricata biên") || !strings.Contains(p.Body, "SOC Hà Nội") {
		t.Fatalf("national list: %d", p.Status)
	}
	vb := newOrgBrowser(t, e)
	vb.login(n.viewerHN)
	if p = vb.get(page); p.Status != http.StatusForbidden {
		t.Fatalf("viewer: %d", p.Status)
	}
	if p = vb.get("/ingest/sources"); p.Status != 200 || strings.Contains(p.Body, "Suricata biên") {
		t.Fatalf("viewer's list: %d", p.Status)
	}
}
