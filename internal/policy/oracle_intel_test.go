package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.IntelRead] = struct{ how, who string }{"read", "acnrvu"}
	oracle[policy.IntelWrite] = struct{ how, who string }{"write", "acn"}
	oracle[policy.IntelImport] = struct{ how, who string }{"write", "acn"}
	oracle[policy.AdvisoryRead] = struct{ how, who string }{"read", "acnrvu"}
	oracle[policy.AdvisoryWrite] = struct{ how, who string }{"write", "acn"}
	oracle[policy.AdvisoryPublish] = struct{ how, who string }{"write", "ac"}
	oracle[policy.AdvisoryRespond] = struct{ how, who string }{"own write", "acnr"}
	oracle[policy.CVEImport] = struct{ how, who string }{"national write", "acn"}
}
