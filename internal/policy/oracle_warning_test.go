package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.WarningRead] = struct{ how, who string }{"scoped read", "acnu"}
	oracle[policy.WarningManage] = struct{ how, who string }{"national write", "cn"}
	oracle[policy.WarningSettings] = struct{ how, who string }{"national write", "a"}
}
