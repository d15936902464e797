package policy

// Readiness actions (internal/readiness): response teams, people, their
// certificates and courses, the on-duty rota and SIM3 self-assessments.
//
// The service checks them against a resource owned by the team's (or the
// person's) organisation under TLP AMBER: the organisation and those whose
// scope holds it (its response units up to the national coordinator).
const (
	// ReadinessRead: see teams, people, the rota and its coverage, SIM3
	// assessments and the maturity of the network in scope.
	ReadinessRead Action = "readiness.read"
	// ReadinessWrite: keep teams, people, agreements, certificates, courses
	// and the rota of an organisation.
	ReadinessWrite Action = "readiness.write"
	// ReadinessAssess: record a SIM3 self-assessment of a team.
	ReadinessAssess Action = "readiness.assess"
	// ReadinessCatalogue: keep the national catalogue of incident
	// scenarios (checked against the actor's own organisation).
	ReadinessCatalogue Action = "readiness.catalogue"
	// ReadinessPlanApprove: approve or return a submitted response plan.
	// QĐ 05 has the plan approved by the head of the organisation above the
	// team (a provincial plan by the provincial People's Committee
	// chairman's office). certnet models that leadership as the
	// administrator role of the plan's organisation or of any organisation
	// whose scope holds it: its parent (a province for its departments and
	// members) up to the national coordinator, whose administrators hold the
	// whole network. Coordinators keep plans (ReadinessWrite) but do not
	// approve them.
	ReadinessPlanApprove Action = "readiness.plan_approve"
)

func init() {
	for a, r := range map[Action]rule{
		ReadinessRead:        {roles: Roles},
		ReadinessWrite:       {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
		ReadinessAssess:      {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
		ReadinessCatalogue:   {write: true, roles: []Role{RoleAdmin, RoleCoordinator}, national: true},
		ReadinessPlanApprove: {write: true, roles: []Role{RoleAdmin}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
