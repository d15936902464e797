package policy

// Evidence, task and public report actions (internal/incident evidence.go,
// task.go, public.go).
//
// Evidence files are checked against a resource owned by the incident's
// affected organisation, shared with the reporting one, under the file's own
// TLP label (default the incident's): the incident's readers within the
// evidence's label. The service first checks that the actor may read the
// incident itself.
//
// Public reports are checked against a resource owned by the response unit
// the report was routed to (the national coordinator when no constituency
// holds the addresses); the service also requires that the actor's
// organisation is the national coordinator or a response unit.
const (
	// EvidenceAdd: attach a file to an incident.
	EvidenceAdd Action = "evidence.add"
	// EvidenceRead: list the files and see one file's details and custody log.
	EvidenceRead Action = "evidence.read"
	// EvidenceDownload: download the file's bytes.
	EvidenceDownload Action = "evidence.download"
	// TaskWrite: add, assign, complete and reopen an incident's tasks.
	TaskWrite Action = "task.write"
	// PublicReportRead: see the public report queue and one report.
	PublicReportRead Action = "public_report.read"
	// PublicReportTriage: convert a public report to an incident or dismiss it.
	PublicReportTriage Action = "public_report.triage"
)

func init() {
	for a, r := range map[Action]rule{
		EvidenceAdd:        {write: true, roles: []Role{RoleReporter, RoleAnalyst, RoleCoordinator, RoleAdmin}},
		EvidenceRead:       {roles: Roles},
		EvidenceDownload:   {roles: Roles},
		TaskWrite:          {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
		PublicReportRead:   {roles: []Role{RoleCoordinator, RoleAnalyst, RoleAdmin, RoleAuditor}},
		PublicReportTriage: {write: true, roles: []Role{RoleCoordinator, RoleAnalyst}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
