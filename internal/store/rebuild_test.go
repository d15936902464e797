package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Migration 33 rebuilds intel_indicators and intel_indicator_sources on
// SQLite: the rows, their ids, the AUTOINCREMENT counter and every row of
// other tables that refers to an indicator survive it, both ways; run
// again after its commit (goose not having recorded it) it does nothing.
func TestRebuild33(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "certnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 32); err != nil {
		t.Fatal(err)
	}
	now := "2026-11-27 06:00:00+00:00"
	for _, q := range []string{
		`INSERT INTO organisations (id, code, name, created_at, updated_at) VALUES (7, 'HN', 'Hà Nội', '` + now + `', '` + now + `')`,
		`INSERT INTO intel_indicators (id, owner_org_id, kind, value, pattern, valid_from, tlp, stix_id, created_at, updated_at) VALUES
			(10, 7, 'ipv4', '198.51.100.1', '[ipv4-addr:value = ''198.51.100.1'']', '` + now + `', 'GREEN', 'indicator--a', '` + now + `', '` + now + `'),
			(11, 7, 'domain', 'bad.example.vn', '[domain-name:value = ''bad.example.vn'']', '` + now + `', 'AMBER', 'indicator--b', '` + now + `', '` + now + `'),
			(40, 7, 'md5', '0123456789abcdef0123456789abcdef', 'x', '` + now + `', 'RED', 'indicator--c', '` + now + `', '` + now + `')`,
		`DELETE FROM intel_indicators WHERE id = 40`, // the counter stays at 40
		`INSERT INTO intel_indicator_sources (indicator_id, source, ref, first_seen, last_seen) VALUES
			(10, 'stix:a.json', 'indicator--a', '` + now + `', '` + now + `'), (10, 'manual', '', '` + now + `', '` + now + `'),
			(11, 'misp:e', 'x', '` + now + `', '` + now + `')`,
		`INSERT INTO intel_sightings (indicator_id, stix_id, first_seen, last_seen, count, created_at) VALUES (10, 'sighting--a', '` + now + `', '` + now + `', 3, '` + now + `')`,
		`INSERT INTO advisories (id, owner_org_id, title, severity, tlp, status, stix_id, created_at, updated_at) VALUES (5, 7, 'Cảnh báo', 'high', 'GREEN', 'draft', 'report--a', '` + now + `', '` + now + `')`,
		`INSERT INTO advisory_indicators (advisory_id, indicator_id) VALUES (5, 11)`,
	} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	counts := func() string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT COUNT(*) || ':' || SUM(id) FROM intel_indicators",
			"SELECT COUNT(*) FROM intel_indicator_sources",
			"SELECT COUNT(*) FROM intel_sightings WHERE indicator_id = 10",
			"SELECT COUNT(*) FROM advisory_indicators WHERE indicator_id = 11",
			"SELECT seq FROM sqlite_sequence WHERE name = 'intel_indicators'",
		} {
			var s string
			if err := db.SQL.QueryRowContext(ctx, q).Scan(&s); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			b.WriteString(s + " ")
		}
		return b.String()
	}
	const want = "2:21 3 1 1 40 "
	if got := counts(); got != want {
		t.Fatalf("before: %q", got)
	}
	if _, err := p.UpTo(ctx, 33); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got != want {
		t.Fatalf("after up: %q, want %q", got, want)
	}
	// The STIX ids' hashes are filled in.
	var hashed int
	if err := db.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM intel_indicators WHERE stix_hash = ?", StixHash("indicator--b")).Scan(&hashed); err != nil || hashed != 1 {
		t.Fatalf("rows with the hash of indicator--b: %d, %v", hashed, err)
	}
	var def string
	db.SQL.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE name = 'intel_indicators'").Scan(&def)
	if !strings.Contains(def, "UNIQUE (kind, value, owner_org_id)") {
		t.Fatalf("definition after up: %s", def)
	}
	// The same value twice for one owner is still refused; foreign keys are
	// on again and name the new table.
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, valid_from, tlp, stix_id, created_at, updated_at)
		VALUES (7, 'ipv4', '198.51.100.1', 'x', ?, 'GREEN', 'indicator--d', ?, ?)`, now, now, now); !IsUniqueViolation(err) {
		t.Fatalf("duplicate value: %v", err)
	}
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO intel_sightings (indicator_id, stix_id, first_seen, last_seen, created_at) VALUES (999, 's', ?, ?, ?)`, now, now, now); err == nil {
		t.Fatal("a sighting of a missing indicator was kept")
	}
	// A new indicator takes the id after the counter.
	var id int64
	if err := db.SQL.QueryRowContext(ctx, `INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, valid_from, tlp, stix_id, created_at, updated_at)
		VALUES (7, 'ipv4', '198.51.100.2', 'x', ?, 'GREEN', 'indicator--e', ?, ?) RETURNING id`, now, now, now).Scan(&id); err != nil || id != 41 {
		t.Fatalf("new id %d, %v", id, err)
	}
	if _, err := db.SQL.ExecContext(ctx, `DELETE FROM intel_indicators WHERE id = 41`); err != nil {
		t.Fatal(err)
	}
	// Run again as if goose had not recorded it: nothing changes.
	if err := runRebuild(ctx, db.SQL, 33, true, "intel_indicator_sources", fillStixHash, []string{"intel_indicators"}); err != nil {
		t.Fatal(err)
	}
	const want41 = "2:21 3 1 1 41 "
	if got := counts(); got != want41 {
		t.Fatalf("after up again: %q, want %q", got, want41)
	}
	if _, err := p.DownTo(ctx, 32); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got != want41 {
		t.Fatalf("after down: %q, want %q", got, want41)
	}
	db.SQL.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE name = 'intel_indicators'").Scan(&def)
	if !strings.Contains(def, "UNIQUE (owner_org_id, kind, value)") {
		t.Fatalf("definition after down: %s", def)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
}
