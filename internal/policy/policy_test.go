package policy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// The network used by every test:
//
//	1   national coordinator (Scope.All)
//	10  provincial response unit, parent of
//	11  a member under the province
//	20  another province, outside 10's scope
//	30  a leaf member with no children
const (
	orgNational = 1
	orgProvince = 10
	orgChild    = 11
	orgSibling  = 20
	orgMember   = 30
	orgOther    = 40

	userProvince = 100 // works at orgProvince
	userNational = 200 // works at orgNational
	userOther    = 999 // somebody else
	userCreator  = 998 // created the resources in the matrix
	userNobody   = 997 // a recipient who is not the actor
)

func scopeOf(orgs ...int64) policy.Scope {
	s := policy.Scope{Orgs: map[int64]bool{}}
	for _, o := range orgs {
		s.Orgs[o] = true
	}
	return s
}

func provincial(roles ...policy.Role) policy.Actor {
	return policy.Actor{UserID: userProvince, Username: "province", OrgID: orgProvince, Roles: roles, Scope: scopeOf(orgProvince, orgChild)}
}

func national(roles ...policy.Role) policy.Actor {
	return policy.Actor{UserID: userNational, Username: "vncert", OrgID: orgNational, Roles: roles, Scope: policy.Scope{All: true}}
}

func member(roles ...policy.Role) policy.Actor {
	return policy.Actor{UserID: 300, Username: "member", OrgID: orgMember, Roles: roles, Scope: scopeOf(orgMember)}
}

// outcome names Check's answer: "ok" or the error kind.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return errs.KindOf(err).String()
}

const (
	ok     = "ok"
	nf     = "not_found"
	forb   = "forbidden"
	unauth = "unauthenticated"
)

// ---------------------------------------------------------------------------
// The oracle: the rules written down a second time, as tables, without
// looking at how Check is built.

// roleLetter abbreviates a role for the "who" column below.
var roleLetter = map[policy.Role]rune{
	policy.RoleAdmin:       'a',
	policy.RoleCoordinator: 'c',
	policy.RoleAnalyst:     'n',
	policy.RoleReporter:    'r',
	policy.RoleViewer:      'v',
	policy.RoleAuditor:     'u',
}

// oracle says, for each action, how it is decided and which roles may do it
// (a admin, c coordinator, n analyst, r reporter, v viewer, u auditor).
//
//	read            anyone the TLP label lets see it, wherever it lives
//	scoped read     and only inside the actor's scope (NotFound outside)
//	national scoped read  and only for an actor whose scope is the whole network
//	write           inside the actor's scope, with a token that may write
//	national write  and only for an actor whose scope is the whole network
//	…, or self      the subject user may do it whatever their role
//	self only       the subject user and nobody else
var oracle = map[policy.Action]struct{ how, who string }{
	policy.OrgRead:      {"read", "acnrvu"},
	policy.OrgCreate:    {"write", "a"},
	policy.OrgUpdate:    {"write", "ac"},
	policy.OrgImport:    {"write", "a"},
	policy.ContactWrite: {"write", "ac"},
	policy.RangeRead:    {"read", "acnrvu"},
	policy.RangeWrite:   {"write", "a"},
	policy.Whois:        {"read", "acnrvu"},
	policy.RegistryEdit: {"national write", "a"},
	policy.UserRead:     {"scoped read, or self", "au"},
	policy.UserWrite:    {"write", "a"},
	policy.SelfManage:   {"self only", ""},
	policy.AuditRead:    {"scoped read", "au"},

	policy.IncidentRead:          {"scoped read", "acnrvu"},
	policy.IncidentReport:        {"write", "acnr"},
	policy.IncidentWork:          {"write", "acn"},
	policy.IncidentClassify:      {"write", "cn"},
	policy.IncidentDecideSerious: {"national write", "ac"},
	policy.IncidentClose:         {"national write", "ac"},
}

// The four places a resource can be, seen from the actor:
//
//	o  the actor's own organisation
//	c  a child of the actor's organisation (in scope)
//	s  a sibling outside the actor's scope
//	n  the actor is the national coordinator, the resource a member's
type place struct {
	letter rune
	name   string
	actor  func(...policy.Role) policy.Actor
	owner  int64
}

