package api_test

import (
	"fmt"
	"net/netip"
	"testing"

	"certnet/internal/campaign"
	"certnet/internal/errs"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(campaignMatrix) }

// mxCampaign is an AMBER campaign of the national coordinator with one
// address in a fresh range of the target, as the system.
func mxCampaign(t *testing.T, c *mCase) (campaign.Campaign, campaign.Address) {
	t.Helper()
	ip := fmt.Sprintf("100.102.%d.%d", c.n>>8&255, c.n&255)
	if _, err := c.m.e.App.Orgs.AddRange(c.m.ctx, c.m.e.Sys, c.t.org.ID, ip+"/32", ""); err != nil {
		t.Fatal(err)
	}
	nc, err := c.m.e.App.Orgs.GetByCode(c.m.ctx, c.m.e.Sys, "MX-NC")
	if err != nil {
		t.Fatal(err)
	}
	cs := c.m.e.App.Campaign
	camp, err := cs.Create(c.m.ctx, c.m.e.Sys, campaign.Input{OrgID: nc.ID, Name: fmt.Sprintf("Chiến dịch %d", c.n), Malware: "Mirai",
		Actions: "Cập nhật firmware", TLP: "amber", EndsAt: c.m.e.Clock.Now().AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AddAddress(c.m.ctx, c.m.e.Sys, camp.ID, campaign.Row{IP: netip.MustParseAddr(ip)}); err != nil {
		t.Fatal(err)
	}
	camp, err = cs.Get(c.m.ctx, c.m.e.Sys, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := cs.Addresses(c.m.ctx, c.m.e.Sys, camp.ID, campaign.Filter{})
	if err != nil || len(addrs) != 1 || addrs[0].MemberOrgID != c.t.org.ID {
		t.Fatalf("matrix campaign address %+v %v", addrs, err)
	}
	return camp, addrs[0]
}

// mxCampaignOf remembers each case's campaign for its decide function.
var mxCampaignOf = map[*mCase]struct {
	c campaign.Campaign
	a campaign.Address
}{}

func campaignReq(rest, body string) func(*testing.T, *mCase) (string, string) {
	return func(t *testing.T, c *mCase) (string, string) {
		camp, ad := mxCampaign(t, c)
		mxCampaignOf[c] = struct {
			c campaign.Campaign
			a campaign.Address
		}{camp, ad}
		b := body
		if b == "ip" {
			b = jsonBody(map[string]any{"ip": ad.IP})
		}
		p := rest
		if p == "/parts" {
			p = fmt.Sprintf("/parts/%d/status", c.t.org.ID)
		}
		return fmt.Sprintf("/api/v1/campaigns/%d%s", camp.ID, p), b
	}
}

func decideCampaign(then func(c *mCase, camp campaign.Campaign, ad campaign.Address) error) func(c *mCase) error {
	return func(c *mCase) error {
		x := mxCampaignOf[c]
		if err := x.c.Check(c.a.actor, policy.CampaignRead); err != nil {
			return err
		}
		if then == nil {
			return nil
		}
		return then(c, x.c, x.a)
	}
}

var campaignMatrix = map[string]mRoute{
	"GET /api/v1/campaigns": {
		req:    static("/api/v1/campaigns", ""),
		decide: func(*mCase) error { return nil },
	},
	"POST /api/v1/campaigns": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/campaigns", jsonBody(map[string]any{"name": fmt.Sprintf("Chiến dịch %d", c.n), "malware": "Mirai",
				"actions": "Cập nhật firmware", "tlp": "amber", "ends_at": "2099-01-01"})
		},
		// The caller's organisation (a provincial response unit or the
		// national coordinator) runs the campaign.
		decide: func(c *mCase) error {
			return policy.Check(c.a.actor, policy.CampaignManage, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPAmber})
		},
	},
	"GET /api/v1/campaigns/{cid}": {
		req:    campaignReq("", ""),
		decide: decideCampaign(nil),
	},
	"POST /api/v1/campaigns/{cid}/import": {
		req: campaignReq("/import", jsonBody(map[string]any{"source": "matrix", "csv": "ip\n203.0.113.7\n"})),
		decide: decideCampaign(func(c *mCase, camp campaign.Campaign, _ campaign.Address) error {
			return policy.Check(c.a.actor, policy.CampaignManage, policy.Resource{OwnerOrg: camp.OrgID, TLP: policy.TLPAmber})
		}),
	},
	"GET /api/v1/campaigns/{cid}/addresses": {
		req:    campaignReq("/addresses", ""),
		decide: decideCampaign(nil),
	},
	"POST /api/v1/campaigns/{cid}/addresses/clean": {
		req: campaignReq("/addresses/clean", "ip"),
		decide: decideCampaign(func(c *mCase, _ campaign.Campaign, ad campaign.Address) error {
			return campaign.CheckAddress(c.a.actor, ad)
		}),
	},
	"POST /api/v1/campaigns/{cid}/parts/{oid}/status": {
		req: campaignReq("/parts", jsonBody(map[string]any{"status": "acknowledged"})),
		decide: decideCampaign(func(c *mCase, _ campaign.Campaign, _ campaign.Address) error {
			return policy.Check(c.a.actor, policy.CampaignRespond, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
		}),
	},
	"GET /api/v1/campaigns/{cid}/report": {
		req: campaignReq("/report", ""),
		decide: decideCampaign(func(c *mCase, camp campaign.Campaign, _ campaign.Address) error {
			if !camp.Manages(c.a.actor) {
				return errs.Forbidden("campaign: report")
			}
			return nil
		}),
	},
}
