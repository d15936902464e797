package intel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// streamBundle writes a bundle of n objects crossing several chunks and
// batches: mostly fast-path IPv4 indicators, every 7th one a repeat of an
// earlier value (another source of it), every 50th one decoded in full
// (a custom property), faults at known places, and a sighting near the end
// of an indicator from the first chunk.
func streamBundle(n int) (string, map[int]bool) {
	bad := map[int]bool{}
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[`)
	id := func(i int) string { return fmt.Sprintf("indicator--%08x-9dad-41d1-80b4-00c04fd430c8", i) }
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		value := fmt.Sprintf("10.1.%d.%d", i>>8&255, i&255)
		if i%7 == 6 {
			value = fmt.Sprintf("10.1.%d.%d", (i-3)>>8&255, (i-3)&255)
		}
		extra := ""
		if i%50 == 49 {
			extra = `,"x_feed":"slow path"`
		}
		pattern := fmt.Sprintf("[ipv4-addr:value = '%s']", value)
		switch {
		case i == 3 || i == 300:
			pattern = "[ipv4-addr:value = '300.1.1.1']" // not an address: refused by normalisation
			bad[i] = true
		case i == 511:
			pattern = "[ipv4-addr:value = '10.0.0.1'" // unterminated: refused by the pattern parser
			bad[i] = true
		case i == n-2:
			fmt.Fprintf(&b, `{"type":"sighting","spec_version":"2.1","id":"sighting--6ba7b813-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","sighting_of_ref":"%s","count":9}`, id(1))
			continue
		}
		fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"%s","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","confidence":%d,"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]%s}`,
			id(i), pattern, i%100, extra)
	}
	b.WriteString(`]}`)
	return b.String(), bad
}

