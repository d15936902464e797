package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.IntelRead] = struct{ how, who string }{"read", "acnrvu"}
	oracle[policy.IntelWrite] = struct{ how, who string }{"write", "acn"}
	oracle[policy.IntelImport] = struct{ how, who string }{"write", "acn"}
}
