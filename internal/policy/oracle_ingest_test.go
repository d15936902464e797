package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.IngestRead] = struct{ how, who string }{"scoped read", "acnu"}
	oracle[policy.IngestManage] = struct{ how, who string }{"write", "a"}
	oracle[policy.IngestManageNational] = struct{ how, who string }{"national write", "c"}
}
