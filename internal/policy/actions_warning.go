package policy

// Early-warning actions (internal/warning) and the 24/7 view. A warning is
// national: the coordinator raises, acknowledges, closes it and turns it
// into an advisory. Response units read the warnings and the 24/7 figures
// of their own scope (the organisations under them); reads are checked
// against a resource owned by the actor's organisation (or the one whose
// figures are shown) under TLP AMBER.
const (
	// WarningRead: the warnings list and detail and the 24/7 view, within
	// the actor's scope.
	WarningRead Action = "warning.read"
	// WarningManage: acknowledge, close and turn a warning into an
	// advisory draft (national coordinator).
	WarningManage Action = "warning.manage"
	// WarningSettings: change the early-warning thresholds (national
	// administrator).
	WarningSettings Action = "warning.settings"
)

func init() {
	for a, r := range map[Action]rule{
		WarningRead:     {roles: []Role{RoleAdmin, RoleCoordinator, RoleAnalyst, RoleAuditor}},
		WarningManage:   {write: true, roles: []Role{RoleCoordinator, RoleAnalyst}, national: true},
		WarningSettings: {write: true, roles: []Role{RoleAdmin}, national: true},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
