package tabular

import (
	"errors"
	"slices"
	"testing"
)

func problem(err error) Problem {
	var te *Error
	if errors.As(err, &te) {
		return te.Problem
	}
	return 0
}

func TestReadCSV(t *testing.T) {
	recs, lines, err := ReadCSV([]byte("\xef\xbb\xbfname;note\n\"Hà Nội\";\"a;b\nc\"\nx;y\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][0] != "Hà Nội" || recs[1][1] != "a;b\nc" || !slices.Equal(lines, []int{1, 2, 4}) {
		t.Fatalf("records %q lines %v", recs, lines)
	}
	if _, _, err := ReadCSV([]byte("a,b\n\"x,y\n"), Options{}); problem(err) != BadCSV {
		t.Fatalf("unterminated quote: %v", err)
	}
	if _, _, err := ReadCSV([]byte("a\n\xff\n"), Options{}); problem(err) != NotUTF8 {
		t.Fatalf("latin-1: %v", err)
	}
	if _, _, err := ReadCSV([]byte("a\nb\nc\n"), Options{MaxRecords: 2}); problem(err) != TooManyRows {
		t.Fatalf("too many: %v", err)
	}
	if _, _, err := ReadCSV([]byte("a,b x\"y\n"), Options{LazyQuotes: true}); err != nil {
		t.Fatalf("lazy quotes: %v", err)
	}
	if got := Comma([]byte("a\tb\tc,d\n1,2,3,4,5\n")); got != '\t' {
		t.Fatalf("comma %q", got)
	}
}

func TestReadXLSXRefusesJunk(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("PK\x03\x04 not a zip"), []byte("name,note\n")} {
		if _, _, err := ReadXLSX(b, Options{UnzipLimit: 1 << 20}); problem(err) != BadXLSX {
			t.Fatalf("%q: %v", b, err)
		}
	}
	if !Blank([]string{" ", "\u00a0", ""}) || Blank([]string{"", "x"}) {
		t.Fatal("Blank")
	}
}
