package policy

// Threat intelligence actions (internal/intel). Indicators and the other
// STIX objects are checked against a resource owned by the organisation that
// holds them, under their own TLP label: TLP decides who in the network may
// read them (GREEN indicators reach every member), the owner's scope decides
// who may change them.
//
// Advisories (cảnh báo) are written and published against a resource owned
// by the publishing organisation; publishing is checked once more per
// recipient (every recipient lies inside the publisher's scope), and the
// service also requires the publisher to be the national coordinator or a
// response unit. An advisory is read against AdvisoryResources: the
// publisher's resource and, once published, one per recipient under the
// advisory's label; a recipient answers against its own organisation.
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
	// AdvisoryRead: read an advisory, its CVEs and indicators; the
	// publisher's side also reads the recipients and their rates.
	AdvisoryRead Action = "advisory.read"
	// AdvisoryWrite: write a draft advisory for the organisation.
	AdvisoryWrite Action = "advisory.write"
	// AdvisoryPublish: publish (to recipients inside the scope) and close.
	AdvisoryPublish Action = "advisory.publish"
	// AdvisoryRespond: acknowledge an advisory, report remediation and
	// attach or remove evidence for the recipient organisation — its own
	// people only, not a response unit over it.
	AdvisoryRespond Action = "advisory.respond"
	// CVEImport: load NVD and CISA KEV files into the CVE table (national
	// scope: the table is the network's).
	CVEImport Action = "cve.import"
)

func init() {
	for a, r := range map[Action]rule{
		IntelRead:       {roles: everyone},
		IntelWrite:      {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
		IntelImport:     {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
		AdvisoryRead:    {roles: everyone},
		AdvisoryWrite:   {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
		AdvisoryPublish: {write: true, roles: []Role{RoleCoordinator, RoleAdmin}},
		AdvisoryRespond: {write: true, own: true, roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin, RoleReporter}},
		CVEImport:       {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}, national: true},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}

// AdvisoryResources are the resources an advisory is read against (any one
// allowing is enough). A draft is the publisher's own: one AMBER+STRICT
// resource of the publisher, which only the publisher's people see. Once
// published, the publisher's resource and one per recipient
// carry the advisory's label, with the recipients as the organisations it
// was shared with: under AMBER the recipients and the organisations whose
// scope holds one (their response units) see it; under AMBER+STRICT only
// the publisher and the recipients. A RED advisory goes to named
// organisations only, so RED is read as AMBER+STRICT over those
// organisations (the recipients are organisations, not people).
func AdvisoryResources(owner int64, tlp TLP, createdBy int64, recipients []int64, published bool) []Resource {
	if tlp == TLPRed {
		tlp = TLPAmberStrict
	}
	if !published {
		return []Resource{{OwnerOrg: owner, TLP: TLPAmberStrict, CreatedBy: createdBy}}
	}
	out := make([]Resource, 0, 1+len(recipients))
	out = append(out, Resource{OwnerOrg: owner, TLP: tlp, SharedOrgs: recipients, CreatedBy: createdBy})
	if tlp == TLPAmber {
		// The recipients' response units (their scope holds the
		// recipient); under AMBER+STRICT and RED SharedOrgs is the rule.
		for _, r := range recipients {
			out = append(out, Resource{OwnerOrg: r, TLP: TLPAmber})
		}
	}
	return out
}
