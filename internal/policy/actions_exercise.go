package policy

// Exercise actions (internal/exercise): a drill run on certnet itself.
//
// The service checks them against a resource owned by the drill's
// organiser (run, read) or by a participant (read) under TLP AMBER.
const (
	// ExerciseRead: see an exercise, its injects, the live view and the
	// after-action report.
	ExerciseRead Action = "exercise.read"
	// ExerciseRun: build injects, start and stop the exercise, write the
	// lessons and open actions of its after-action report.
	ExerciseRun Action = "exercise.run"
)

func init() {
	for a, r := range map[Action]rule{
		ExerciseRead: {roles: Roles},
		ExerciseRun:  {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