var places = []place{
	{'o', "own org", provincial, orgProvince},
	{'c', "child org", provincial, orgChild},
	{'s', "sibling org", provincial, orgSibling},
	{'n', "national coordinator", national, orgProvince},
}

// inScope lists the places inside the actor's scope.
const inScope = "ocn"

// seenBy lists, per label, the places from which a resource can be seen when
// it is shared with no organisation of the actor's and names nobody the
// actor is. Sharing with the actor's organisation opens AMBER and
// AMBER+STRICT everywhere; naming the actor opens RED everywhere.
var seenBy = map[policy.TLP]string{
	policy.TLPClear:       "ocsn",
	policy.TLPGreen:       "ocsn",
	policy.TLPAmber:       "ocn",
	policy.TLPAmberStrict: "o",
	policy.TLPRed:         "",
}

var openedBySharing = map[policy.TLP]bool{policy.TLPAmber: true, policy.TLPAmberStrict: true}
var openedByNaming = map[policy.TLP]bool{policy.TLPRed: true}

type tokenCase struct {
	name   string
	scopes []string
}

var tokens = []tokenCase{
	{"session", nil},
	{"read token", []string{"read"}},
	{"read+write token", []string{"read", "write"}},
}

func expect(act policy.Action, role policy.Role, p place, tlp policy.TLP, shared, named, self bool, tok tokenCase) string {
	rule, known := oracle[act]
	if !known {
		return forb
	}
	writes := strings.Contains(rule.how, "write") || rule.how == "self only"
	readOnly := slices.Equal(tok.scopes, []string{"read"})
	if self && strings.Contains(rule.how, "self") {
		if writes && readOnly {
			return forb
		}
		return ok
	}
	seen := strings.ContainsRune(seenBy[tlp], p.letter) ||
		(shared && openedBySharing[tlp]) || (named && openedByNaming[tlp])
	in := strings.ContainsRune(inScope, p.letter)
	roleOK := strings.ContainsRune(rule.who, roleLetter[role])

	var allowed bool
	switch {
	case rule.how == "self only":
		allowed = false
	case strings.HasPrefix(rule.how, "scoped read"):
		allowed = seen && in && roleOK
	case rule.how == "national scoped read":
		allowed = seen && in && roleOK && p.letter == 'n'
	case rule.how == "read":
		allowed = seen && roleOK
	case rule.how == "write":
		allowed = seen && in && roleOK && !readOnly
	case rule.how == "own write":
		allowed = seen && in && roleOK && !readOnly && p.letter == 'o'
	case rule.how == "national write":
		allowed = seen && in && roleOK && !readOnly && p.letter == 'n'
	default:
		panic("oracle: unknown rule " + rule.how)
	}
	switch {
	case allowed:
		return ok
	case !seen:
		return nf
	case strings.Contains(rule.how, "scoped read") && !in:
		return nf
	default:
		return forb
	}
}

// ---------------------------------------------------------------------------

func TestOracleCoversEveryAction(t *testing.T) {
	acts := policy.Actions()
	for _, a := range acts {
		rule, found := oracle[a]
		if !found {
			t.Errorf("action %q has no rule in the test oracle: add one (and decide who may do it)", a)
			continue
		}
		writes := strings.Contains(rule.how, "write") || rule.how == "self only"
		if writes != policy.IsWrite(a) {
			t.Errorf("%s: oracle says write=%v, IsWrite says %v", a, writes, policy.IsWrite(a))
		}
		for _, r := range rule.who {
			if !strings.ContainsRune("acnrvu", r) {
				t.Errorf("%s: unknown role letter %q", a, r)
			}
		}
	}
	for a := range oracle {
		if !slices.Contains(acts, a) {
			t.Errorf("oracle has a rule for %q, which policy does not know", a)
		}
	}
	if len(roleLetter) != len(policy.Roles) {
		t.Errorf("roleLetter covers %d roles, policy has %d", len(roleLetter), len(policy.Roles))
	}
	for _, r := range policy.Roles {
		if _, found := roleLetter[r]; !found {
			t.Errorf("role %q has no letter in the oracle", r)
		}
	}
	if len(seenBy) != len(policy.TLPs) {
		t.Errorf("seenBy covers %d labels, policy has %d", len(seenBy), len(policy.TLPs))
	}
	if !slices.IsSorted(acts) {
		t.Errorf("Actions() is not sorted: %v", acts)
	}
}

