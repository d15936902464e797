package policy

// SOC ingest actions (internal/ingest). A source (one SOC's token for
// pushing event batches) is checked against a resource owned by the SOC's
// organisation under TLP AMBER: the organisation and those whose scope
// holds it. The batches themselves are authenticated by the source token,
// not by a user, and need no action.
const (
	// IngestRead: list an organisation's sources with their health (last
	// batch, lag, error rate).
	IngestRead Action = "ingest.read"
	// IngestManage: create, disable, enable a source and rotate its token,
	// as an administrator of the organisation (or of one above it).
	IngestManage Action = "ingest.manage"
	// IngestManageNational: the same, as the national coordinator.
	IngestManageNational Action = "ingest.manage_national"
)

func init() {
	for a, r := range map[Action]rule{
		IngestRead:           {roles: []Role{RoleAdmin, RoleCoordinator, RoleAnalyst, RoleAuditor}},
		IngestManage:         {write: true, roles: []Role{RoleAdmin}},
		IngestManageNational: {write: true, roles: []Role{RoleCoordinator}, national: true},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
