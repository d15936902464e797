package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.IncidentFilterRead] = struct{ how, who string }{"scoped read, or self", "acnrvu"}
	oracle[policy.IncidentFilterWrite] = struct{ how, who string }{"self only", ""}
	oracle[policy.IncidentFilterManage] = struct{ how, who string }{"write", "a"}
}
