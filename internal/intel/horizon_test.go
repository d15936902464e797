package intel

import (
	"context"
	"database/sql"
	"net/url"
	"slices"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// On PostgreSQL a writer that began earlier can commit after a later one.
// While a transaction of this certnet is open, TAXII pages hold back what
// was added since it began, so the later writer's indicator is not served
// before the earlier one's can be; a transaction of another program (psql)
// holds nothing back; with none open there is no horizon. On SQLite there
// is none either (stamps follow commits there).
func TestHorizon(t *testing.T) {
	ctx := context.Background()
	if h, err := newFixture(t, testkit.NewSQLite(t)).s.Horizon(ctx); err != nil || !h.IsZero() {
		t.Fatalf("SQLite horizon %v %v", h, err)
	}
	db := testkit.NewPostgres(t)
	f := newFixture(t, db)
	f.s.Now = time.Now // stamps on the clock PostgreSQL's xact_start is on
	nat := f.actor(f.national, policy.RoleAnalyst)
	values := func(h time.Time) []string {
		t.Helper()
		p, _, err := f.s.SharedPage(ctx, nat, SharedQuery{TLPs: []policy.TLP{policy.TLPGreen}, Limit: 100, AddedBefore: h})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range p {
			if pat, ok := o.Body["pattern"].(string); ok {
				out = append(out, pat)
			}
		}
		return out
	}
	create := func(v string) {
		t.Helper()
		if _, err := f.s.Create(ctx, f.sys, Input{OwnerOrgID: f.national.ID, Value: v, TLP: policy.TLPGreen}); err != nil {
			t.Fatal(err)
		}
	}
	if h, err := f.s.Horizon(ctx); err != nil || !h.IsZero() {
		t.Fatalf("horizon with nothing open: %v %v", h, err)
	}
	// Another program's open transaction holds nothing back.
	u, _ := url.Parse(testkit.PostgresURL(t))
	q := u.Query()
	q.Set("application_name", "psql")
	u.RawQuery = q.Encode()
	other, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer otx.Rollback()
	if _, err := otx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if h, err := f.s.Horizon(ctx); err != nil || !h.IsZero() {
		t.Fatalf("horizon with psql's transaction open: %v %v", h, err)
	}
	// A transaction of this certnet begins (an import, say), then another
	// writer commits an indicator.
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wtx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wtx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	create("198.51.100.11")
	h, err := f.s.Horizon(ctx)
	if err != nil || h.IsZero() || h.After(time.Now()) {
		t.Fatalf("horizon with a transaction open: %v %v", h, err)
	}
	const later = "[ipv4-addr:value = '198.51.100.11']"
	if got := values(h); slices.Contains(got, later) {
		t.Fatalf("served past the horizon: %v", got)
	}
	if got := values(time.Time{}); !slices.Contains(got, later) {
		t.Fatalf("without a horizon: %v", got)
	}
	// Once it ends, everything is served.
	if err := wtx.Rollback(); err != nil {
		t.Fatal(err)
	}
	h, err = f.s.Horizon(ctx)
	if err != nil || !h.IsZero() {
		t.Fatalf("horizon after the transaction: %v %v", h, err)
	}
	if got := values(h); !slices.Contains(got, later) {
		t.Fatalf("after the transaction: %v", got)
	}
}
