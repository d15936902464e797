package demo

import (
	"context"
	"time"

	"certnet/internal/ingest"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/warning"
)

// warningKey marks the demo's SOC sources and counters as seeded.
const warningKey = "demo.warning"

// SeedWarnings adds, once and after Seed, a SOC source for five provincial
// SOCs and the counters their pipeline would have kept: a steady rate for
// eight days with Hà Nội's SOC jumping this hour, the last hour by the
// minute, a Fortinet SSL VPN exploit signature reported by all five and
// matched events at four members; then it evaluates the thresholds, which
// raises the signature's warning and the rate warning, so that /watch and
// /warnings show a picture. It returns how many sources it added (0 when
// they were there already or the organisations are missing).
func SeedWarnings(ctx context.Context, db *store.DB, ing *ingest.Service, w *warning.Service, now time.Time) (int, error) {
	var done string
	if err := db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", warningKey).Scan(&done); err == nil {
		return 0, nil
	} else if !store.IsNoRows(err) {
		return 0, err
	}
	ids := map[string]int64{}
	socs := []string{"HNI-SOC", "HUE-SOC", "DNG-SOC", "HPG-SOC", "HCM-SOC"}
	members := []string{"NAN-BVSL", "NH-KIMLONG", "HPG-CVDV", "DNG-IOC"}
	for _, code := range append(append([]string{}, socs...), members...) {
		var id int64
		err := db.QueryRow(ctx, "SELECT id FROM organisations WHERE code = ?", code).Scan(&id)
		if store.IsNoRows(err) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		ids[code] = id
	}
	now = now.UTC().Truncate(time.Microsecond)
	h0, m0 := now.Truncate(time.Hour), now.Truncate(time.Minute)
	sys := policy.SystemActor("demo")
	n := 0
	for i, code := range socs {
		src, _, err := ing.CreateSource(ctx, sys, ingest.SourceInput{OrgID: ids[code], Name: "suricata-" + code})
		if err != nil {
			return n, err
		}
		n++
		base := int64(150_000 + 20_000*i)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			for h := 1; h <= 8*24; h++ {
				if _, err := tx.Exec(ctx, "INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES (?, ?, ?, ?, ?)",
					ingest.RateSource, src.ID, h0.Add(-time.Duration(h)*time.Hour), base+int64(h%7)*1000, base/500); err != nil {
					return err
				}
			}
			cur := base * int64(now.Sub(h0)/time.Minute+1) / 60
			if code == "HNI-SOC" {
				cur = base * 8 // the jump
			}
			if _, err := tx.Exec(ctx, "INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES (?, ?, ?, ?, ?)",
				ingest.RateSource, src.ID, h0, cur, cur/500); err != nil {
				return err
			}
			for m := 1; m <= 60; m++ {
				ev := base / 60
				if code == "HNI-SOC" && m <= 15 {
					ev *= 8
				}
				if _, err := tx.Exec(ctx, "INSERT INTO ingest_minutes (source_id, minute, events, matches) VALUES (?, ?, ?, ?)",
					src.ID, m0.Add(-time.Duration(m)*time.Minute), ev, ev/500); err != nil {
					return err
				}
			}
			seen := now.Add(-time.Duration(5+i*7) * time.Minute)
			_, err := tx.Exec(ctx, `INSERT INTO ingest_signals (kind, key, org_id, hour, count, first_seen, last_seen, name)
				VALUES (?, '2029058', ?, ?, ?, ?, ?, 'ET EXPLOIT FortiOS SSL VPN - Pre-Auth Messages Path Traversal (CVE-2018-13379)')`,
				ingest.SignalSignature, ids[code], seen.Truncate(time.Hour), 40+i*13, seen.Add(-20*time.Minute), seen)
			return err
		})
		if err != nil {
			return n, err
		}
	}
	for i, code := range members {
		if _, err := db.Exec(ctx, "INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES (?, ?, ?, ?, ?)",
			ingest.RateOrg, ids[code], h0, 120-i*25, 120-i*25); err != nil {
			return n, err
		}
	}
	if _, err := w.Evaluate(ctx); err != nil {
		return n, err
	}
	if _, err := db.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", warningKey, now.Format(time.RFC3339)); err != nil {
		return n, err
	}
	return n, nil
}