func TestMatrix(t *testing.T) {
	n, failures := 0, 0
	for _, act := range policy.Actions() {
		for _, role := range policy.Roles {
			for _, p := range places {
				for _, tlp := range policy.TLPs {
					for _, shared := range []bool{false, true} {
						for _, named := range []bool{false, true} {
							for _, self := range []bool{false, true} {
								for _, tok := range tokens {
									a := p.actor(role)
									a.TokenScopes = tok.scopes
									r := policy.Resource{OwnerOrg: p.owner, TLP: tlp, CreatedBy: userCreator, Subject: userOther}
									if shared {
										r.SharedOrgs = []int64{orgOther, a.OrgID}
									} else {
										r.SharedOrgs = []int64{orgOther}
									}
									if named {
										r.Recipients = []int64{userNobody, a.UserID}
									} else {
										r.Recipients = []int64{userNobody}
									}
									if self {
										r.Subject = a.UserID
									}
									want := expect(act, role, p, tlp, shared, named, self, tok)
									got := outcome(policy.Check(a, act, r))
									n++
									if got != want {
										failures++
										if failures <= 40 {
											t.Errorf("%s by %s at %s on %s shared=%v named=%v self=%v %s: got %s, want %s",
												act, role, p.name, tlp.Label(), shared, named, self, tok.name, got, want)
										}
									}
									if allowed := policy.Allowed(a, act, r); allowed != (want == ok) {
										t.Errorf("%s by %s at %s on %s: Allowed=%v, want %v", act, role, p.name, tlp, allowed, want == ok)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if failures > 40 {
		t.Errorf("… and %d more", failures-40)
	}
	want := len(oracle) * len(policy.Roles) * len(places) * len(policy.TLPs) * 2 * 2 * 2 * len(tokens)
	if n != want {
		t.Errorf("matrix ran %d cases, want %d", n, want)
	}
}

// TestSystemAndAnonymousMatrix: the system actor may do every known action
// on anything; an actor with neither user nor organisation is
// unauthenticated for every known action.
func TestSystemAndAnonymousMatrix(t *testing.T) {
	for _, act := range policy.Actions() {
		for _, tlp := range append(slices.Clone(policy.TLPs), "") {
			r := policy.Resource{OwnerOrg: orgSibling, TLP: tlp, CreatedBy: userCreator, Subject: userOther}
			if got := outcome(policy.Check(policy.SystemActor("seed"), act, r)); got != ok {
				t.Errorf("system %s on %q: %s", act, tlp, got)
			}
			anon := policy.Actor{Roles: []policy.Role{policy.RoleAdmin}, Scope: policy.Scope{All: true}}
			if got := outcome(policy.Check(anon, act, r)); got != unauth {
				t.Errorf("anonymous %s on %q: %s", act, tlp, got)
			}
		}
	}
}

func TestStories(t *testing.T) {
	a := policy.RoleAdmin
	c := policy.RoleCoordinator
	v := policy.RoleViewer
	u := policy.RoleAuditor
	readToken := func(x policy.Actor) policy.Actor { x.TokenScopes = []string{"read"}; return x }
	noOrg := policy.Actor{UserID: 500, Username: "loner", Roles: []policy.Role{policy.RoleAdmin}}

	cases := []struct {
		name  string
		actor policy.Actor
		act   policy.Action
		res   policy.Resource
		want  string
	}{
		{"member admin edits own contact", member(a), policy.ContactWrite, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPGreen}, ok},
		{"member admin edits another org's GREEN contact", member(a), policy.ContactWrite, policy.Resource{OwnerOrg: orgOther, TLP: policy.TLPGreen}, forb},
		{"member admin edits another org's AMBER contact", member(a), policy.ContactWrite, policy.Resource{OwnerOrg: orgOther, TLP: policy.TLPAmber}, nf},
		{"member admin updates the province above it", member(a), policy.OrgUpdate, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber}, nf},
		{"provincial coordinator updates a child org", provincial(c), policy.OrgUpdate, policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPAmber}, ok},
		{"provincial coordinator updates another province", provincial(c), policy.OrgUpdate, policy.Resource{OwnerOrg: orgSibling, TLP: policy.TLPGreen}, forb},
		{"provincial admin creates an org under a child", provincial(a), policy.OrgCreate, policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPGreen}, ok},
		{"auditor updates own org", provincial(u), policy.OrgUpdate, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPGreen}, forb},
		{"national auditor updates a member", national(u), policy.OrgUpdate, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPGreen}, forb},
		{"national auditor reads the audit log of a member", national(u), policy.AuditRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmber}, ok},
		{"auditor reads a user in scope", provincial(u), policy.UserRead, policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPAmber, Subject: userOther}, ok},
		{"auditor reads the audit log outside scope", provincial(u), policy.AuditRead, policy.Resource{OwnerOrg: orgSibling, TLP: policy.TLPGreen}, nf},
		{"viewer reads the audit log", provincial(v), policy.AuditRead, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber}, forb},
		{"viewer reads AMBER of own org", provincial(v), policy.OrgRead, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber}, ok},
		{"viewer reads AMBER of a child org", provincial(v), policy.OrgRead, policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPAmber}, ok},
		{"viewer reads AMBER+STRICT of a child org", provincial(v), policy.OrgRead, policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPAmberStrict}, nf},
		{"child reads AMBER of its parent, not shared", member(v), policy.OrgRead, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber}, nf},
		{"viewer reads GREEN of another province", provincial(v), policy.RangeRead, policy.Resource{OwnerOrg: orgSibling, TLP: policy.TLPGreen}, ok},
		{"national coordinator reads AMBER of a member", national(v), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmber}, ok},
		{"national coordinator reads AMBER+STRICT not shared", national(a), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmberStrict}, nf},
		{"national coordinator reads AMBER+STRICT shared with it", national(a), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmberStrict, SharedOrgs: []int64{orgNational}}, ok},
		{"national admin edits AMBER+STRICT not shared", national(a), policy.OrgUpdate, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmberStrict}, nf},
		{"national coordinator reads RED not named", national(a), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPRed, CreatedBy: userOther}, nf},
		{"RED recipient reads", member(v), policy.OrgRead, policy.Resource{OwnerOrg: orgOther, TLP: policy.TLPRed, CreatedBy: userOther, Recipients: []int64{300}}, ok},
		{"RED creator reads", member(v), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPRed, CreatedBy: 300}, ok},
		{"RED colleague of the creator reads", member(a), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPRed, CreatedBy: userOther}, nf},
		{"RED recipient in another org edits", member(a), policy.OrgUpdate, policy.Resource{OwnerOrg: orgOther, TLP: policy.TLPRed, Recipients: []int64{300}}, forb},
		{"AMBER shared with a member of another province", member(v), policy.OrgRead, policy.Resource{OwnerOrg: orgSibling, TLP: policy.TLPAmber, SharedOrgs: []int64{orgMember}}, ok},
		{"read-only token writes", readToken(member(a)), policy.ContactWrite, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPGreen}, forb},
		{"read-only token reads", readToken(member(a)), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmber}, ok},
		{"read-only token writes something it cannot see", readToken(member(a)), policy.ContactWrite, policy.Resource{OwnerOrg: orgOther, TLP: policy.TLPAmber}, nf},
		{"write token writes", func() policy.Actor { x := member(a); x.TokenScopes = []string{"write"}; return x }(), policy.ContactWrite, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPGreen}, ok},
		{"unknown action", national(a), policy.Action("org.delete.everything"), policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPClear}, forb},
		{"unknown action, even for the system", policy.SystemActor("job"), policy.Action("no.such"), policy.Resource{}, forb},
		{"empty action", national(a), policy.Action(""), policy.Resource{TLP: policy.TLPClear}, forb},
		{"system edits the registry", policy.SystemActor("seed"), policy.RegistryEdit, policy.Resource{}, ok},
		{"system reads RED", policy.SystemActor("job"), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPRed}, ok},
		{"anonymous reads CLEAR", policy.Actor{}, policy.OrgRead, policy.Resource{TLP: policy.TLPClear}, unauth},
		{"anonymous with a role still anonymous", policy.Actor{Roles: []policy.Role{a}}, policy.Whois, policy.Resource{TLP: policy.TLPClear}, unauth},
		{"national admin edits the registry", national(a), policy.RegistryEdit, policy.Resource{TLP: policy.TLPClear}, ok},
		{"national coordinator (role) edits the registry", national(c), policy.RegistryEdit, policy.Resource{TLP: policy.TLPClear}, forb},
		{"provincial admin edits the registry", provincial(a), policy.RegistryEdit, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPClear}, forb},
		{"viewer reads themself", provincial(v), policy.UserRead, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber, Subject: userProvince}, ok},
		{"viewer reads a colleague", provincial(v), policy.UserRead, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber, Subject: userOther}, forb},
		{"admin reads a user outside scope", provincial(a), policy.UserRead, policy.Resource{OwnerOrg: orgSibling, TLP: policy.TLPGreen, Subject: userOther}, nf},
		{"auditor changes own password", provincial(u), policy.SelfManage, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber, Subject: userProvince}, ok},
		{"auditor changes own password with a read token", readToken(provincial(u)), policy.SelfManage, policy.Resource{OwnerOrg: orgProvince, Subject: userProvince}, forb},
		{"admin manages a colleague's second factor", provincial(a), policy.SelfManage, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber, Subject: userOther}, forb},
		{"admin manages a hidden user's second factor", provincial(a), policy.SelfManage, policy.Resource{OwnerOrg: orgSibling, TLP: policy.TLPAmber, Subject: userOther}, nf},
		{"self.manage without a subject", provincial(a), policy.SelfManage, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber}, forb},
		{"admin edits a user in a child org", provincial(a), policy.UserWrite, policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPAmber, Subject: userOther}, ok},
		{"viewer edits themself through user.write", provincial(v), policy.UserWrite, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPAmber, Subject: userProvince}, forb},
		{"admin who is also auditor keeps the admin's rights", provincial(a, u), policy.OrgUpdate, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPGreen}, ok},
		{"viewer who is also coordinator updates", provincial(v, c), policy.OrgUpdate, policy.Resource{OwnerOrg: orgProvince, TLP: policy.TLPGreen}, ok},
		{"actor with no roles reads GREEN", member(), policy.OrgRead, policy.Resource{OwnerOrg: orgOther, TLP: policy.TLPGreen}, ok},
		{"actor with no roles writes own org", member(), policy.OrgUpdate, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPGreen}, forb},
		{"user without org reads GREEN", noOrg, policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPGreen}, nf},
		{"user without org reads AMBER+STRICT without owner", noOrg, policy.OrgRead, policy.Resource{TLP: policy.TLPAmberStrict}, nf},
		{"user without org reads AMBER shared with org 0", noOrg, policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: policy.TLPAmber, SharedOrgs: []int64{0}}, nf},
		{"user without org reads CLEAR", noOrg, policy.OrgRead, policy.Resource{TLP: policy.TLPClear}, ok},
		{"unlabelled resource is RED", national(a), policy.OrgRead, policy.Resource{OwnerOrg: orgMember}, nf},
		{"unknown label is RED", national(a), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, TLP: "WHITE"}, nf},
		{"unlabelled resource, its creator", member(v), policy.OrgRead, policy.Resource{OwnerOrg: orgMember, CreatedBy: 300}, ok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := policy.Check(tc.actor, tc.act, tc.res)
			if got := outcome(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
			if err != nil {
				e, isE := errs.As(err)
				if !isE || !strings.HasPrefix(e.Op, "policy: ") {
					t.Errorf("error %v is not a policy *errs.Error", err)
				}
			}
		})
	}
}