// TestImportStreamOrder: a bundle over several chunks and batches keeps its
// order — each fault reported at its index, a repeated value one row with
// its sources, the sighting on the row of an indicator written chunks
// before, the slow-path objects stored like the fast ones — and one audit
// entry summarises the import.
func TestImportStreamOrder(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleAnalyst)
		const n = 2600
		bundle, bad := streamBundle(n)
		var progress []int
		res, err := f.s.ImportSTIX(ctx, nat, strings.NewReader(bundle), ImportOptions{Name: "stream.json",
			Progress: func(k int) { progress = append(progress, k) }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != n || res.Rejected != len(bad) || res.Accepted != n-len(bad) || res.Sightings != 1 {
			t.Fatalf("result total %d accepted %d rejected %d sightings %d", res.Total, res.Accepted, res.Rejected, res.Sightings)
		}
		for k, e := range res.Errors {
			if !bad[e.Index] || k > 0 && e.Index <= res.Errors[k-1].Index {
				t.Errorf("error %d at index %d: %+v", k, e.Index, e)
			}
		}
		if len(progress) == 0 || progress[len(progress)-1] != n {
			t.Errorf("progress %v", progress[max(0, len(progress)-3):])
		}
		// Rows: one per distinct value.
		distinct := map[string]bool{}
		for i := range n {
			if bad[i] || i == n-2 {
				continue
			}
			j := i
			if i%7 == 6 {
				j = i - 3
			}
			distinct[fmt.Sprintf("10.1.%d.%d", j>>8&255, j&255)] = true
		}
		if got := f.count("intel_indicators"); got != len(distinct) {
			t.Fatalf("%d indicator rows, want %d", got, len(distinct))
		}
		// A repeated value keeps the higher confidence of its reports and
		// the source of each.
		var id int64
		var conf int
		if err := db.QueryRow(ctx, `SELECT id, confidence FROM intel_indicators WHERE value = ?`, fmt.Sprintf("10.1.%d.%d", 1998>>8&255, 1998&255)).Scan(&id, &conf); err != nil {
			t.Fatal(err)
		}
		if conf != 98 { // objects 1998 (confidence 98) and its repeat 2001 (confidence 1)
			t.Errorf("confidence %d, want 98", conf)
		}
		d, err := f.s.Get(ctx, nat, id)
		if err != nil || len(d.Sources) != 1 || d.TLP != policy.TLPGreen {
			t.Errorf("detail %+v %v", d, err)
		}
		if err := db.QueryRow(ctx, `SELECT id FROM intel_indicators WHERE value = ?`, "10.1.0.1").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if g, _ := f.s.Get(ctx, nat, id); len(g.Sightings) != 1 || g.Sightings[0].Count != 9 {
			t.Errorf("sighting of object 1: %+v", g.Sightings)
		}
		var audits int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'intel.import.stix'`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if audits != 1 {
			t.Errorf("%d audit entries, want one summary", audits)
		}
		var after string
		if err := db.QueryRow(ctx, `SELECT after_json FROM audit_log WHERE action = 'intel.import.stix'`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`"kinds":{"ipv4":%d}`, res.Indicators)
		if !strings.Contains(after, want) || !strings.Contains(after, `"tlp":{"GREEN":`) || !strings.Contains(after, `"source":"stix:stream.json"`) {
			t.Errorf("audit summary %s, want %s, the labels and the source", after, want)
		}
		f.verifyAudit()
	})
}

// TestImportStreamBrokenJSON: a syntax error after thousands of good
// objects refuses the file and keeps nothing of it.
func TestImportStreamBrokenJSON(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleAnalyst)
		bundle, _ := streamBundle(1500)
		broken := bundle[:len(bundle)-2] + `,{"type":}]}`
		if _, err := f.s.ImportSTIX(ctx, nat, strings.NewReader(broken), ImportOptions{Name: "broken.json"}); err == nil {
			t.Fatal("broken JSON accepted")
		}
		if n := f.count("intel_indicators") + f.count("intel_imports"); n != 0 {
			t.Fatalf("%d rows kept from a refused file", n)
		}
	})
}

// TestSearchKeyASCII: the ASCII shortcut of searchKey folds as i18n.Fold.
func TestSearchKeyASCII(t *testing.T) {
	for _, s := range []string{"", "  ", "198.51.100.7", "HTTP://Bad.Example.VN/a?B=1", "a\tb\n\nc  d\v", "x\x00y", "Máy Chủ Đà Nẵng", "ĐỨC\u00a0x"} {
		want := i18n.Fold(s + " " + s)
		if got := searchKey(s, s); got != want {
			t.Errorf("searchKey(%q) = %q, want %q", s, got, want)
		}
	}
	for i := range 2000 {
		b := make([]byte, i%40)
		for j := range b {
			b[j] = byte((i*31 + j*7) % 128)
		}
		if got, want := searchKey(string(b)), i18n.Fold(string(b)); got != want {
			t.Fatalf("searchKey(%q) = %q, want %q", b, got, want)
		}
	}
}

// TestImportIdsOfMixedBatch: a batch that holds new values between values
// the owner has already gives each new row its own object (the ids of an
// INSERT that skipped some rows are matched by value, not by position),
// and every value its source with the object that reported it.
func TestImportIdsOfMixedBatch(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleAnalyst)
		bundle := func(from, to, step int, tag string) (string, map[string]string) {
			refs := map[string]string{}
			var b strings.Builder
			b.WriteString(`{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[`)
			for i := from; i < to; i += step {
				if i > from {
					b.WriteByte(',')
				}
				v := fmt.Sprintf("10.2.%d.%d", i>>8&255, i&255)
				id := fmt.Sprintf("indicator--%08x-%s-41d1-80b4-00c04fd430c8", i, tag)
				refs[v] = id
				fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '%s']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, id, v)
			}
			b.WriteString(`]}`)
			return b.String(), refs
		}
		a, _ := bundle(0, 600, 2, "aaaa") // the even values
		if _, err := f.s.ImportSTIX(ctx, nat, strings.NewReader(a), ImportOptions{Name: "a.json"}); err != nil {
			t.Fatal(err)
		}
		b, refs := bundle(0, 600, 1, "bbbb") // all: odd ones new, between even ones held
		isNew := map[string]bool{}
		for i := 1; i < 600; i += 2 {
			isNew[fmt.Sprintf("10.2.%d.%d", i>>8&255, i&255)] = true
		}
		res, err := f.s.ImportSTIX(ctx, nat, strings.NewReader(b), ImportOptions{Name: "b.json"})
		if err != nil || res.Indicators != 600 {
			t.Fatalf("%+v %v", res, err)
		}
		rows, err := db.Query(ctx, `SELECT i.value, i.stix_id, s.ref FROM intel_indicators i JOIN intel_indicator_sources s ON s.indicator_id = i.id
			WHERE s.source = 'stix:b.json'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var v, sid, ref string
			if err := rows.Scan(&v, &sid, &ref); err != nil {
				t.Fatal(err)
			}
			n++
			if ref != refs[v] {
				t.Errorf("%s: source b.json names %s, want %s", v, ref, refs[v])
			}
			if fromB := strings.Contains(sid, "-bbbb-"); fromB != isNew[v] {
				t.Errorf("%s: row's STIX id %s (new rows take b's ids, held ones keep a's)", v, sid)
			}
		}
		if n != 600 {
			t.Fatalf("%d sources of b.json, want 600", n)
		}
		// Sightings find the rows of their indicator its id does not name:
		// a value merged into a row held under another id, and the second
		// value of a pattern.
		c := `{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[
		{"type":"indicator","spec_version":"2.1","id":"indicator--0000c001-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.2.0.4']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
		{"type":"indicator","spec_version":"2.1","id":"indicator--0000c002-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.3.0.1' OR ipv4-addr:value = '10.3.0.2']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
		{"type":"sighting","spec_version":"2.1","id":"sighting--0000c003-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","sighting_of_ref":"indicator--0000c001-9dad-41d1-80b4-00c04fd430c8","count":3},
		{"type":"sighting","spec_version":"2.1","id":"sighting--0000c004-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","sighting_of_ref":"indicator--0000c002-9dad-41d1-80b4-00c04fd430c8","count":5}]}`
		res, err = f.s.ImportSTIX(ctx, nat, strings.NewReader(c), ImportOptions{Name: "c.json"})
		if err != nil || res.Sightings != 3 {
			t.Fatalf("sightings: %+v %v", res, err)
		}
		for v, want := range map[string]int{"10.2.0.4": 3, "10.3.0.1": 5, "10.3.0.2": 5} {
			var got int
			if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(s.count), 0) FROM intel_sightings s JOIN intel_indicators i ON i.id = s.indicator_id
				WHERE i.value = ? AND s.stix_id LIKE 'sighting--0000c00%'`, v).Scan(&got); err != nil || got != want {
				t.Errorf("%s: sighted %d times, want %d (%v)", v, got, want, err)
			}
		}
	})
}
