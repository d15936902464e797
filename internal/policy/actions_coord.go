package policy

// Coordination actions (internal/coord): orders, support requests, effort.
//
// Issuing is checked once per target against a resource owned by the target
// organisation: every target must lie inside the issuer's scope. The service
// also requires the actor to see the incident and their organisation to be
// the national coordinator or a response unit.
//
// An order is read against two resources under AMBER: one owned by the
// issuing organisation and one per target, so the issuer, the targets and
// the organisations above either see it. Responding is checked against the
// target organisation; the service also requires the actor to belong to it.
//
// Support requests are read against a resource owned by the requesting
// organisation and shared with the receiving one; deciding is checked
// against the receiving organisation. Effort is written for a helping
// organisation inside the actor's scope and read with the incident.
const (
	// OrderIssue: issue a coordination order on an incident.
	OrderIssue Action = "order.issue"
	// OrderRead: see an order and its targets' states.
	OrderRead Action = "order.read"
	// OrderRespond: acknowledge, report progress, done or unable.
	OrderRespond Action = "order.respond"
	// SupportRequest: ask the response unit or the national coordinator
	// for help on an incident.
	SupportRequest Action = "support.request"
	// SupportRead: see a support request.
	SupportRead Action = "support.read"
	// SupportDecide: accept, decline or close a support request.
	SupportDecide Action = "support.decide"
	// EffortWrite: record a helping organisation's effort and costs.
	EffortWrite Action = "effort.write"
)

func init() {
	for a, r := range map[Action]rule{
		OrderIssue:     {write: true, roles: []Role{RoleCoordinator}},
		OrderRead:      {roles: everyone},
		OrderRespond:   {write: true, roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin, RoleReporter}},
		SupportRequest: {write: true, roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin, RoleReporter}},
		SupportRead:    {roles: everyone},
		SupportDecide:  {write: true, roles: []Role{RoleCoordinator, RoleAdmin}},
		EffortWrite:    {write: true, roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