// register adds a throw-away action for one test and removes it afterwards.
func register(t *testing.T, a policy.Action, write, national bool, roles ...policy.Role) {
	t.Helper()
	policy.Register(a, write, national, roles...)
	t.Cleanup(func() { policy.Unregister(a) })
}

func TestRegister(t *testing.T) {
	green := func(owner int64) policy.Resource { return policy.Resource{OwnerOrg: owner, TLP: policy.TLPGreen} }

	t.Run("write open to every role", func(t *testing.T) {
		act := policy.Action("test.report")
		register(t, act, true, false)
		if !policy.IsWrite(act) || !slices.Contains(policy.Actions(), act) {
			t.Fatal("registered write not listed")
		}
		want := map[policy.Role]string{
			policy.RoleAdmin: ok, policy.RoleCoordinator: ok, policy.RoleAnalyst: ok, policy.RoleReporter: ok,
			policy.RoleViewer: forb, policy.RoleAuditor: forb,
		}
		for role, w := range want {
			if got := outcome(policy.Check(member(role), act, green(orgMember))); got != w {
				t.Errorf("%s: got %s, want %s", role, got, w)
			}
		}
		if got := outcome(policy.Check(member(policy.RoleReporter), act, green(orgOther))); got != forb {
			t.Errorf("out of scope: %s", got)
		}
	})
	t.Run("auditor named for a write still writes nothing", func(t *testing.T) {
		act := policy.Action("test.audited.write")
		register(t, act, true, false, policy.RoleAuditor, policy.RoleAnalyst)
		if got := outcome(policy.Check(member(policy.RoleAuditor), act, green(orgMember))); got != forb {
			t.Errorf("auditor: %s", got)
		}
		if got := outcome(policy.Check(member(policy.RoleAnalyst), act, green(orgMember))); got != ok {
			t.Errorf("analyst: %s", got)
		}
	})
	t.Run("restricted read is scoped and open to the auditor", func(t *testing.T) {
		act := policy.Action("test.incident.read")
		register(t, act, false, false, policy.RoleAnalyst)
		amber := policy.Resource{OwnerOrg: orgChild, TLP: policy.TLPAmber}
		for role, w := range map[policy.Role]string{policy.RoleAnalyst: ok, policy.RoleAuditor: ok, policy.RoleViewer: forb, policy.RoleAdmin: forb} {
			if got := outcome(policy.Check(provincial(role), act, amber)); got != w {
				t.Errorf("%s: got %s, want %s", role, got, w)
			}
		}
		if got := outcome(policy.Check(provincial(policy.RoleAuditor), act, green(orgSibling))); got != nf {
			t.Errorf("auditor outside scope: %s", got)
		}
	})
	t.Run("national read", func(t *testing.T) {
		act := policy.Action("test.national.read")
		register(t, act, false, true, policy.RoleCoordinator)
		if got := outcome(policy.Check(national(policy.RoleCoordinator), act, green(orgMember))); got != ok {
			t.Errorf("national: %s", got)
		}
		if got := outcome(policy.Check(provincial(policy.RoleCoordinator), act, green(orgProvince))); got != forb {
			t.Errorf("provincial: %s", got)
		}
	})
	t.Run("registered roles are copied", func(t *testing.T) {
		act := policy.Action("test.copy")
		roles := []policy.Role{policy.RoleAdmin}
		register(t, act, true, false, roles...)
		roles[0] = policy.RoleViewer
		if got := outcome(policy.Check(member(policy.RoleViewer), act, green(orgMember))); got != forb {
			t.Errorf("caller's slice changed the rule: viewer %s", got)
		}
	})
	for name, fn := range map[string]func(){
		"duplicate":    func() { policy.Register(policy.OrgRead, false, false) },
		"empty name":   func() { policy.Register("", false, false) },
		"unknown role": func() { policy.Register("test.bad.role", true, false, policy.Role("root")) },
	} {
		t.Run("panics on "+name, func(t *testing.T) {
			before := policy.Actions()
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
				if after := policy.Actions(); !slices.Equal(before, after) {
					t.Errorf("actions changed: %v", after)
				}
			}()
			fn()
		})
	}
}

