// Package incident is the incident core of certnet: intake of the notice
// and the initial report (form 03), later reports (progress, request for
// support, closure report — form 04) and their acknowledgement, the
// lifecycle of TT 20/2017 Điều 11 as an explicit state machine, the serious
// class of QĐ 05/2017 Điều 14 (the national coordinator proposes, the
// standing body decides), the legal clocks, the timeline, watchers, links
// and observables with their routing to the owning member.
//
// Who sees an incident: the reporting organisation, the affected one, every
// organisation whose scope holds either (their response-unit chain) and the
// national coordinator, with the TLP label on top (policy package).
package incident

import (
	"slices"
	"time"

	"certnet/internal/policy"
)

// Type is an incident type of the national reporting list (form 05 rows).
type Type string

// Incident types (form 05, TT 20/2017).
const (
	TypeDDoS        Type = "ddos"
	TypePhishing    Type = "phishing"
	TypeMalware     Type = "malware"
	TypeIntrusion   Type = "intrusion"
	TypeDefacement  Type = "defacement"
	TypeRansomware  Type = "ransomware"
	TypeDestruction Type = "destruction"
	TypeDataTheft   Type = "data_theft"
	TypeCombined    Type = "combined"
	TypeOther       Type = "other"
)

// Types lists the types in the order of form 05.
var Types = []Type{TypeDDoS, TypePhishing, TypeMalware, TypeIntrusion, TypeDefacement, TypeRansomware,
	TypeDestruction, TypeDataTheft, TypeCombined, TypeOther}

// RSIT is a class/type pair of the ENISA Reference Security Incident
// Taxonomy (MISP taxonomy "rsit").
type RSIT struct {
	Class string `json:"class"`
	Type  string `json:"type"`
}

// Tag is the MISP machine tag, rsit:"class/type" style: rsit:class="type".
func (r RSIT) Tag() string { return `rsit:` + r.Class + `="` + r.Type + `"` }

