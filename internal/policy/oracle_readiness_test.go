package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.ReadinessRead] = struct{ how, who string }{"scoped read", "acnrvu"}
	oracle[policy.ReadinessWrite] = struct{ how, who string }{"write", "ac"}
	oracle[policy.ReadinessAssess] = struct{ how, who string }{"write", "ac"}
	oracle[policy.ReadinessCatalogue] = struct{ how, who string }{"national write", "ac"}
	oracle[policy.ReadinessPlanApprove] = struct{ how, who string }{"write", "a"}
}
