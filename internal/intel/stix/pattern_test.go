package stix

import (
	"bufio"
	"certnet/internal/testkit"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestPatternSpecExamples(t *testing.T) {
	f, err := os.Open(testkit.SharedData(t, "stix/patterns/spec_examples_v21.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n++
		if _, err := ParsePattern(line); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
	if n < 20 {
		t.Fatalf("only %d examples read", n)
	}
}

func TestPatternValid(t *testing.T) {
	for _, s := range []string{
		"[ipv4-addr:value = '198.51.100.1']",
		"[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
		"[file:size IN (1, 2, 3)]",
		"[file:size NOT IN ()]",
		"[file:name LIKE 'a%'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
		"[file:size > -5 AND file:size <= 10.5]",
		"[xyz:flag = true]",
		"[artifact:payload_bin = b'AAEC']",
		"[file:name NOT = 'x']",
		"[EXISTS file:name]",
		"[abc:b[0].c[*] != 'x'] REPEATS 2 TIMES WITHIN 5.5 SECONDS",
		"([a-b:c = 'x'] OR [a-b:d = 'y']) FOLLOWEDBY [a-b:e = 'z']",
		`[file:name = 'it\'s \\ ok']`,
	} {
		if _, err := ParsePattern(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestPatternInvalid(t *testing.T) {
	for _, c := range []struct {
		src string
		pos int
	}{
		{"", 0},
		{"[ipv4-addr:value = '1.2.3.4'", 28},
		{"ipv4-addr:value = '1.2.3.4'", 0},
		{"[ipv4-addr:value == '1.2.3.4']", 18},
		{"[ipv4-addr:value = '1.2.3.4]", 19},
		{"[ipv4-addr:value = 1.2.3.4]", 22},
		{"[ipv4-addr:value = 'x'] and [a:b = 'y']", 24},
		{"[ipv4-addr:value = 'x'] WITHIN -5 SECONDS", 31},
		{"[ipv4-addr:value = 'x'] REPEATS 0 TIMES", 32},
		{"[ipv4-addr:value = 'x'] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'", 59},
		{"[ipv4-addr:value = t'2016-13-01T00:00:00Z']", 19},
		{"[file:hashes.SHA-256 = 'x']", 13},
		{"[file:magic = h'abc']", 14},
		{"[abc:b > true]", 9},
		{`[abc:b = 'x\n']`, 11},
		{"[abc:b = 'x'] [abc:b = 'y']", 14},
		{"[abc:b = 'x'] WITHIN 5", 22},
		{"[ab:c = 'x']", 1},
		{"[abc:b = 007]", 9},
	} {
		_, err := ParsePattern(c.src)
		var pe *PatternError
		if !errors.As(err, &pe) {
			t.Errorf("%q: want a PatternError, got %v", c.src, err)
			continue
		}
		if pe.Pos != c.pos {
			t.Errorf("%q: fault at %d (%s), want %d", c.src, pe.Pos, pe.Msg, c.pos)
		}
	}
}

func TestSimpleTerms(t *testing.T) {
	p, err := ParsePattern("[url:value = 'http://example.com/foo' OR file:hashes.'SHA-256' = 'AB' OR ipv4-addr:value = '10.0.0.1']")
	if err != nil {
		t.Fatal(err)
	}
	terms, ok := p.SimpleTerms()
	if !ok || len(terms) != 3 || terms[1].Property != "hashes.SHA-256" || terms[2].Value != "10.0.0.1" {
		t.Fatalf("terms %+v ok %v", terms, ok)
	}
	for _, s := range []string{
		"[url:value = 'a' AND url:value = 'b']",
		"[url:value = 'a'] OR [url:value = 'b']",
		"[file:name = 'a']",
		"[url:value != 'a']",
		"[url:value = 'a'] WITHIN 5 SECONDS",
	} {
		p, err := ParsePattern(s)
		if err != nil {
			t.Fatal(s, err)
		}
		if _, ok := p.SimpleTerms(); ok {
			t.Errorf("%s: simple, want not", s)
		}
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"[ipv4-addr:value = '1.2.3.4']", "[abc:b[*].c IN (1, 'x', t'2020-01-01T00:00:00Z')] REPEATS 2 TIMES",
		"([abc:b = h'00'] FOLLOWEDBY [cde:d MATCHES 'x']) WITHIN 1.5 SECONDS", "[(abc:b = 1 OR abc:c = 2) AND EXISTS abc:d]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("%q: bad error %v", s, err)
			}
			return
		}
		p.SimpleTerms()
	})
}
