package web_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"certnet/internal/campaign"
	"certnet/internal/errs"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmCampaignRoutes) }

// wmCampaignOf remembers each case's campaign for its decide function.
var wmCampaignOf = map[*wmCase]campaign.Campaign{}

// wmCampaign is an AMBER campaign of the national coordinator with one
// address in a fresh range of the target, made as the system.
func wmCampaign(rest string) func(t *testing.T, c *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		t.Helper()
		ctx, e := c.m.ctx, c.m.e
		ip := fmt.Sprintf("100.103.%d.%d", c.n>>8&255, c.n&255)
		if _, err := e.App.Orgs.AddRange(ctx, e.Sys, c.t.org.ID, ip+"/32", ""); err != nil {
			t.Fatal(err)
		}
		nc, err := e.App.Orgs.GetByCode(ctx, e.Sys, "WM-NC")
		if err != nil {
			t.Fatal(err)
		}
		cs := e.App.Campaign
		camp, err := cs.Create(ctx, e.Sys, campaign.Input{OrgID: nc.ID, Name: fmt.Sprintf("Chiến dịch %d", c.n), Malware: "Mirai",
			Actions: "Cập nhật firmware", TLP: "amber", EndsAt: e.Clock.Now().AddDate(0, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.AddAddress(ctx, e.Sys, camp.ID, campaign.Row{IP: netip.MustParseAddr(ip)}); err != nil {
			t.Fatal(err)
		}
		if camp, err = cs.Get(ctx, e.Sys, camp.ID); err != nil {
			t.Fatal(err)
		}
		wmCampaignOf[c] = camp
		return wmReq{method: "GET", path: fmt.Sprintf("/campaigns/%d%s", camp.ID, rest)}
	}
}

func onCampaign(report bool) func(c *wmCase) error {
	return func(c *wmCase) error {
		camp := wmCampaignOf[c]
		if err := camp.Check(c.a.actor, policy.CampaignRead); err != nil {
			return err
		}
		if report && !camp.Manages(c.a.actor) {
			return errs.Forbidden("campaign: report")
		}
		return nil
	}
}

var wmCampaignRoutes = map[string]wmRoute{
	"GET /campaigns": {
		req:    wmGet(func(*wmCase) string { return "/campaigns" }),
		decide: func(*wmCase) error { return nil },
	},
	"GET /campaigns/{cid}":        {req: wmCampaign(""), decide: onCampaign(false)},
	"GET /campaigns/{cid}/report": {req: wmCampaign("/report"), decide: onCampaign(true)},
	"GET /campaigns/{cid}/report.csv": {
		req: wmCampaign("/report.csv"), decide: onCampaign(true), ctype: "text/csv",
	},
	"GET /campaigns/{cid}/report.xlsx": {
		req: wmCampaign("/report.xlsx"), decide: onCampaign(true),
		ctype: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	},
	"GET /campaigns/new": {req: wmGet(wmPath("/campaigns/new")), decide: onCampaignRun},
	"POST /campaigns": {
		req: wmPost(wmPath("/campaigns"), func(c *wmCase) url.Values {
			return url.Values{"name": {fmt.Sprintf("Chiến dịch ma trận %d", c.n)}, "malware": {"Mirai"}, "actions": {"Cập nhật firmware"},
				"tlp": {"amber"}, "ends_at": {c.m.e.Clock.Now().AddDate(0, 1, 0).Format("2006-01-02")}}
		}),
		decide: onCampaignRun,
	},
	"GET /campaigns/{cid}/import": {req: wmCampaign("/import"), decide: onCampaignManage},
	"POST /campaigns/{cid}/import": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r := wmCampaign("/import")(t, c)
			r.method, r.form, r.file = http.MethodPost, url.Values{}, []byte(fmt.Sprintf("ip,port\n100.104.%d.%d,23\nnot-an-ip,1\n", c.n>>8&255, c.n&255))
			return r
		},
		decide: onCampaignManage,
	},
	"POST /campaigns/{cid}/import/confirm": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r := wmCampaign("/import/confirm")(t, c)
			csv := fmt.Sprintf("ip,port\n100.104.%d.%d,23\n", c.n>>8&255, c.n&255)
			r.method, r.form = http.MethodPost, url.Values{"data": {base64.StdEncoding.EncodeToString([]byte(csv))}, "file_name": {"list.csv"}}
			return r
		},
		decide: onCampaignManage,
	},
	"POST /campaigns/{cid}/parts/{oid}/status": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r := wmCampaign("")(t, c)
			r.method, r.path = http.MethodPost, r.path+fmt.Sprintf("/parts/%d/status", c.t.org.ID)
			r.form = url.Values{"status": {campaign.PartCleaning}, "note": {"Đang cập nhật firmware"}}
			return r
		},
		decide: func(c *wmCase) error {
			if err := wmCampaignOf[c].Check(c.a.actor, policy.CampaignRead); err != nil {
				return err
			}
			return c.check(policy.CampaignRespond, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
		},
	},
}

// onCampaignRun: the actor may manage campaigns of its own organisation.
func onCampaignRun(c *wmCase) error {
	return c.check(policy.CampaignManage, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPAmber})
}

// onCampaignManage: the actor runs the campaign (its import).
func onCampaignManage(c *wmCase) error {
	if err := onCampaign(true)(c); err != nil {
		return err
	}
	return wmCampaignOf[c].Check(c.a.actor, policy.CampaignManage)
}
