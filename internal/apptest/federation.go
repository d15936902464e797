package apptest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/federation"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// PeerParent makes (as the system) a national coordinator organisation
// that stands for a federation peer's parent: code, n in its name, its
// TLP setting tlp ("" for the default). Failures end t.
func (e *Env) PeerParent(t testing.TB, ctx context.Context, code string, n int, tlp policy.TLP) org.Org {
	t.Helper()
	o, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: code, Name: fmt.Sprintf("Cấp trên %d", n),
		Roles: []org.Role{org.RoleNationalCoordinator}, Active: true, TLP: tlp})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Peer makes (as the system) the federation peer peer-<n> of orgID whose
// parent, organisation parentID here, is at an unreachable address: a sync
// fails at once (the service's retries are turned off). Failures end t.
func (e *Env) Peer(t testing.TB, ctx context.Context, orgID, parentID int64, n int) federation.Peer {
	t.Helper()
	e.App.Federation.Retries = 0
	p, err := e.App.Federation.Create(ctx, e.Sys, federation.PeerInput{OrgID: orgID, ParentOrgID: parentID,
		Name: fmt.Sprintf("peer-%d", n), APIRoot: "http://127.0.0.1:1/taxii2/api/", PushCollection: "amber",
		PullCollections: []string{"amber"}, Secret: "cn_secret", Interval: time.Hour, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
