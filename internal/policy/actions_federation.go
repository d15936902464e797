package policy

// Federation actions (internal/federation): this instance's peers — its
// parent certnet reached over TAXII 2.1 — and their sync.
//
// The service checks them against a resource owned by the local
// organisation whose objects a peer pushes, under TLP AMBER: that
// organisation's administrators and those whose scope holds it (the
// national administrator) manage the peer.
const (
	// FederationRead: see the peers (credentials masked), their sync
	// state, lag and counts.
	FederationRead Action = "federation.read"
	// FederationManage: add, change and remove a peer, and sync it now.
	FederationManage Action = "federation.manage"
)

// FederationTLPs are the labels that may leave this instance for its
// parent: CLEAR and GREEN, and AMBER because the parent coordinator's
// scope holds the owner (the AMBER rule of CanSee). AMBER+STRICT stays
// with its organisation and RED with its named people: never pushed.
var FederationTLPs = []TLP{TLPClear, TLPGreen, TLPAmber}

// MayFederate reports whether an object under label t may be pushed to
// the parent instance.
func MayFederate(t TLP) bool {
	for _, x := range FederationTLPs {
		if x == t {
			return true
		}
	}
	return false
}

func init() {
	for a, r := range map[Action]rule{
		FederationRead:   {roles: []Role{RoleAdmin, RoleCoordinator}},
		FederationManage: {write: true, roles: []Role{RoleAdmin}},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
