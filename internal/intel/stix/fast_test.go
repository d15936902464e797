package stix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"certnet/internal/testkit"
)

// agree checks the fast path against the full one on raw: when
// ReadIndicator accepts it, Validate must accept it too and the fields must
// be what the generic decoder reads. It returns whether the fast path took it.
func agree(t *testing.T, v *Validator, raw []byte) bool {
	t.Helper()
	fi, ok := ReadIndicator(raw, &TimeCache{})
	if !ok {
		return false
	}
	o, err := Decode(raw)
	if err != nil {
		t.Fatalf("fast path took what does not decode: %v\n%s", err, raw)
	}
	if err := v.Validate(o); err != nil {
		t.Fatalf("fast path took what the schemas refuse: %v\n%s", err, raw)
	}
	str := func(k string) string { s, _ := o[k].(string); return s }
	for _, c := range []struct{ got, want string }{{fi.ID, str("id")}, {fi.Created, str("created")}, {fi.Modified, str("modified")},
		{fi.Name, str("name")}, {fi.Description, str("description")}, {fi.Pattern, str("pattern")}, {fi.PatternType, str("pattern_type")}} {
		if c.got != c.want {
			t.Fatalf("fast %q, full %q\n%s", c.got, c.want, raw)
		}
	}
	if from, _ := ParseTime(str("valid_from")); !from.Equal(fi.ValidFrom) {
		t.Fatalf("valid_from %v, want %v", fi.ValidFrom, from)
	}
	if u, present := o["valid_until"]; present {
		until, _ := ParseTime(u.(string))
		if !until.Equal(fi.ValidUntil) {
			t.Fatalf("valid_until %v, want %v", fi.ValidUntil, until)
		}
	} else if !fi.ValidUntil.IsZero() {
		t.Fatalf("valid_until %v for none", fi.ValidUntil)
	}
	if c, present := o["confidence"].(json.Number); present != fi.HasConfidence || present && c.String() != "" && mustInt(t, c) != fi.Confidence {
		t.Fatalf("confidence %v/%v, want %v", fi.Confidence, fi.HasConfidence, o["confidence"])
	}
	if r, _ := o["revoked"].(bool); r != fi.Revoked {
		t.Fatalf("revoked %v", fi.Revoked)
	}
	list := func(k string) []string {
		var out []string
		if l, ok := o[k].([]any); ok {
			for _, x := range l {
				out = append(out, x.(string))
			}
		}
		return out
	}
	if !reflect.DeepEqual(list("labels"), fi.Labels) || !reflect.DeepEqual(list("object_marking_refs"), fi.MarkingRefs) {
		t.Fatalf("labels %v markings %v, want %v %v", fi.Labels, fi.MarkingRefs, o["labels"], o["object_marking_refs"])
	}
	var kc []KillChainPhase
	if l, ok := o["kill_chain_phases"].([]any); ok {
		for _, x := range l {
			m := x.(map[string]any)
			kc = append(kc, KillChainPhase{m["kill_chain_name"].(string), m["phase_name"].(string)})
		}
	}
	if !reflect.DeepEqual(kc, fi.KillChain) {
		t.Fatalf("kill chain %v, want %v", fi.KillChain, kc)
	}
	if fi.Simple {
		p, err := ParsePattern(fi.Pattern)
		if err != nil {
			t.Fatalf("fast term for a pattern that does not parse: %v", err)
		}
		terms, ok := p.SimpleTerms()
		if !ok || len(terms) != 1 || terms[0] != fi.Term {
			t.Fatalf("fast term %+v, parser %+v %v", fi.Term, terms, ok)
		}
	}
	return true
}

func mustInt(t *testing.T, n json.Number) int64 {
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("confidence %v", n)
	}
	return i
}

const baseIndicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
	`"created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.123Z","name":"C2 m\u00e1y ch\u1ee7",` +
	`"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"`

