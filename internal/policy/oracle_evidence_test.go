package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.EvidenceAdd] = struct{ how, who string }{"write", "acnr"}
	oracle[policy.EvidenceRead] = struct{ how, who string }{"scoped read", "acnrvu"}
	oracle[policy.EvidenceDownload] = struct{ how, who string }{"scoped read", "acnrvu"}
	oracle[policy.TaskWrite] = struct{ how, who string }{"write", "acn"}
	oracle[policy.PublicReportRead] = struct{ how, who string }{"scoped read", "acnu"}
	oracle[policy.PublicReportTriage] = struct{ how, who string }{"write", "cn"}
}