func TestCanSeeAndVisibleTLPs(t *testing.T) {
	all := policy.TLPs
	cases := []struct {
		name  string
		actor policy.Actor
		owner int64
		want  []policy.TLP
	}{
		{"own org", provincial(policy.RoleViewer), orgProvince, all[:4]},
		{"child org", provincial(policy.RoleViewer), orgChild, all[:3]},
		{"sibling org", provincial(policy.RoleViewer), orgSibling, all[:2]},
		{"national coordinator", national(policy.RoleAdmin), orgMember, all[:3]},
		{"national coordinator's own org", national(policy.RoleAdmin), orgNational, all[:4]},
		{"system", policy.SystemActor("job"), orgMember, all},
		{"user without org", policy.Actor{UserID: 5}, orgMember, all[:1]},
		{"user without org, no owner", policy.Actor{UserID: 5}, 0, all[:1]},
		{"anonymous", policy.Actor{}, orgMember, all[:1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := policy.VisibleTLPs(tc.actor, tc.owner)
			if !slices.Equal(got, tc.want) {
				t.Errorf("VisibleTLPs = %v, want %v", got, tc.want)
			}
			for _, l := range policy.TLPs {
				if see := policy.CanSee(tc.actor, policy.Resource{OwnerOrg: tc.owner, TLP: l}); see != slices.Contains(got, l) {
					t.Errorf("CanSee(%s) = %v, disagrees with VisibleTLPs", l, see)
				}
			}
		})
	}
}

