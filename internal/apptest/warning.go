package apptest

import (
	"context"
	"fmt"
	"testing"
)

// SignatureWarning makes an open signature warning, as the evaluation job
// would, concerning orgID (five events): subject n, label label. Failures
// end t.
func (e *Env) SignatureWarning(t testing.TB, ctx context.Context, orgID int64, n int, label string) int64 {
	t.Helper()
	now := e.Clock.Now().UTC()
	var id int64
	err := e.DB.QueryRow(ctx, `INSERT INTO warnings (kind, subject, subject_key, label, state, active_key, orgs, provinces, total,
		first_seen, last_seen, raised_at, updated_at) VALUES ('spread', 'signature', ?, ?, 'open', ?, 1, 0, 5, ?, ?, ?, ?) RETURNING id`,
		fmt.Sprint(n), label, fmt.Sprintf("spread|signature|%d", n), now, now, now, now).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(ctx, "INSERT INTO warning_orgs (warning_id, org_id, count, first_seen, last_seen) VALUES (?, ?, 5, ?, ?)",
		id, orgID, now, now); err != nil {
		t.Fatal(err)
	}
	return id
}
