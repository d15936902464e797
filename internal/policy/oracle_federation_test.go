package policy_test

import (
	"testing"

	"certnet/internal/policy"
)

func init() {
	oracle[policy.FederationRead] = struct{ how, who string }{"scoped read", "acu"}
	oracle[policy.FederationManage] = struct{ how, who string }{"write", "a"}
}

// TestMayFederate: the labels that may go up to the parent instance.
func TestMayFederate(t *testing.T) {
	want := map[policy.TLP]bool{policy.TLPClear: true, policy.TLPGreen: true, policy.TLPAmber: true,
		policy.TLPAmberStrict: false, policy.TLPRed: false, "": false, "WHITE": false}
	for tlp, ok := range want {
		if got := policy.MayFederate(tlp); got != ok {
			t.Errorf("MayFederate(%q) = %v, want %v", tlp, got, ok)
		}
	}
}