func TestScopeAndActor(t *testing.T) {
	s := scopeOf(orgProvince, orgChild)
	if !s.Contains(orgChild) || s.Contains(orgSibling) || s.Contains(0) {
		t.Error("Scope.Contains")
	}
	if (policy.Scope{}).Contains(orgMember) || !(policy.Scope{All: true}).Contains(orgMember) {
		t.Error("empty / All scope")
	}
	for _, r := range policy.Roles {
		if !policy.ValidRole(r) {
			t.Errorf("ValidRole(%s)", r)
		}
	}
	if policy.ValidRole("root") || policy.ValidRole("") {
		t.Error("ValidRole accepts unknown roles")
	}
	sys := policy.SystemActor("migrate")
	if !sys.System || !sys.Scope.All || sys.Label() != "migrate" {
		t.Errorf("SystemActor: %+v", sys)
	}
	if l := (policy.Actor{System: true}).Label(); l != "system" {
		t.Errorf("system label %q", l)
	}
	if l := (policy.Actor{}).Label(); l != "anonymous" {
		t.Errorf("anonymous label %q", l)
	}
	if !provincial(policy.RoleAdmin, policy.RoleAuditor).Has(policy.RoleAuditor) || provincial(policy.RoleAdmin).Has(policy.RoleViewer) {
		t.Error("Has")
	}
}

// ExampleCheck shows the three answers a service sees.
func ExampleCheck() {
	coordinator := policy.Actor{UserID: 1, OrgID: 10, Roles: []policy.Role{policy.RoleCoordinator}, Scope: policy.Scope{Orgs: map[int64]bool{10: true, 11: true}}}
	fmt.Println(policy.Check(coordinator, policy.OrgUpdate, policy.Resource{OwnerOrg: 11, TLP: policy.TLPAmber}))
	fmt.Println(policy.Check(coordinator, policy.OrgUpdate, policy.Resource{OwnerOrg: 20, TLP: policy.TLPGreen}))
	fmt.Println(policy.Check(coordinator, policy.OrgUpdate, policy.Resource{OwnerOrg: 20, TLP: policy.TLPAmber}))
	// Output:
	// <nil>
	// policy: org.update: forbidden: error.forbidden
	// policy: org.update: not_found: error.not_found
}
