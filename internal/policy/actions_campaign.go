package policy

// Malware-cleanup campaign actions (internal/campaign, QĐ 566). A campaign
// is checked against a resource owned by the organisation running it (the
// national coordinator or a response unit) under the campaign's label,
// shared with the members and ISPs its addresses were routed to; a member
// answers for its own part and an address against the member or the ISP
// it was routed to.
const (
	// CampaignRead: read a campaign, the addresses the actor may see and
	// (for the organisation running it) the progress and the report.
	CampaignRead Action = "campaign.read"
	// CampaignManage: create a campaign, import and add addresses.
	CampaignManage Action = "campaign.manage"
	// CampaignRespond: move the member's part (acknowledge, cleaning,
	// cleaned, not affected) and mark addresses cleaned, for the member or
	// the ISP.
	CampaignRespond Action = "campaign.respond"
)

func init() {
	for a, r := range map[Action]rule{
		CampaignRead:    {roles: everyone},
		CampaignManage:  {write: true, roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin}},
		CampaignRespond: {write: true, roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin, RoleReporter}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
