package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/pquerna/otp/totp"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// fakeOrgs is the organisation registry as auth sees it.
type fakeOrgs struct {
	mu     sync.Mutex
	scopes map[int64]policy.Scope
	mfa    map[int64]bool
	// inactive marks deactivated organisations.
	inactive map[int64]bool
}

func (o *fakeOrgs) ScopeOf(_ context.Context, id int64) (policy.Scope, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sc, ok := o.scopes[id]
	if !ok {
		return policy.Scope{}, errs.NotFound("fake orgs")
	}
	return sc, nil
}

func (o *fakeOrgs) RequiresMFA(_ context.Context, id int64) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mfa[id], nil
}

func (o *fakeOrgs) Active(_ context.Context, id int64) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, known := o.scopes[id]; !known {
		return false, errs.NotFound("fake orgs")
	}
	return !o.inactive[id], nil
}

func (o *fakeOrgs) setActive(id int64, on bool) {
	o.mu.Lock()
	if o.inactive == nil {
		o.inactive = map[int64]bool{}
	}
	o.inactive[id] = !on
	o.mu.Unlock()
}

func (o *fakeOrgs) setMFA(id int64, on bool) {
	o.mu.Lock()
	o.mfa[id] = on
	o.mu.Unlock()
}

const goodPassword = "Trâu-Cày-Ruộng-Sớm-7"

var (
	ctx   = context.Background()
	start = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
)

// fixture: a national coordinator, a province with a city under it, and
// another province.
type fixture struct {
	db       *store.DB
	svc      *Service
	clock    *testkit.Clock
	orgs     *fakeOrgs
	national int64
	province int64
	city     int64
	other    int64
	system   policy.Actor
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, clock: testkit.NewClock(start), system: policy.SystemActor("test")}
	f.national = insertOrg(t, db, "NCSC", "Trung tâm Giám sát an toàn không gian mạng quốc gia", 0)
	f.province = insertOrg(t, db, "HN", "Sở Khoa học và Công nghệ Hà Nội", f.national)
	f.city = insertOrg(t, db, "HN-IOC", "Trung tâm điều hành đô thị thông minh Hà Nội", f.province)
	f.other = insertOrg(t, db, "DN", "Sở Khoa học và Công nghệ Đà Nẵng", f.national)
	f.orgs = &fakeOrgs{
		scopes: map[int64]policy.Scope{
			f.national: {All: true},
			f.province: {Orgs: map[int64]bool{f.province: true, f.city: true}},
			f.city:     {Orgs: map[int64]bool{f.city: true}},
			f.other:    {Orgs: map[int64]bool{f.other: true}},
		},
		mfa: map[int64]bool{},
	}
	f.svc = NewService(db, f.orgs, f.clock.Now, nil)
	// argon2id at full strength makes the suite crawl; the parameters are
	// not what is under test.
	f.svc.HashParams = argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	return f
}

func insertOrg(t *testing.T, db *store.DB, code, name string, parent int64) int64 {
	t.Helper()
	var p any
	if parent != 0 {
		p = parent
	}
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO organisations (code, name, parent_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, code, name, p, start, start).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// user creates a user through the service as the system.
func (f *fixture) user(t *testing.T, org int64, username string, roles ...policy.Role) User {
	t.Helper()
	u, err := f.svc.CreateUser(ctx, f.system, UserInput{OrgID: org, Username: username,
		DisplayName: "Người dùng " + username, Email: username + "@example.vn", Roles: roles, Password: goodPassword})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return u
}

func (f *fixture) actor(t *testing.T, u User) policy.Actor {
	t.Helper()
	a, err := f.svc.ActorFor(ctx, u, "req-"+u.Username)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) login(t *testing.T, username string) LoginResult {
	t.Helper()
	res, err := f.svc.Login(ctx, username, goodPassword, "198.51.100.10", "test-agent/1.0")
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return res
}

func (f *fixture) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, f.clock.Now(), totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol switches TOTP on for u and returns the secret and recovery codes.
func (f *fixture) enrol(t *testing.T, u User) (string, []string) {
	t.Helper()
	a := f.actor(t, u)
	en, err := f.svc.BeginTOTP(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmTOTP(ctx, a, f.code(t, en.Secret))
	if err != nil {
		t.Fatal(err)
	}
	// The confirming code's step is used; the next login needs the next one.
	f.clock.Advance(totpPeriod * time.Second)
	return en.Secret, codes
}

// verifyAudit checks the chain and returns every before/after JSON.
func verifyAudit(t *testing.T, db *store.DB) string {
	t.Helper()
	res, err := audit.Verify(ctx, db, nil)
	if err != nil || res.Break != nil {
		t.Fatalf("audit chain: %+v %v", res.Break, err)
	}
	rows, err := db.Query(ctx, "SELECT actor, action, before_json, after_json FROM audit_log ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var actor, action, before, after string
		if err := rows.Scan(&actor, &action, &before, &after); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", actor, action, before, after)
	}
	return b.String()
}

func countAudit(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = ?", action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantKind(t *testing.T, err error, k errs.Kind) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got nil", k)
	}
	if errs.KindOf(err) != k {
		t.Fatalf("want %s error, got %v", k, err)
	}
	e, _ := errs.As(err)
	return e
}

func wantKey(t *testing.T, err error, k errs.Kind, key string) {
	t.Helper()
	e := wantKind(t, err, k)
	if e.Message.Key != key {
		t.Fatalf("want key %q, got %v", key, err)
	}
}

func wantField(t *testing.T, err error, field, key string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("want field %s=%s, got %v", field, key, err)
	}
	if e.Fields[field].Key != key {
		t.Fatalf("want field %s=%s, got %v", field, key, err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
