// Package policy is the one place that answers "may this actor do this to
// this resource?" from the actor's roles and organisation scope and the
// resource's owner and TLP label. Services call it before they validate or
// touch the store; no handler and no SQL method decides on its own.
package policy

import (
	"slices"

	"certnet/internal/errs"
)

// Role is a user's role inside their organisation.
type Role string

const (
	RoleAdmin       Role = "admin"       // manages the organisation's (and its subtree's) data and people
	RoleCoordinator Role = "coordinator" // coordinates response: orders, contacts, registry upkeep
	RoleAnalyst     Role = "analyst"     // works incidents and intelligence
	RoleReporter    Role = "reporter"    // reports incidents and answers requests for their organisation
	RoleViewer      Role = "viewer"      // reads
	RoleAuditor     Role = "auditor"     // reads everything in scope, including the audit log; changes nothing
)

// Roles lists every role, for forms and validation.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleAnalyst, RoleReporter, RoleViewer, RoleAuditor}

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Scope is the set of organisations an actor acts for: its own organisation
// and every organisation under it in the hierarchy; All for the national
// coordinator.
type Scope struct {
	All  bool
	Orgs map[int64]bool
}

// Contains reports whether org is in scope.
func (s Scope) Contains(org int64) bool { return s.All || s.Orgs[org] }

