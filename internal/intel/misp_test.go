package intel

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestMISPFeedImport(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		hn := f.actor(f.hn, policy.RoleAnalyst)
		dir := testkit.SharedData(t, "misp/events")
		res, err := f.s.ImportMISPFeed(ctx, hn, os.DirFS(dir), ImportOptions{Name: "circl"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rejected != 0 || res.Indicators < 50 || res.Sightings == 0 {
			t.Fatalf("%+v", res)
		}
		t.Logf("feed: %d attributes, %d indicators, %d sightings", res.Total, res.Indicators, res.Sightings)
		// tlp:white events are CLEAR; the event without a tlp tag takes
		// the default (AMBER).
		ind, _, _ := f.s.List(ctx, hn, Filter{Query: "ooiasjdnqjwbeasdasd.com"})
		if len(ind) != 1 || ind[0].TLP != policy.TLPAmber {
			t.Fatalf("untagged event: %+v", ind)
		}
		d, _ := f.s.Get(ctx, hn, ind[0].ID)
		if len(d.Sources) != 1 || !strings.HasPrefix(d.Sources[0].Source, "misp:5b646415") || len(d.Sightings) == 0 {
			t.Fatalf("detail %+v", d)
		}
		if _, n, _ := f.s.List(ctx, hn, Filter{TLP: policy.TLPClear, Kind: KindSHA256}); n == 0 {
			t.Error("no CLEAR sha256 from the tlp:white events")
		}
		// The sibling province sees CLEAR ones, not the AMBER event.
		dn := f.actor(f.dn, policy.RoleViewer)
		if _, err := f.s.Get(ctx, dn, ind[0].ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("sibling sees AMBER: %v", err)
		}
		// Again: one row per value.
		before := f.count("intel_indicators")
		if _, err := f.s.ImportMISPFeed(ctx, hn, os.DirFS(dir), ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if f.count("intel_indicators") != before {
			t.Fatal("re-import added rows")
		}
		f.verifyAudit()
	})
}

func TestMISPImportFaults(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testkit.NewSQLite(t))
	hn := f.actor(f.hn, policy.RoleAnalyst)
	ev := `{"Event":{"uuid":"5b646415-7b48-40d5-86b4-c0070acd0835","info":"Thử nghiệm","distribution":"0",
		"Tag":[{"name":"tlp:green"},{"name":"rsit:fraud=\"phishing\""}],
		"Attribute":[{"uuid":"a1","type":"ip-dst","value":"198.51.100.300","to_ids":true},
		{"uuid":"a2","type":"url","value":"http://phish.example.vn/login","to_ids":true,"Tag":[{"name":"tlp:red"}]},
		{"uuid":"a3","type":"comment","value":"nothing to match"},
		{"uuid":"a4","type":"filename|sha256","value":"x.exe|AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F","to_ids":false}]}}`
	res, err := f.s.ImportMISP(ctx, hn, strings.NewReader(ev), ImportOptions{Name: "ev.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 4 || res.Rejected != 1 || res.Indicators != 2 || res.Errors[0].ID != "a1" {
		t.Fatalf("%+v", res)
	}
	list, _, _ := f.s.List(ctx, hn, Filter{})
	got := map[Kind]Indicator{}
	for _, i := range list {
		got[i.Kind] = i
	}
	if got[KindURL].TLP != policy.TLPRed || got[KindSHA256].TLP != policy.TLPGreen || got[KindSHA256].Confidence != 40 ||
		len(got[KindSHA256].Tags) != 1 {
		t.Fatalf("%+v", got)
	}
	for _, bad := range []string{`[]`, `{"Event":{"uuid":"nope","info":"x"}}`, `{}`, `not json`} {
		if _, err := f.s.ImportMISP(ctx, hn, strings.NewReader(bad), ImportOptions{}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// A feed whose hashes.csv disagrees with its event, and a missing event.
	feed := fstest.MapFS{
		"manifest.json": {Data: []byte(`{"5b646415-7b48-40d5-86b4-c0070acd0835":{},"6b646415-7b48-40d5-86b4-c0070acd0835":{}}`)},
		"5b646415-7b48-40d5-86b4-c0070acd0835.json": {Data: []byte(ev)},
		"hashes.csv": {Data: []byte("00000000000000000000000000000000,5b646415-7b48-40d5-86b4-c0070acd0835\n")},
	}
	res, err = f.s.ImportMISPFeed(ctx, hn, feed, ImportOptions{})
	if err != nil || res.Rejected != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

func FuzzParseMISPEvent(f *testing.F) {
	f.Add(`{"Event":{"uuid":"5b646415-7b48-40d5-86b4-c0070acd0835","info":"x","Attribute":[{"type":"ip-dst","value":"1.2.3.4"}]}}`)
	f.Add(`{"info":"x","Object":[{"Attribute":[{"type":"filename|md5","value":"a|b","Sighting":[{"date_sighting":12}]}]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := ParseMISPEvent([]byte(s))
		if err != nil {
			return
		}
		for _, at := range allAttributes(ev) {
			if k, v, ok := MISPKind(at.Type, at.Value); ok {
				Normalise(k, v)
			}
		}
	})
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "2001:db8::/32", "bộ-công-an.vn", "http://[::1]:80/x", "a@b.vn", "[url:value = 'http://x.vn']"} {
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, kind, v string) {
		k, n, err := Normalise(Kind(kind), v)
		if err != nil {
			return
		}
		// Normalising is idempotent.
		k2, n2, err := Normalise(k, n)
		if err != nil || k2 != k || n2 != n {
			t.Fatalf("%q %q → %s %q → %s %q %v", kind, v, k, n, k2, n2, err)
		}
	})
}

// TestMISPFeedExport: what a province exports as a feed re-imports at the
// national centre with the same values and labels; RED and labels above
// the limit stay home; hashes.csv agrees with the events.
func TestMISPFeedExport(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testkit.NewSQLite(t))
	hn := f.actor(f.hn, policy.RoleAnalyst)
	for _, in := range []Input{
		{Value: "198.51.100.7", TLP: policy.TLPClear, Tags: []string{`rsit:malicious-code="c2-server"`}},
		{Value: "evil.example.vn", TLP: policy.TLPGreen},
		{Value: "[file:name = 'x.exe']", TLP: policy.TLPGreen},
		{Value: "amber.example.vn", TLP: policy.TLPAmber},
		{Value: "red.example.vn", TLP: policy.TLPRed},
	} {
		if _, err := f.s.Create(ctx, hn, in); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	n, err := f.s.ExportMISPFeed(ctx, hn, dir, policy.TLPGreen, func(int64) string { return "Sở Hà Nội" })
	if err != nil || n != 3 {
		t.Fatalf("%d %v", n, err)
	}
	nat := f.actor(f.national, policy.RoleAnalyst)
	res, err := f.s.ImportMISPFeed(ctx, nat, os.DirFS(dir), ImportOptions{Name: "hn feed"})
	if err != nil || res.Rejected != 0 || res.Indicators != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	list, _, _ := f.s.List(ctx, nat, Filter{Owner: f.national.ID})
	got := map[string]policy.TLP{}
	for _, i := range list {
		got[i.Value] = i.TLP
		if i.Value == "198.51.100.7" && len(i.Tags) != 1 {
			t.Errorf("rsit tag lost: %+v", i)
		}
	}
	if got["198.51.100.7"] != policy.TLPClear || got["evil.example.vn"] != policy.TLPGreen || got["[file:name = 'x.exe']"] != policy.TLPGreen ||
		got["amber.example.vn"] != "" || got["red.example.vn"] != "" {
		t.Fatalf("%v", got)
	}
	if _, err := f.s.ExportMISPFeed(ctx, hn, dir, "PINK", nil); err == nil {
		t.Fatal("bad label accepted")
	}
}
