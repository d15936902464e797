package incident

import (
	"slices"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// BenchmarkSummary: 100 000 incidents of 2026 on SQLite (a third with a
// closure report's handling and damage, one in 50 with a support report),
// form 05 of the whole year for the national coordinator and of the first
// half for a provincial unit; reports the p95 latency of each.
func BenchmarkSummary(b *testing.B) {
	f := newFixture(b, testkit.NewSQLite(b))
	// Rows written by SQL, not through Create: the summary reads only
	// columns, and 100 000 creations would take minutes.
	if _, err := f.db.Exec(ctx, `INSERT INTO incidents (ref, year, seq, title, type, severity, status, tlp,
		reporter_org_id, affected_org_id, detected_at, reported_at, handling, damage_vnd, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
		SELECT printf('SC-2026-%06d', i), 2026, i, 'Sự cố ' || i,
			CASE i % 10 WHEN 0 THEN 'ddos' WHEN 1 THEN 'phishing' WHEN 2 THEN 'malware' WHEN 3 THEN 'intrusion'
				WHEN 4 THEN 'defacement' WHEN 5 THEN 'ransomware' WHEN 6 THEN 'destruction' WHEN 7 THEN 'data_theft'
				WHEN 8 THEN 'combined' ELSE 'other' END,
			'medium', CASE WHEN i % 40 = 0 THEN 'rejected' ELSE 'closed' END, 'AMBER',
			CASE WHEN i % 2 = 0 THEN ? ELSE ? END, CASE WHEN i % 2 = 0 THEN ? ELSE ? END,
			printf('2026-%02d-%02d 03:00:00+00:00', i % 12 + 1, i % 28 + 1),
			printf('2026-%02d-%02d 04:00:00+00:00', i % 12 + 1, i % 28 + 1),
			CASE i % 3 WHEN 0 THEN 'in_house' WHEN 1 THEN 'domestic_help' ELSE '' END,
			CASE WHEN i % 3 = 0 THEN i * 1000 END,
			'2026-11-26 07:00:00+00:00', '2026-11-26 07:00:00+00:00'
		FROM n`, f.hnm.ID, f.dnm.ID, f.hnm.ID, f.dnm.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `INSERT INTO incident_reports (incident_id, kind, body, submitted_at)
		SELECT id, 'support', '{}', reported_at FROM incidents WHERE id % 50 = 0`); err != nil {
		b.Fatal(err)
	}
	nc := f.actor(f.national, policy.RoleCoordinator)
	hn := f.actor(f.hn, policy.RoleAnalyst)
	var natLat, unitLat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		s, err := f.s.Summary(ctx, nc, SummaryFilter{Year: 2026})
		if err != nil || s.Total.Count == 0 {
			b.Fatalf("national: %+v %v", s.Total, err)
		}
		natLat = append(natLat, time.Since(t))
		t = time.Now()
		if s, err = f.s.Summary(ctx, hn, SummaryFilter{Year: 2026, Half: FirstHalf}); err != nil || s.Total.Count == 0 {
			b.Fatalf("unit: %+v %v", s.Total, err)
		}
		unitLat = append(unitLat, time.Since(t))
	}
	p95 := func(l []time.Duration) float64 {
		slices.Sort(l)
		return float64(l[len(l)*95/100].Microseconds()) / 1000
	}
	b.ReportMetric(p95(natLat), "national-p95-ms")
	b.ReportMetric(p95(unitLat), "unit-p95-ms")
}
