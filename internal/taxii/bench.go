package taxii

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"certnet/internal/intel"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// benchNamespace makes the seeded objects' STIX ids the same on every run.
var benchNamespace = uuid.MustParse("3b1f7f5e-6a53-4f0e-9c55-2f7f4b1f0a29")

// benchLabels spread the seeded objects over the labels: 20 % CLEAR,
// 50 % GREEN, 25 % AMBER, 5 % AMBER+STRICT.
func benchLabel(i int) policy.TLP {
	switch r := i % 20; {
	case r < 4:
		return policy.TLPClear
	case r < 14:
		return policy.TLPGreen
	case r < 19:
		return policy.TLPAmber
	}
	return policy.TLPAmberStrict
}

// SeedShared stores n shared objects for benchmarks (the TAXII pages of
// certnet bench intel and BenchmarkTAXIIPages) straight in SQL, in
// multi-row inserts of 500 inside transactions of 50 000: one in twenty
// a STIX malware object, the rest IPv4 indicators; owners taken in turn
// from owners, labels as benchLabel, two objects per millisecond from
// start (so that pages cross ties). It is a load generator, not an import:
// no sources, audit or checks. progress, when set, is called after each
// transaction with the number stored.
func SeedShared(ctx context.Context, db *store.DB, owners []int64, n int, start time.Time, progress func(done int)) error {
	const batch, perTx = 500, 50000
	if len(owners) == 0 {
		return fmt.Errorf("taxii: seed: no owners")
	}
	for from := 0; from < n; from += perTx {
		to := min(from+perTx, n)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for b := from; b < to; b += batch {
				var inds, objs []string
				var iargs, oargs []any
				for i := b; i < min(b+batch, to); i++ {
					at := start.Add(time.Duration(i/2) * time.Millisecond).UTC()
					owner, tlp := owners[i%len(owners)], benchLabel(i/len(owners))
					if i%20 == 19 {
						id := "malware--" + uuid.NewSHA1(benchNamespace, fmt.Appendf(nil, "malware:%d", i)).String()
						ts := stix.FormatTime(at)
						body := fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":%q,"created":%q,"modified":%q,"name":"Mã độc %d","is_family":false}`,
							id, ts, ts, i)
						objs = append(objs, "(?, ?, 'malware', ?, ?, ?, ?, ?, ?)")
						oargs = append(oargs, owner, id, fmt.Sprintf("Mã độc %d", i), string(tlp), at, body, at, at)
						continue
					}
					v := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
					if i >= 1<<24 {
						v = fmt.Sprintf("11.%d.%d.%d", i>>16&255, i>>8&255, i&255)
					}
					id := "indicator--" + uuid.NewSHA1(benchNamespace, fmt.Appendf(nil, "indicator:%d", i)).String()
					inds = append(inds, "(?, 'ipv4', ?, ?, ?, ?, ?, FALSE, ?, ?, ?, ?)")
					iargs = append(iargs, owner, v, "[ipv4-addr:value = '"+v+"']", v, at, string(tlp), id, store.StixHash(id), at, at)
				}
				if len(inds) > 0 {
					if _, err := tx.Exec(ctx, `INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, search, valid_from, tlp, revoked,
						stix_id, stix_hash, created_at, updated_at) VALUES `+strings.Join(inds, ", "), iargs...); err != nil {
						return err
					}
				}
				if len(objs) > 0 {
					if _, err := tx.Exec(ctx, `INSERT INTO intel_objects (owner_org_id, stix_id, stix_type, name, tlp, modified, body,
						created_at, updated_at) VALUES `+strings.Join(objs, ", "), oargs...); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("taxii: seed: %w", err)
		}
		if progress != nil {
			progress(to)
		}
	}
	return nil
}

// NextParam is the next parameter that starts a page after c (for a
// benchmark that jumps deep into a collection without walking to it).
func NextParam(c intel.Cursor) string { return cursor(c) }

// DeepCursor is the place of the indicator at about fraction f (0–1) of
// the indicators added, for a deep page.
func DeepCursor(ctx context.Context, db *store.DB, f float64) (intel.Cursor, error) {
	var maxID int64
	if err := db.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM intel_indicators").Scan(&maxID); err != nil {
		return intel.Cursor{}, err
	}
	var c intel.Cursor
	c.Src = intel.SourceIndicator
	err := db.QueryRow(ctx, "SELECT id, updated_at FROM intel_indicators WHERE id >= ? ORDER BY id LIMIT 1", int64(float64(maxID)*f)).
		Scan(&c.Row, &c.Added)
	c.Added = c.Added.UTC()
	return c, err
}

// BenchPath is the objects URL path of a collection with a query.
func BenchPath(collection string, q url.Values) string {
	p := "/taxii2/" + Root + "/collections/" + collection + "/objects/"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}
