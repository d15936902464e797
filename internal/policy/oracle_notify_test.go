package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.NotifyInboxRead] = struct{ how, who string }{"scoped read, or self", "u"}
	oracle[policy.NotifyInboxWrite] = struct{ how, who string }{"self only", ""}
	oracle[policy.NotifyWebhookRead] = struct{ how, who string }{"scoped read", "au"}
	oracle[policy.NotifyWebhookWrite] = struct{ how, who string }{"write", "a"}
	oracle[policy.NotifyOutboxRead] = struct{ how, who string }{"national scoped read", "au"}
}
