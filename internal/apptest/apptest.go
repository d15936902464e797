// Package apptest runs a whole certnet — store, services and HTTP surface —
// on a real database for integration, matrix and browser tests, with small
// builders for organisations, users and tokens.
package apptest

import (
	"context"

	"github.com/alexedwards/argon2id"
	"net/http/httptest"
	"testing"
	"time"

	"certnet/internal/app"
	"certnet/internal/auth"
	"certnet/internal/config"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// Env is a running certnet for one test.
type Env struct {
	T     testing.TB
	App   *app.App
	DB    *store.DB
	Clock *testkit.Clock
	URL   string
	Srv   *httptest.Server
	Sys   policy.Actor
}

// Start runs certnet on db behind an httptest server.
func Start(t testing.TB, db *store.DB) *Env {
	t.Helper()
	clock := testkit.NewClock(time.Now().UTC().Truncate(time.Second))
	cfg := config.Default()
	cfg.Data = t.TempDir()
	a := app.ForTest(cfg, db, clock.Now, nil)
	a.Auth.HashParams = argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Env{T: t, App: a, DB: db, Clock: clock, URL: srv.URL, Srv: srv, Sys: policy.SystemActor("test")}
}

// StartSQLite runs certnet on a fresh SQLite database.
func StartSQLite(t testing.TB) *Env { return Start(t, testkit.NewSQLite(t)) }

// Org creates an organisation.
func (e *Env) Org(code, name string, parent int64, roles ...org.Role) org.Org {
	e.T.Helper()
	o, err := e.App.Orgs.Create(context.Background(), e.Sys, org.Input{Code: code, Name: name, ParentID: parent,
		Roles: roles, Active: true, TLP: policy.TLPGreen})
	if err != nil {
		e.T.Fatalf("create org %s: %v", code, err)
	}
	return o
}

// Password is the password every test user gets.
const Password = "correct-horse-battery-staple"

// User creates a user.
func (e *Env) User(orgID int64, username string, roles ...policy.Role) auth.User {
	e.T.Helper()
	u, err := e.App.Auth.CreateUser(context.Background(), e.Sys, auth.UserInput{OrgID: orgID, Username: username,
		DisplayName: username, Locale: "vi", Roles: roles, Password: Password})
	if err != nil {
		e.T.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// Token creates a read-write API token for the user and returns its secret.
func (e *Env) Token(u auth.User, scopes ...string) string {
	e.T.Helper()
	if len(scopes) == 0 {
		scopes = []string{"read", "write"}
	}
	a, err := e.App.Auth.ActorFor(context.Background(), u, "")
	if err != nil {
		e.T.Fatal(err)
	}
	_, plain, err := e.App.Auth.CreateToken(context.Background(), a, u.ID, "test", scopes, e.Clock.Now().Add(24*time.Hour))
	if err != nil {
		e.T.Fatalf("token for %s: %v", u.Username, err)
	}
	return plain
}
