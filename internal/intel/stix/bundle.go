package stix

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// ReadObjects streams the objects of a bundle (or a single object, read as a
// bundle of one) to fn without holding the whole bundle in memory. It returns
// the bundle id ("" for a single object). A JSON syntax error stops the read;
// fn's error stops it too.
func ReadObjects(r io.Reader, fn func(index int, raw json.RawMessage) error) (string, error) {
	d := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	t, err := d.Token()
	if err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	if delim, ok := t.(json.Delim); !ok || delim != '{' {
		return "", fmt.Errorf("not a JSON object")
	}
	others := map[string]json.RawMessage{}
	sawObjects := false
	n := 0
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("not JSON: %w", err)
		}
		key, _ := kt.(string)
		if key == "objects" && !sawObjects {
			sawObjects = true
			t, err := d.Token()
			if err != nil {
				return "", fmt.Errorf("not JSON: %w", err)
			}
			if delim, ok := t.(json.Delim); !ok || delim != '[' {
				return "", fmt.Errorf("bundle: objects is not a list")
			}
			for d.More() {
				var raw json.RawMessage
				if err := d.Decode(&raw); err != nil {
					return "", fmt.Errorf("object %d: not JSON: %w", n, err)
				}
				if err := fn(n, raw); err != nil {
					return "", err
				}
				n++
			}
			if _, err := d.Token(); err != nil {
				return "", fmt.Errorf("not JSON: %w", err)
			}
			continue
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return "", fmt.Errorf("not JSON: %w", err)
		}
		if _, dup := others[key]; dup {
			return "", fmt.Errorf("property %q given twice", key)
		}
		others[key] = raw
	}
	if _, err := d.Token(); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return "", fmt.Errorf("data after the end of the JSON document")
	}
	var typ, id string
	json.Unmarshal(others["type"], &typ)
	json.Unmarshal(others["id"], &id)
	if typ == "bundle" {
		if !sawObjects {
			return id, nil // an empty bundle may leave objects out
		}
		t, u, _ := bytesCut(id)
		if t != "bundle" || u == "" {
			return "", fmt.Errorf("bundle: id %q is not bundle--<UUID>", id)
		}
		return id, nil
	}
	if sawObjects {
		return "", fmt.Errorf("a document with objects must have type \"bundle\"")
	}
	// A single object: write it back in key order.
	keys := make([]string, 0, len(others))
	for k := range others {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(others[k])
	}
	b.WriteByte('}')
	return "", fn(0, b.Bytes())
}

func bytesCut(id string) (string, string, bool) {
	for i := 0; i+1 < len(id); i++ {
		if id[i] == '-' && id[i+1] == '-' {
			return id[:i], id[i+2:], true
		}
	}
	return id, "", false
}
