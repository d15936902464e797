package policy_test

import (
	"slices"
	"testing"

	"certnet/internal/policy"
)

func TestScopeIDs(t *testing.T) {
	s := policy.Scope{Orgs: map[int64]bool{9: true, 3: true, 5: false, 7: true}}
	if got := s.IDs(); !slices.Equal(got, []int64{3, 7, 9}) {
		t.Errorf("IDs = %v, want [3 7 9] (sorted, without 5 which is not in scope)", got)
	}
	if got := (policy.Scope{All: true, Orgs: map[int64]bool{1: true}}).IDs(); got != nil {
		t.Errorf("All: IDs = %v, want nil", got)
	}
	if got := (policy.Scope{}).IDs(); len(got) != 0 {
		t.Errorf("empty: IDs = %v", got)
	}
}
