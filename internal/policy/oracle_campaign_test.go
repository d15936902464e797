package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.CampaignRead] = struct{ how, who string }{"read", "acnrvu"}
	oracle[policy.CampaignManage] = struct{ how, who string }{"write", "acn"}
	oracle[policy.CampaignRespond] = struct{ how, who string }{"write", "acnr"}
}