// TestReadIndicator: the usual shapes take the fast path with the fields
// the full path reads; every shape the schemas or the semantic rules
// refuse, and every one the fast path does not know, goes the full way.
func TestReadIndicator(t *testing.T) {
	v, err := DefaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	fast := map[string]string{
		"base":        baseIndicator + `}`,
		"full":        baseIndicator + `,"description":"a \"quoted\" line\nand more","confidence":85,"revoked":true,"labels":["rsit:malicious-code=\"c2-server\"","x"],"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],"valid_until":"2027-01-01T00:00:00Z","kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain","phase_name":"command-and-control"}],"indicator_types":["malicious-activity"],"pattern_version":"2.1","lang":"vi","created_by_ref":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`,
		"spaces":      strings.ReplaceAll(baseIndicator, `,"`, ` ,  "`) + " }",
		"sha256":      strings.Replace(baseIndicator, `[ipv4-addr:value = '198.51.100.7']`, `[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`, 1) + `}`,
		"complex":     strings.Replace(baseIndicator, `[ipv4-addr:value = '198.51.100.7']`, `[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'x.example']`, 1) + `}`,
		"pcre":        strings.Replace(baseIndicator, `"pattern_type":"stix"`, `"pattern_type":"pcre"`, 1) + `}`,
		"confidence0": baseIndicator + `,"confidence":0}`,
		// A quote escaped in the value: valid, parsed in full (not Simple).
		"escaped quote": strings.Replace(baseIndicator, `'198.51.100.7'`, `'198.51\\'100.7'`, 1) + `}`,
	}
	for name, src := range fast {
		if !agree(t, v, []byte(src)) {
			t.Errorf("%s: not taken by the fast path", name)
		}
	}
	slow := map[string]string{
		"custom property":     baseIndicator + `,"x_custom":"y"}`,
		"capital key":         baseIndicator + `,"Name":"y"}`,
		"null":                baseIndicator + `,"description":null}`,
		"twice":               baseIndicator + `,"name":"again"}`,
		"no millis":           strings.Replace(baseIndicator, `03:04:05.000Z`, `03:04:05Z`, 1) + `}`,
		"modified first":      strings.Replace(baseIndicator, `"modified":"2026-01-02T03:04:05.123Z"`, `"modified":"2025-01-02T03:04:05.123Z"`, 1) + `}`,
		"until before":        baseIndicator + `,"valid_until":"2026-01-02T03:04:05Z"}`,
		"not utc":             strings.Replace(baseIndicator, `"valid_from":"2026-01-02T03:04:05Z"`, `"valid_from":"2026-01-02T03:04:05+07:00"`, 1) + `}`,
		"february 30":         strings.Replace(baseIndicator, `"valid_from":"2026-01-02T03:04:05Z"`, `"valid_from":"2026-02-30T03:04:05Z"`, 1) + `}`,
		"confidence 101":      baseIndicator + `,"confidence":101}`,
		"confidence float":    baseIndicator + `,"confidence":50.0}`,
		"empty labels":        baseIndicator + `,"labels":[]}`,
		"label number":        baseIndicator + `,"labels":[1]}`,
		"bad marking":         baseIndicator + `,"object_marking_refs":["tlp-green"]}`,
		"uuid version 0":      strings.Replace(baseIndicator, `4cbf-938f`, `0cbf-938f`, 1) + `}`,
		"id of another type":  strings.Replace(baseIndicator, `"id":"indicator--`, `"id":"malware--`, 1) + `}`,
		"bad pattern":         strings.Replace(baseIndicator, `[ipv4-addr:value = '198.51.100.7']`, `[ipv4-addr:value = '198.51.100.7'`, 1) + `}`,
		"extra kill chain":    baseIndicator + `,"kill_chain_phases":[{"kill_chain_name":"a","phase_name":"b","x":1}]}`,
		"no pattern_type":     strings.Replace(baseIndicator, `,"pattern_type":"stix"`, ``, 1) + `}`,
		"spec 2.2":            strings.Replace(baseIndicator, `"2.1"`, `"2.2"`, 1) + `}`,
		"bad utf-8":           baseIndicator + ",\"description\":\"\xff\"}",
		"extensions":          baseIndicator + `,"extensions":{"x-ext":{"a":1}}}`,
		"external references": baseIndicator + `,"external_references":[{"source_name":"x"}]}`,
		"malware":             `{"type":"malware","spec_version":"2.1","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","is_family":false}`,
	}
	for name, src := range slow {
		if agree(t, v, []byte(src)) {
			t.Errorf("%s: taken by the fast path", name)
		}
	}
	// Every indicator of the shared examples: what the fast path takes
	// agrees with the full path, and it takes most of them.
	dir := testkit.SharedData(t, "stix")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	seen, took := 0, 0
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		ReadObjects(f, func(_ int, raw json.RawMessage) error {
			if strings.Contains(string(raw), `"indicator"`) {
				seen++
				if agree(t, v, raw) {
					took++
				}
			}
			return nil
		})
		f.Close()
	}
	t.Logf("shared examples: %d objects naming indicators, %d by the fast path", seen, took)
	if took == 0 {
		t.Errorf("no shared indicator took the fast path (of %d)", seen)
	}
}

func FuzzReadIndicator(f *testing.F) {
	f.Add(baseIndicator + `}`)
	f.Add(baseIndicator + `,"confidence":85,"labels":["a"],"valid_until":"2027-01-01T00:00:00.5Z"}`)
	f.Add(strings.Replace(baseIndicator, `[ipv4-addr:value = '198.51.100.7']`, `[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']`, 1) + `}`)
	v, err := DefaultValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return // ReadObjects hands over valid JSON only
		}
		agree(t, v, []byte(s))
	})
}
