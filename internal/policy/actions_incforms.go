package policy

// Saved filters of the incident list (internal/incident filters.go).
//
// A saved filter is checked against a resource owned by the saving user's
// organisation and created by that user (Subject too): a filter kept for
// oneself is labelled RED (only its creator sees it), a filter shared with
// the organisation AMBER+STRICT (the organisation's own people, not those
// of the organisations above or below it). The form 05 summary is an
// incident read (IncidentRead) over the organisation it is about.
const (
	// IncidentFilterRead: see a saved filter (one's own, or one shared
	// with one's organisation) and apply it.
	IncidentFilterRead Action = "incident.filter.read"
	// IncidentFilterWrite: save, rename and delete one's own filters.
	IncidentFilterWrite Action = "incident.filter.write"
	// IncidentFilterManage: delete a filter another user shared with the
	// organisation (its administrators).
	IncidentFilterManage Action = "incident.filter.manage"
)

func init() {
	for a, r := range map[Action]rule{
		IncidentFilterRead:   {roles: Roles, self: true},
		IncidentFilterWrite:  {write: true, self: true, selfOnly: true},
		IncidentFilterManage: {write: true, roles: []Role{RoleAdmin}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
