package stix

import (
	"certnet/internal/testkit"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validateFile reads a file as the importer does and validates each object.
func validateFile(t *testing.T, v *Validator, path string) error {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var objs []map[string]any
	_, err = ReadObjects(f, func(i int, raw json.RawMessage) error {
		o, err := Decode(raw)
		if err != nil {
			return err
		}
		if err := v.Validate(o); err != nil {
			return err
		}
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		return err
	}
	return nil
}

func TestValidatorSharedData(t *testing.T) {
	v, err := DefaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	dir := testkit.SharedData(t, "stix")
	bad := map[string]bool{"invalid_braces.json": true, "invalid_comma.json": true, "invalid_identity.json": true,
		"invalid_timestamp.json": true, "using-tlp2.0-green.json": true}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	n := 0
	for _, p := range files {
		name := filepath.Base(p)
		if strings.Contains(name, "schema") {
			continue
		}
		n++
		err := validateFile(t, v, p)
		if bad[name] && err == nil {
			t.Errorf("%s: accepted, want refused", name)
		}
		if !bad[name] && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil {
			t.Logf("%s: %v", name, err)
		}
	}
	if n < 15 {
		t.Fatalf("only %d files", n)
	}
}

func TestReadObjectsShapes(t *testing.T) {
	for src, want := range map[string]string{
		`{"objects":[{"a":1}],"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`: "",
		`{"type":"identity","id":"identity--x"}`:                                                    "",
		`{"type":"bundle","id":"x","objects":[]}`:                                                   "bundle: id",
		`[1]`:                       "not a JSON object",
		`{"objects":[1]`:            "not JSON",
		`{"type":"x","objects":[]}`: "must have type",
		`{"type":"x"} {}`:           "after the end",
	} {
		_, err := ReadObjects(strings.NewReader(src), func(int, json.RawMessage) error { return nil })
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}

func FuzzReadObjects(f *testing.F) {
	f.Add(`{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[{"type":"identity"}]}`)
	f.Add(`{"type":"indicator","pattern":"[a:b = 'c']"}`)
	v, err := DefaultValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ReadObjects(strings.NewReader(s), func(_ int, raw json.RawMessage) error {
			o, err := Decode(raw)
			if err != nil {
				return err
			}
			v.Validate(o)
			return nil
		})
	})
}
