package intel

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestSTIXRoundTrip: every bundle in ../shared/data/stix imports; the valid
// objects are kept (the faulty ones reported), and the export validates
// against the schemas, with every reference resolved and every kept object
// present.
func TestSTIXRoundTrip(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleAnalyst)
		v, err := stix.DefaultValidator()
		if err != nil {
			t.Fatal(err)
		}
		dir := testkit.SharedData(t, "stix")
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
		want := map[string]bool{}
		imported := 0
		for _, p := range files {
			name := filepath.Base(p)
			if strings.Contains(name, "schema") {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.s.ImportSTIX(ctx, nat, bytes.NewReader(b), ImportOptions{Name: name})
			switch name {
			case "invalid_braces.json", "invalid_comma.json", "using-tlp2.0-green.json":
				if !errs.Is(err, errs.KindInvalid) {
					t.Errorf("%s: %v, want invalid file", name, err)
				}
				continue
			case "invalid_identity.json", "invalid_timestamp.json":
				if err != nil || res.Rejected != 1 || res.Accepted != 0 || len(res.Errors) != 1 {
					t.Errorf("%s: %+v %v, want one object refused", name, res, err)
				}
				continue
			default:
				if err != nil || res.Rejected != 0 {
					t.Errorf("%s: %+v %v", name, res, err)
				}
			}
			imported++
			stix.ReadObjects(bytes.NewReader(b), func(_ int, raw json.RawMessage) error {
				o, _ := stix.Decode(raw)
				red := strings.Contains(string(raw), "5e57c739-391a-4eb3-b6be-7d15ca92d5ed") || strings.Contains(string(raw), "e828b379-4e03-4974-9ac4-e53a884c97c1")
				if o["type"] != "marking-definition" && !red && v.Validate(o) == nil {
					want[o["id"].(string)] = true
				}
				return nil
			})
		}
		if imported < 15 {
			t.Fatalf("only %d files imported", imported)
		}
		var out bytes.Buffer
		n, err := f.s.ExportSTIX(ctx, nat, &out, ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateBundle(out.Bytes()); err != nil {
			t.Fatalf("export does not validate: %v\n%.2000s", err, out.String())
		}
		got := map[string]bool{}
		stix.ReadObjects(bytes.NewReader(out.Bytes()), func(_ int, raw json.RawMessage) error {
			o, _ := stix.Decode(raw)
			got[o["id"].(string)] = true
			return nil
		})
		for id := range want {
			if !got[id] {
				t.Errorf("%s imported but not exported", id)
			}
		}
		if strings.Contains(out.String(), "e828b379-4e03-4974-9ac4-e53a884c97c1\"]") {
			t.Error("a RED object in an export")
		}
		t.Logf("%d objects exported, %d kept from the shared data", n, len(want))

		// The URL indicator became a matchable URL.
		list, _, _ := f.s.List(ctx, nat, Filter{Kind: KindURL})
		if len(list) == 0 {
			t.Error("no URL indicator from indicator-for-malicious-url.json")
		}
		// A sibling sees only what its label lets it: the imports default
		// to AMBER, so a member of another province sees CLEAR/GREEN only.
		var sib bytes.Buffer
		if _, err := f.s.ExportSTIX(ctx, f.actor(f.dn, policy.RoleViewer), &sib, ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateBundle(sib.Bytes()); err != nil {
			t.Fatalf("sibling export invalid: %v", err)
		}
		if strings.Contains(sib.String(), `"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]`) {
			t.Error("AMBER object in a sibling's export")
		}
		var green bytes.Buffer
		if _, err := f.s.ExportSTIX(ctx, nat, &green, ExportOptions{MaxTLP: policy.TLPGreen}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(green.String(), `"object_marking_refs":["marking-definition--55d920b0`) {
			t.Error("AMBER object in a GREEN export")
		}
		if err := v.ValidateBundle(green.Bytes()); err != nil {
			t.Fatalf("GREEN export invalid: %v", err)
		}
		f.verifyAudit()
	})
}

func TestSTIXImportErrors(t *testing.T) {
	db := testkit.NewSQLite(t)
	ctx := context.Background()
	f := newFixture(t, db)
	nat := f.actor(f.national, policy.RoleAnalyst)
	bundle := `{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[
	{"type":"indicator","spec_version":"2.1","id":"indicator--6ba7b811-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "pattern":"[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'Bad.Example.vn']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",
	 "object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"labels":["rsit:malicious-code=\"c2-server\""]},
	{"type":"indicator","spec_version":"2.1","id":"indicator--6ba7b812-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "pattern":"[ipv4-addr:value = '198.51.100.1'","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
	{"type":"sighting","spec_version":"2.1","id":"sighting--6ba7b813-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z",
	 "sighting_of_ref":"indicator--6ba7b811-9dad-11d1-80b4-00c04fd430c8","count":4},
	{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--6ba7b814-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"CVE-2026-0001"},
	{"type":"identity","spec_version":"2.1","id":"identity--bad","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"x"}
	]}`
	res, err := f.s.ImportSTIX(ctx, nat, strings.NewReader(bundle), ImportOptions{Name: "test.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 5 || res.Accepted != 3 || res.Rejected != 2 || res.Indicators != 2 || res.Sightings != 2 || res.Objects != 2 {
		t.Fatalf("%+v", res)
	}
	if res.Errors[0].Index != 1 || !strings.Contains(res.Errors[0].Error, "at 33") {
		t.Errorf("pattern fault: %+v", res.Errors[0])
	}
	list, _, _ := f.s.List(ctx, nat, Filter{})
	if len(list) != 2 || list[0].TLP != policy.TLPGreen {
		t.Fatalf("indicators %+v", list)
	}
	d, _ := f.s.Get(ctx, nat, list[0].ID)
	if len(d.Sightings) != 1 || d.Sightings[0].Count != 4 || len(d.Tags) != 1 {
		t.Fatalf("detail %+v", d)
	}
	rec, err := f.s.GetImport(ctx, nat, res.ID)
	if err != nil || rec.Rejected != 2 || len(rec.Errors) != 2 {
		t.Fatalf("record %+v %v", rec, err)
	}
	// A viewer may not import; nothing is stored.
	if _, err := f.s.ImportSTIX(ctx, f.actor(f.national, policy.RoleViewer), strings.NewReader(bundle), ImportOptions{}); !errs.Is(err, errs.KindForbidden) {
		t.Fatalf("viewer import: %v", err)
	}
	// Re-importing changes no counts of rows (one row per value).
	if _, err := f.s.ImportSTIX(ctx, nat, strings.NewReader(bundle), ImportOptions{Name: "again"}); err != nil {
		t.Fatal(err)
	}
	if f.count("intel_indicators") != 2 || f.count("intel_objects") != 2 {
		t.Fatalf("rows %d %d", f.count("intel_indicators"), f.count("intel_objects"))
	}
	f.verifyAudit()
}