// rsitOf maps each national type to its RSIT class and type, so that the
// national report (form 05) and international exchange come from one field.
var rsitOf = map[Type]RSIT{
	TypeDDoS:        {"availability", "ddos"},
	TypePhishing:    {"fraud", "phishing"},
	TypeMalware:     {"malicious-code", "infected-system"},
	TypeIntrusion:   {"intrusions", "system-compromise"},
	TypeDefacement:  {"information-content-security", "unauthorised-information-modification"},
	TypeRansomware:  {"availability", "sabotage"},
	TypeDestruction: {"information-content-security", "data-loss"},
	TypeDataTheft:   {"information-content-security", "data-leak"},
	TypeCombined:    {"other", "undetermined"},
	TypeOther:       {"other", "other"},
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// RSIT returns the type's RSIT class and type.
func (t Type) RSIT() RSIT { return rsitOf[t] }

// LabelKey is the i18n key of the type's name.
func (t Type) LabelKey() string { return "incident.type." + string(t) }

// Severity is the triage severity, ours, kept apart from the legal class.
type Severity string

// Severities.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists the severities from low to critical.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// LabelKey is the i18n key of the severity's name.
func (s Severity) LabelKey() string { return "incident.severity." + string(s) }

// Class is the legal class of TT 20 / QĐ 05: ordinary or serious.
type Class string

// Classes.
const (
	ClassOrdinary Class = "ordinary"
	ClassSerious  Class = "serious"
)

// LabelKey is the i18n key of the class's name.
func (c Class) LabelKey() string { return "incident.class." + string(c) }

// Status is a step of the lifecycle (TT 20/2017 Điều 11).
type Status string

// Statuses.
const (
	StatusReceived    Status = "received"    // 1 intake
	StatusVerified    Status = "verified"    // 1 verified and classified
	StatusRejected    Status = "rejected"    // not an incident (terminal)
	StatusDuplicate   Status = "duplicate"   // another incident's duplicate (terminal)
	StatusContainment Status = "containment" // 2 containment and handling (ngăn chặn, xử lý)
	StatusRecovery    Status = "recovery"    // 3 removal and recovery (khôi phục)
	StatusReview      Status = "review"      // 4 review and lessons learned (đánh giá, rút kinh nghiệm)
	StatusClosed      Status = "closed"      // resolved, archived (terminal)
)

// Statuses lists the statuses in process order.
var Statuses = []Status{StatusReceived, StatusVerified, StatusRejected, StatusDuplicate, StatusContainment,
	StatusRecovery, StatusReview, StatusClosed}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Terminal reports whether nothing more happens to an incident in s.
func (s Status) Terminal() bool {
	return s == StatusRejected || s == StatusDuplicate || s == StatusClosed
}

// LabelKey is the i18n key of the status's name.
func (s Status) LabelKey() string { return "incident.status." + string(s) }

// transition is one allowed step: the action it needs and whether a reason
// is required.
type transition struct {
	act    policy.Action
	reason bool
}

// transitions is the state machine. Anything not listed is refused.
var transitions = map[Status]map[Status]transition{
	StatusReceived: {
		StatusVerified:  {act: policy.IncidentClassify},
		StatusRejected:  {act: policy.IncidentClassify, reason: true},
		StatusDuplicate: {act: policy.IncidentClassify}, // needs the other incident
	},
	StatusVerified: {
		StatusContainment: {act: policy.IncidentWork},
	},
	StatusContainment: {
		StatusRecovery: {act: policy.IncidentWork},
	},
	StatusRecovery: {
		StatusContainment: {act: policy.IncidentWork, reason: true}, // unstable: back to handling
		StatusReview:      {act: policy.IncidentWork},
	},
	StatusReview: {
		StatusClosed: {act: policy.IncidentClose}, // after the acknowledged closure report
	},
}

// CanTransition reports whether the process allows from → to.
func CanTransition(from, to Status) bool {
	_, ok := transitions[from][to]
	return ok
}

// Next lists the statuses reachable from s, in process order.
func Next(s Status) []Status {
	var out []Status
	for _, t := range Statuses {
		if CanTransition(s, t) {
			out = append(out, t)
		}
	}
	return out
}

// SeriousState is where a proposal to class the incident serious stands.
type SeriousState string

// Serious proposal states.
const (
	SeriousNone     SeriousState = ""
	SeriousProposed SeriousState = "proposed"
	SeriousAccepted SeriousState = "accepted"
	SeriousRejected SeriousState = "rejected"
)

// Serious records the proposal (national coordinator) and the decision
// (standing body) of QĐ 05/2017 Điều 14.
type Serious struct {
	State        SeriousState `json:"state"`
	Reason       string       `json:"reason,omitempty"`
	ProposedBy   int64        `json:"proposed_by,omitempty"`
	ProposedName string       `json:"proposed_name,omitempty"`
	ProposedOrg  int64        `json:"proposed_org,omitempty"`
	ProposedAt   time.Time    `json:"proposed_at,omitzero"`
	DecidedBy    int64        `json:"decided_by,omitempty"`
	DecidedName  string       `json:"decided_name,omitempty"`
	DecidedOrg   int64        `json:"decided_org,omitempty"`
	DecidedAt    time.Time    `json:"decided_at,omitzero"`
	Note         string       `json:"note,omitempty"`
}

// Detection methods of form 03.
const (
	DetectIDS        = "ids"
	DetectLogReview  = "log_review"
	DetectNotifiedBy = "notified_by"
	DetectOther      = "other"
)

// DetectionMethods lists how an incident may have been detected.
var DetectionMethods = []string{DetectIDS, DetectLogReview, DetectNotifiedBy, DetectOther}

// Parties already notified (form 03).
const (
	NotifiedMember              = "member"
	NotifiedISP                 = "isp"
	NotifiedNationalCoordinator = "national_coordinator"
)

// NotifiedParties lists who may already have been notified.
var NotifiedParties = []string{NotifiedMember, NotifiedISP, NotifiedNationalCoordinator}

// Contact is the contact person of the report.
type Contact struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// System is the affected information system (form 03).
type System struct {
	Name string `json:"name"`
	// OwnerOrgName and OperatorName name the owner (chủ quản) and operator
	// (đơn vị vận hành) as the reporter wrote them.
	OwnerName    string `json:"owner_name,omitempty"`
	OperatorName string `json:"operator_name,omitempty"`
	// Level is the security level 1–5 (NĐ 85/2016); 0 when unknown.
	Level                int    `json:"level,omitempty"`
	SecurityProvider     string `json:"security_provider,omitempty"`
	ConnectivityProvider string `json:"connectivity_provider,omitempty"`
	// Details (form 03 section "system details").
	OS          string   `json:"os,omitempty"`
	Services    string   `json:"services,omitempty"`
	Protections string   `json:"protections,omitempty"`
	PublicIPs   []string `json:"public_ips,omitempty"`
	Domains     []string `json:"domains,omitempty"`
	Purpose     string   `json:"purpose,omitempty"`
}

// Details are the form 03 fields that are not searched or filtered on.
type Details struct {
	Contact         Contact  `json:"contact"`
	System          System   `json:"system"`
	Handled         bool     `json:"handled"`
	DetectedBy      string   `json:"detected_by"`
	DetectedByText  string   `json:"detected_by_text,omitempty"`
	AlreadyNotified []string `json:"already_notified,omitempty"`
	Confidential    bool     `json:"confidential"`
	Proposals       string   `json:"proposals,omitempty"`
}

// Incident is one incident.
type Incident struct {
	ID              int64      `json:"id"`
	Ref             string     `json:"ref"`
	Title           string     `json:"title"`
	Description     string     `json:"description"`
	Type            Type       `json:"type"`
	RSIT            RSIT       `json:"rsit"`
	Severity        Severity   `json:"severity"`
	Class           Class      `json:"class"`
	Status          Status     `json:"status"`
	TLP             policy.TLP `json:"tlp"`
	ReporterOrgID   int64      `json:"reporter_org_id"`
	AffectedOrgID   int64      `json:"affected_org_id"`
	ReportedBy      int64      `json:"reported_by,omitempty"`
	ReportedByName  string     `json:"reported_by_name,omitempty"`
	DetectedAt      time.Time  `json:"detected_at"`
	ReportedAt      time.Time  `json:"reported_at"`
	ExceedsCapacity bool       `json:"exceeds_capacity"`
	Details         Details    `json:"details"`
	Serious         Serious    `json:"serious"`
	DuplicateOf     int64      `json:"duplicate_of,omitempty"`
	ResponseEndedAt time.Time  `json:"response_ended_at,omitzero"`
	ClosedAt        time.Time  `json:"closed_at,omitzero"`
	// NextDueAt is the earliest open legal deadline (zero when none).
	NextDueAt time.Time `json:"next_due_at,omitzero"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Reports are filled by Get (not by lists); Clocks reads them.
	Reports []Report `json:"reports,omitempty"`
	// ExerciseID marks an incident injected by an exercise (a drill run on
	// certnet): shown as exercise, left out of real lists and counts; 0
	// for a real incident.
	ExerciseID int64 `json:"exercise_id,omitempty"`
}

// Resource is the incident as a policy resource: owned by the affected
// organisation, shared with the reporting one.
func (inc Incident) Resource() policy.Resource {
	return policy.Resource{OwnerOrg: inc.AffectedOrgID, TLP: inc.TLP, SharedOrgs: []int64{inc.ReporterOrgID},
		CreatedBy: inc.ReportedBy}
}

// reporterResource is the same incident seen from the reporting
// organisation's side, for actors whose scope holds the reporter but not
// the affected organisation.
func (inc Incident) reporterResource() policy.Resource {
	return policy.Resource{OwnerOrg: inc.ReporterOrgID, TLP: inc.TLP, SharedOrgs: []int64{inc.AffectedOrgID},
		CreatedBy: inc.ReportedBy}
}

// Input is the notice / initial report (form 03).
type Input struct {
	Title       string
	Description string
	Type        Type
	// Severity defaults to medium.
	Severity Severity
	// TLP defaults to AMBER; RED is refused (an incident must reach the
	// coordinator).
	TLP policy.TLP
	// ReporterOrgID is the reporting organisation; 0 means the actor's own.
	// A coordinator may report on behalf of an organisation in its scope.
	ReporterOrgID int64
	// AffectedOrgID is the organisation whose system is affected; 0 means
	// the reporting organisation.
	AffectedOrgID   int64
	DetectedAt      time.Time
	ExceedsCapacity bool
	Contact         Contact
	System          System
	Handled         bool
	DetectedBy      string
	DetectedByText  string
	AlreadyNotified []string
	Confidential    bool
	Proposals       string
	// ExerciseID: the exercise injecting this incident (set only by the
	// exercise service, never from a form).
	ExerciseID int64
}

// ReportKind is the kind of a report on an incident.
type ReportKind string

// Report kinds (TT 20/2017).
const (
	ReportNotice   ReportKind = "notice"   // thông báo sự cố
	ReportInitial  ReportKind = "initial"  // báo cáo ban đầu (form 03), when it exceeds the operator
	ReportProgress ReportKind = "progress" // báo cáo tiến độ
	ReportSupport  ReportKind = "support"  // yêu cầu hỗ trợ ứng cứu / điều phối
	ReportClosure  ReportKind = "closure"  // báo cáo kết thúc ứng phó (form 04)
)

// ReportKinds lists the kinds; the first two are filed by Create only.
var ReportKinds = []ReportKind{ReportNotice, ReportInitial, ReportProgress, ReportSupport, ReportClosure}

// LabelKey is the i18n key of the kind's name.
func (k ReportKind) LabelKey() string { return "incident.report." + string(k) }

// ReportInput is a later report. Progress and support requests use Summary
// (and Support); the closure report (form 04) uses the rest — empty
// reference fields are filled from the incident.
type ReportInput struct {
	Summary string `json:"summary,omitempty"`
	// Support says what help is asked for (support requests).
	Support string `json:"support,omitempty"`
	// Closure report (form 04).
	InitialRef  string    `json:"initial_ref,omitempty"`
	InitialDate time.Time `json:"initial_date,omitzero"`
	SystemName  string    `json:"system_name,omitempty"`
	SystemOwner string    `json:"system_owner,omitempty"`
	SystemLevel int       `json:"system_level,omitempty"`
	DetectedAt  time.Time `json:"detected_at,omitzero"`
	Result      string    `json:"result,omitempty"`
	Lessons     string    `json:"lessons,omitempty"`
	// Handling says how the incident was handled (form 05 columns): in
	// house, with help from inside the country or from abroad; empty when
	// not stated.
	Handling Handling `json:"handling,omitempty"`
	// DamageVND is the estimated damage in VND (≥ 0); nil when not
	// estimated. DamageNote says how it was estimated.
	DamageVND  *int64 `json:"damage_vnd,omitempty"`
	DamageNote string `json:"damage_note,omitempty"`
}

// Handling is how an incident was handled, as the closure report says.
type Handling string

// Handlings (form 05: tự xử lý, có hỗ trợ trong nước, có hỗ trợ nước ngoài).
const (
	HandledInHouse      Handling = "in_house"
	HandledDomesticHelp Handling = "domestic_help"
	HandledForeignHelp  Handling = "foreign_help"
)

// Handlings lists the ways of handling in the order of form 05.
var Handlings = []Handling{HandledInHouse, HandledDomesticHelp, HandledForeignHelp}

// Valid reports whether h is a known way of handling.
func (h Handling) Valid() bool { return slices.Contains(Handlings, h) }

// LabelKey is the i18n key of the way's name.
func (h Handling) LabelKey() string { return "incforms.handling." + string(h) }

// MaxDamageVND bounds an estimated damage (a million billion đồng).
const MaxDamageVND int64 = 1_000_000_000_000_000

// Report is a report filed on an incident, with its acknowledgement.
type Report struct {
	ID             int64       `json:"id"`
	IncidentID     int64       `json:"incident_id"`
	Kind           ReportKind  `json:"kind"`
	Body           ReportInput `json:"body"`
	SubmittedBy    int64       `json:"submitted_by,omitempty"`
	SubmittedName  string      `json:"submitted_name,omitempty"`
	SubmittedOrgID int64       `json:"submitted_org_id,omitempty"`
	SubmittedAt    time.Time   `json:"submitted_at"`
	AckBy          int64       `json:"ack_by,omitempty"`
	AckName        string      `json:"ack_name,omitempty"`
	AckOrgID       int64       `json:"ack_org_id,omitempty"`
	AckAt          time.Time   `json:"ack_at,omitzero"`
}

// Acknowledged reports whether the receiving side acknowledged the report.
func (r Report) Acknowledged() bool { return !r.AckAt.IsZero() }

// TimeToAck is how long the acknowledgement took (0 when not yet).
func (r Report) TimeToAck() time.Duration {
	if r.AckAt.IsZero() {
		return 0
	}
	return r.AckAt.Sub(r.SubmittedAt)
}

// Event is one entry of the timeline.
type Event struct {
	ID         int64          `json:"id"`
	IncidentID int64          `json:"incident_id"`
	Kind       string         `json:"kind"`
	At         time.Time      `json:"at"`
	ActorID    int64          `json:"actor_id,omitempty"`
	Actor      string         `json:"actor"`
	ActorOrgID int64          `json:"actor_org_id,omitempty"`
	Detail     map[string]any `json:"detail"`
}

// Timeline event kinds.
const (
	EventCreated         = "created"
	EventStatus          = "status"
	EventClassified      = "classified"
	EventComment         = "comment"
	EventReport          = "report"
	EventAcknowledged    = "acknowledged"
	EventSeriousProposed = "serious_proposed"
	EventSeriousDecided  = "serious_decided"
	EventObservable      = "observable"
	EventLink            = "link"
	EventWatch           = "watch"
	EventUnwatch         = "unwatch"
)

// LinkKind is how two incidents are related.
type LinkKind string

// Link kinds.
const (
	LinkRelated   LinkKind = "related"
	LinkDuplicate LinkKind = "duplicate"
	LinkMerged    LinkKind = "merged"
)

// LinkKinds lists the link kinds.
var LinkKinds = []LinkKind{LinkRelated, LinkDuplicate, LinkMerged}

// Link is a link from one incident to another.
type Link struct {
	OtherID   int64     `json:"other_id"`
	OtherRef  string    `json:"other_ref"`
	Kind      LinkKind  `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}
