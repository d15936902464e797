package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.OrderIssue] = struct{ how, who string }{"write", "c"}
	oracle[policy.OrderRead] = struct{ how, who string }{"read", "acnrvu"}
	oracle[policy.OrderRespond] = struct{ how, who string }{"write", "acnr"}
	oracle[policy.SupportRequest] = struct{ how, who string }{"write", "acnr"}
	oracle[policy.SupportRead] = struct{ how, who string }{"read", "acnrvu"}
	oracle[policy.SupportDecide] = struct{ how, who string }{"write", "ac"}
	oracle[policy.EffortWrite] = struct{ how, who string }{"write", "acn"}
}
