package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.InfosysRead] = struct{ how, who string }{"scoped read", "acnrvu"}
	oracle[policy.InfosysWrite] = struct{ how, who string }{"write", "ac"}
	oracle[policy.InfosysAppraise] = struct{ how, who string }{"write", "ac"}
	oracle[policy.InfosysApprove] = struct{ how, who string }{"write", "a"}
	oracle[policy.InfosysAppraiseNational] = struct{ how, who string }{"national write", "ac"}
	oracle[policy.InfosysApproveNational] = struct{ how, who string }{"national write", "a"}
}
