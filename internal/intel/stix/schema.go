package stix

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schemas
var schemaFS embed.FS

const schemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// Validator checks STIX objects against the official JSON Schemas and the
// semantic rules the schemas cannot say.
type Validator struct {
	mu     sync.Mutex
	c      *jsonschema.Compiler
	byType map[string]*jsonschema.Schema
	files  map[string]string // type → schema path
}

var (
	defaultValidator     *Validator
	defaultValidatorOnce sync.Once
	defaultValidatorErr  error
)

// DefaultValidator returns the validator over the embedded schemas.
func DefaultValidator() (*Validator, error) {
	defaultValidatorOnce.Do(func() { defaultValidator, defaultValidatorErr = NewValidator(schemaFS) })
	return defaultValidator, defaultValidatorErr
}

// NewValidator loads the schemas under "schemas" in fsys.
func NewValidator(fsys fs.FS) (*Validator, error) {
	c := jsonschema.NewCompiler()
	v := &Validator{c: c, byType: map[string]*jsonschema.Schema{}, files: map[string]string{}}
	err := fs.WalkDir(fsys, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("stix: schema %s: %w", p, err)
		}
		rel := strings.TrimPrefix(p, "schemas/")
		if err := c.AddResource(schemaBase+rel, doc); err != nil {
			return err
		}
		dir, name, _ := strings.Cut(rel, "/")
		typ := strings.TrimSuffix(name, ".json")
		switch dir {
		case "sdos", "sros", "observables":
			v.files[typ] = rel
		case "common":
			if typ == "bundle" || typ == "marking-definition" || typ == "extension-definition" || typ == "language-content" {
				v.files[typ] = rel
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Validator) schema(typ string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.byType[typ]; ok {
		return s, nil
	}
	rel, ok := v.files[typ]
	if !ok {
		rel = "common/core.json" // custom objects: the common properties
		if s, ok := v.byType[""]; ok {
			return s, nil
		}
		typ = ""
	}
	s, err := v.c.Compile(schemaBase + rel)
	if err != nil {
		return nil, fmt.Errorf("stix: compile %s: %w", rel, err)
	}
	v.byType[typ] = s
	return s, nil
}

// ObjectError is one object's fault.
type ObjectError struct {
	Index int    `json:"index"`
	ID    string `json:"id,omitempty"`
	Type  string `json:"type,omitempty"`
	Error string `json:"error"`
}

// Validate checks one object (decoded JSON) against its type's schema and
// the semantic rules.
func (v *Validator) Validate(obj map[string]any) error {
	typ, _ := obj["type"].(string)
	if typ == "" {
		return fmt.Errorf("no type")
	}
	s, err := v.schema(typ)
	if err != nil {
		return err
	}
	if err := s.Validate(obj); err != nil {
		return fmt.Errorf("%s", schemaMessage(err))
	}
	return Semantic(obj)
}

// ValidateBundle checks a whole bundle document.
func (v *Validator) ValidateBundle(b []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("not a JSON object")
	}
	s, err := v.schema("bundle")
	if err != nil {
		return err
	}
	if err := s.Validate(m); err != nil {
		return fmt.Errorf("bundle: %s", schemaMessage(err))
	}
	objs, _ := m["objects"].([]any)
	var out []map[string]any
	for i, o := range objs {
		om, ok := o.(map[string]any)
		if !ok {
			return fmt.Errorf("object %d: not a JSON object", i)
		}
		if err := v.Validate(om); err != nil {
			return fmt.Errorf("object %d (%v): %w", i, om["id"], err)
		}
		out = append(out, om)
	}
	return CheckRefs(out)
}

func schemaMessage(err error) string {
	if ve, ok := err.(*jsonschema.ValidationError); ok {
		// The leaves say what is wrong; the first is enough to act on.
		for len(ve.Causes) > 0 {
			ve = ve.Causes[0]
		}
		loc := "/" + strings.Join(ve.InstanceLocation, "/")
		return fmt.Sprintf("%s: %s", loc, ve.ErrorKind.LocalizedString(enPrinter))
	}
	return err.Error()
}

var enPrinter = message.NewPrinter(language.English)

var typeRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,248}[a-z0-9]$`)

// Semantic checks what the schemas do not: the id is <type>--<UUID>,
// timestamps are RFC 3339 in UTC, modified is not before created, an
// indicator's valid_until is after its valid_from and its STIX pattern parses.
func Semantic(obj map[string]any) error {
	typ, _ := obj["type"].(string)
	id, _ := obj["id"].(string)
	if !typeRE.MatchString(typ) || strings.Contains(typ, "--") {
		return fmt.Errorf("invalid type %q", typ)
	}
	t, u, ok := strings.Cut(id, "--")
	if !ok || t != typ {
		return fmt.Errorf("id %q is not %s--<UUID>", id, typ)
	}
	if _, err := uuid.Parse(u); err != nil || len(u) != 36 {
		return fmt.Errorf("id %q is not %s--<UUID>", id, typ)
	}
	times := map[string]time.Time{}
	for _, k := range []string{"created", "modified", "valid_from", "valid_until", "first_seen", "last_seen", "published", "first_observed", "last_observed"} {
		raw, present := obj[k]
		if !present {
			continue
		}
		s, _ := raw.(string)
		ts, err := ParseTime(s)
		if err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
		times[k] = ts
	}
	if c, ok := times["created"]; ok {
		if m, ok := times["modified"]; ok && m.Before(c) {
			return fmt.Errorf("modified %s is before created %s", obj["modified"], obj["created"])
		}
	}
	if f, ok := times["valid_from"]; ok {
		if u, ok := times["valid_until"]; ok && !u.After(f) {
			return fmt.Errorf("valid_until must be later than valid_from")
		}
	}
	if f, ok := times["first_seen"]; ok {
		if l, ok := times["last_seen"]; ok && l.Before(f) {
			return fmt.Errorf("last_seen is before first_seen")
		}
	}
	if typ == "indicator" && obj["pattern_type"] == "stix" {
		p, _ := obj["pattern"].(string)
		if _, err := ParsePattern(p); err != nil {
			return fmt.Errorf("pattern: %w", err)
		}
	}
	return nil
}

// ParseTime reads a STIX timestamp: RFC 3339 in UTC ("Z").
func ParseTime(s string) (time.Time, error) {
	if !strings.HasSuffix(s, "Z") {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339 in UTC (…Z)", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339", s)
	}
	return t.UTC(), nil
}

// FormatTime writes a STIX timestamp with milliseconds.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// refKeys are the properties whose values name other objects.
func refsOf(obj map[string]any, fn func(key, ref string)) {
	for k, v := range obj {
		switch {
		case k == "object_marking_refs" || strings.HasSuffix(k, "_refs"):
			if l, ok := v.([]any); ok {
				for _, x := range l {
					if s, ok := x.(string); ok {
						fn(k, s)
					}
				}
			}
		case strings.HasSuffix(k, "_ref"):
			if s, ok := v.(string); ok {
				fn(k, s)
			}
		}
	}
}

// CheckRefs reports references that no object of the set (or a TLP marking)
// resolves.
func CheckRefs(objs []map[string]any) error {
	ids := map[string]bool{}
	for _, o := range objs {
		if id, ok := o["id"].(string); ok {
			ids[id] = true
		}
	}
	var bad []string
	for _, o := range objs {
		refsOf(o, func(k, r string) {
			if !ids[r] && TLPOfMarking(r) == "" {
				bad = append(bad, fmt.Sprintf("%v %s → %s", o["id"], k, r))
			}
		})
	}
	if len(bad) > 0 {
		return fmt.Errorf("unresolved references: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Decode decodes one object keeping numbers exact.
func Decode(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}
