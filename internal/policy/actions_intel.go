package policy

// Threat intelligence actions (internal/intel). Indicators and the other
// STIX objects are checked against a resource owned by the organisation that
// holds them, under their own TLP label: TLP decides who in the network may
// read them (GREEN indicators reach every member), the owner's scope decides
// who may change them.
const (
	// IntelRead: list and read indicators, sightings and STIX objects;
	// export them (each object filtered by its label).
	IntelRead Action = "intel.read"
	// IntelWrite: create, change, expire and revoke indicators; record
	// sightings.
	IntelWrite Action = "intel.write"
	// IntelImport: import a STIX bundle or MISP events into the
	// organisation's store.
	IntelImport Action = "intel.import"
)

func init() {
	for a, r := range map[Action]rule{
		IntelRead:   {roles: everyone},
		IntelWrite:  {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
		IntelImport: {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
