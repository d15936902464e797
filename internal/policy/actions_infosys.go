package policy

// Information-system actions (internal/infosys, NĐ 85/2016, TT 12/2022).
//
// The service checks them against a resource owned by the system's owner
// organisation (chủ quản) under TLP AMBER, shared with the operator; a
// write allowed against the operator organisation also lets the operator
// keep the system. Who appraises and approves follows the level: levels
// 1–3 the owner's security unit (anyone holding the action with the owner
// in scope), levels 4–5 the national authority (the national actions).
const (
	// InfosysRead: see systems, dossiers, schedules and KPIs in scope.
	InfosysRead Action = "infosys.read"
	// InfosysWrite: register and keep a system, draft and submit its
	// level dossier, record assessments, scans, hunts and drills.
	InfosysWrite Action = "infosys.write"
	// InfosysAppraise: appraise (or return) a level 1–3 dossier.
	InfosysAppraise Action = "infosys.appraise"
	// InfosysApprove: approve (or return) an appraised level 1–4 dossier
	// as the owner.
	InfosysApprove Action = "infosys.approve"
	// InfosysAppraiseNational: appraise (or return) a level 4–5 dossier as
	// the national authority.
	InfosysAppraiseNational Action = "infosys.appraise_national"
	// InfosysApproveNational: record the approval of a level-5 system (the
	// Prime Minister's list) with its decision.
	InfosysApproveNational Action = "infosys.approve_national"
)

func init() {
	for a, r := range map[Action]rule{
		InfosysRead:             {roles: Roles},
		InfosysWrite:            {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
		InfosysAppraise:         {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
		InfosysApprove:          {write: true, roles: []Role{RoleAdmin}},
		InfosysAppraiseNational: {write: true, roles: []Role{RoleAdmin, RoleCoordinator}, national: true},
		InfosysApproveNational:  {write: true, roles: []Role{RoleAdmin}, national: true},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
