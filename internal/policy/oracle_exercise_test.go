package policy_test

import "certnet/internal/policy"

func init() {
	oracle[policy.ExerciseRead] = struct{ how, who string }{"scoped read", "acnrvu"}
	oracle[policy.ExerciseRun] = struct{ how, who string }{"write", "ac"}
}