// IDs lists the organisations of a scope that is not All, sorted, for
// queries that filter on them (nil for All or an empty scope).
func (s Scope) IDs() []int64 {
	if s.All {
		return nil
	}
	ids := make([]int64, 0, len(s.Orgs))
	for id, in := range s.Orgs {
		if in {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Actor is who is asking.
type Actor struct {
	UserID   int64
	Username string
	OrgID    int64
	Roles    []Role
	Scope    Scope
	// System is certnet itself (migrations, demo seeding, background jobs,
	// the command line run by the operator of the machine).
	System bool
	// TokenScopes, when the actor authenticated with an API token, limits
	// what the token may do: "read" or "write".
	TokenScopes []string
	RequestID   string
}

// SystemActor is certnet acting on its own account.
func SystemActor(label string) Actor {
	return Actor{Username: label, System: true, Scope: Scope{All: true}}
}

// Has reports whether the actor holds role r.
func (a Actor) Has(r Role) bool { return slices.Contains(a.Roles, r) }

// Label names the actor in the audit log.
func (a Actor) Label() string {
	if a.Username != "" {
		return a.Username
	}
	if a.System {
		return "system"
	}
	return "anonymous"
}

// Resource is what the action touches.
type Resource struct {
	OwnerOrg int64
	TLP      TLP
	// SharedOrgs are organisations the owner shared the resource with
	// (recipients under AMBER and AMBER+STRICT).
	SharedOrgs []int64
	// Recipients are the named people who may see a RED resource.
	Recipients []int64
	CreatedBy  int64
	// Subject is a user the action is about; actions marked Self allow the
	// user themself.
	Subject int64
}

// Action is something an actor does.
type Action string

// Foundation actions. Feature packages add their own to the table below.
const (
	OrgRead      Action = "org.read"
	OrgCreate    Action = "org.create"
	OrgUpdate    Action = "org.update"
	OrgImport    Action = "org.import"
	ContactWrite Action = "contact.write"
	RangeRead    Action = "range.read"
	RangeWrite   Action = "range.write"
	Whois        Action = "whois"
	RegistryEdit Action = "registry.edit" // provinces and clusters: national scope only
	UserRead     Action = "user.read"
	UserWrite    Action = "user.write"
	SelfManage   Action = "self.manage" // own profile, password, second factor, tokens
	AuditRead    Action = "audit.read"
)

// Incident actions (TT 20/2017 Điều 11, QĐ 05/2017 Điều 14). The incident
// service checks them against a resource owned by the affected organisation
// and shared with the reporting one; it adds what the table cannot say (the
// standing body's decision needs an organisation holding that network role).
const (
	// IncidentRead: people of the reporting and the affected organisation
	// and of every organisation whose scope holds either (their response
	// units up to the national coordinator), within the TLP label.
	IncidentRead Action = "incident.read"
	// IncidentReport: file the notice / initial report and later reports.
	IncidentReport Action = "incident.report"
	// IncidentWork: move through containment and recovery, comment, add
	// observables, link, acknowledge reports.
	IncidentWork Action = "incident.work"
	// IncidentClassify: verify, reject, mark duplicate, classify, propose
	// the serious class.
	IncidentClassify Action = "incident.classify"
	// IncidentDecideSerious: decide on a proposed upgrade to serious
	// (national scope; the service also requires the standing_body role).
	IncidentDecideSerious Action = "incident.decide_serious"
	// IncidentClose: close after the acknowledged closure report (national
	// coordinator only).
	IncidentClose Action = "incident.close"
)

type rule struct {
	write bool
	// roles: any of these. nil means every role for a read, and every role
	// that may change things (not viewer, not auditor) for a write. An
	// auditor never writes (except through self) and reads every action
	// in scope whatever the list says.
	roles []Role
	// national means the actor's scope must be the whole network.
	national bool
	// self allows the subject user regardless of role.
	self bool
	// selfOnly allows nobody but the subject user.
	selfOnly bool
	// own (a write) allows only the owner organisation's own people, not
	// those of the organisations over it: what an organisation answers
	// for itself (its answer to an advisory).
	own bool
}

var everyone []Role

var rules = map[Action]rule{
	OrgRead:      {roles: everyone},
	OrgCreate:    {write: true, roles: []Role{RoleAdmin}},
	OrgUpdate:    {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
	OrgImport:    {write: true, roles: []Role{RoleAdmin}},
	ContactWrite: {write: true, roles: []Role{RoleAdmin, RoleCoordinator}},
	RangeRead:    {roles: everyone},
	RangeWrite:   {write: true, roles: []Role{RoleAdmin}},
	Whois:        {roles: everyone},
	RegistryEdit: {write: true, roles: []Role{RoleAdmin}, national: true},
	UserRead:     {roles: []Role{RoleAdmin, RoleAuditor}, self: true},
	UserWrite:    {write: true, roles: []Role{RoleAdmin}},
	SelfManage:   {write: true, self: true, selfOnly: true},
	AuditRead:    {roles: []Role{RoleAuditor, RoleAdmin}},

	IncidentRead:          {roles: Roles},
	IncidentReport:        {write: true, roles: []Role{RoleReporter, RoleAnalyst, RoleCoordinator, RoleAdmin}},
	IncidentWork:          {write: true, roles: []Role{RoleAnalyst, RoleCoordinator, RoleAdmin}},
	IncidentClassify:      {write: true, roles: []Role{RoleCoordinator, RoleAnalyst}},
	IncidentDecideSerious: {write: true, roles: []Role{RoleCoordinator, RoleAdmin}, national: true},
	IncidentClose:         {write: true, roles: []Role{RoleCoordinator, RoleAdmin}, national: true},
}

// Actions lists every known action (for the matrix test and the docs).
func Actions() []Action {
	out := make([]Action, 0, len(rules))
	for a := range rules {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// IsWrite reports whether the action changes something.
func IsWrite(a Action) bool { return rules[a].write }

// Register adds a feature's actions. With no roles a read is open to every
// role and a write to every role that changes things (not viewer, not
// auditor). It panics on a duplicate, an empty name or an unknown role, at
// start-up.
func Register(a Action, write bool, national bool, roles ...Role) {
	if a == "" {
		panic("policy: empty action name")
	}
	if _, dup := rules[a]; dup {
		panic("policy: action registered twice: " + string(a))
	}
	for _, r := range roles {
		if !ValidRole(r) {
			panic("policy: action " + string(a) + ": unknown role " + string(r))
		}
	}
	rules[a] = rule{write: write, roles: slices.Clone(roles), national: national}
}

// CanSee reports whether the TLP label lets the actor see the resource at
// all. This is the TLP 2.0 rule; scope is checked separately.
//
//   - CLEAR: anyone, also outside the network.
//   - GREEN: any member of the network (any authenticated actor).
//   - AMBER: the owner, organisations whose scope holds the owner, and the
//     organisations it was shared with and their clients (their subtree).
//   - AMBER+STRICT: the owner organisation and the organisations it was shared
//     with, not their clients.
//   - RED: the named recipients and the creator only.
func CanSee(a Actor, r Resource) bool {
	if a.System {
		return true
	}
	switch r.TLP {
	case TLPClear:
		return true
	case TLPGreen:
		return a.OrgID != 0
	case TLPAmber:
		// The service that shares a resource resolves each recipient's
		// clients (its subtree) into SharedOrgs.
		return a.Scope.Contains(r.OwnerOrg) || (a.OrgID != 0 && slices.Contains(r.SharedOrgs, a.OrgID))
	case TLPAmberStrict:
		// An actor without an organisation is never "the owner", even of a
		// resource whose owner is unset.
		return a.OrgID != 0 && (a.OrgID == r.OwnerOrg || slices.Contains(r.SharedOrgs, a.OrgID))
	default: // RED and anything unknown
		return a.UserID != 0 && (a.UserID == r.CreatedBy || slices.Contains(r.Recipients, a.UserID))
	}
}

// Check decides whether the actor may perform the action on the resource. It
// returns nil, errs.NotFound (the actor may not even know the resource
// exists) or errs.Forbidden (the actor can see it but may not do this).
func Check(a Actor, act Action, r Resource) error {
	op := "policy: " + string(act)
	ru, ok := rules[act]
	if !ok {
		return errs.Forbidden(op) // unknown actions are denied
	}
	if a.System {
		return nil
	}
	if a.UserID == 0 && a.OrgID == 0 {
		return errs.Unauthenticated(op, "")
	}
	tokenWrite := len(a.TokenScopes) == 0 || slices.Contains(a.TokenScopes, "write")
	if ru.self && r.Subject != 0 && r.Subject == a.UserID {
		if ru.write && !tokenWrite {
			return errs.Forbidden(op)
		}
		return nil
	}
	// Past this point the answer for something the actor may not see is
	// NotFound, whatever else is wrong, so that a denial does not reveal
	// that the resource exists.
	if !CanSee(a, r) {
		return errs.NotFound(op)
	}
	if ru.selfOnly {
		return errs.Forbidden(op)
	}
	inScope := a.Scope.Contains(r.OwnerOrg)
	if ru.write {
		if !tokenWrite || !inScope {
			return errs.Forbidden(op)
		}
		if ru.national && !a.Scope.All {
			return errs.Forbidden(op)
		}
		if ru.own && r.OwnerOrg != a.OrgID {
			return errs.Forbidden(op)
		}
		if !mayWrite(a, ru.roles) {
			return errs.Forbidden(op)
		}
		return nil
	}
	if ru.roles != nil && !inScope {
		// Scoped reads (users, the audit log) stop at the actor's scope.
		return errs.NotFound(op)
	}
	if ru.national && !a.Scope.All {
		return errs.Forbidden(op)
	}
	if ru.roles != nil && !a.Has(RoleAuditor) && !anyRole(a, ru.roles) {
		return errs.Forbidden(op)
	}
	return nil
}

// writers are the roles a write open to "every role" admits.
var writers = []Role{RoleAdmin, RoleCoordinator, RoleAnalyst, RoleReporter}

// mayWrite reports whether one of the actor's roles admits a write; the
// auditor role never does.
func mayWrite(a Actor, want []Role) bool {
	if want == nil {
		want = writers
	}
	for _, r := range want {
		if r != RoleAuditor && a.Has(r) {
			return true
		}
	}
	return false
}

func anyRole(a Actor, want []Role) bool {
	for _, r := range want {
		if a.Has(r) {
			return true
		}
	}
	return false
}

// Allowed is Check as a boolean, for templates that show or hide a button.
func Allowed(a Actor, act Action, r Resource) bool { return Check(a, act, r) == nil }

// VisibleTLPs returns the labels the actor could see on resources owned by
// org; lists use it to filter in SQL before Check confirms each row.
func VisibleTLPs(a Actor, owner int64) []TLP {
	var out []TLP
	for _, t := range TLPs {
		if CanSee(a, Resource{OwnerOrg: owner, TLP: t}) {
			out = append(out, t)
		}
	}
	return out
}
