package web_test

import (
	"fmt"
	"net/netip"
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
}
