package coord

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// Parsers of what people type into the coordination forms.

var errNumber = errors.New("coord: not a number")

// ParseCodes splits a list of organisation codes separated by commas,
// semicolons or white space; empty items are dropped, duplicates kept once.
func ParseCodes(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		c = strings.ToUpper(c)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// ParseVND reads an amount of đồng written with or without thousands
// separators ("2.500.000", "2,500,000", "2 500 000", "2500000"); no
// fractions.
func ParseVND(text string) (int64, error) {
	t := strings.NewReplacer(".", "", ",", "", " ", "", "\u00a0", "", "₫", "", "đ", "").Replace(strings.TrimSpace(text))
	if t == "" || len(t) > 18 {
		return 0, errNumber
	}
	for _, r := range t {
		if r < '0' || r > '9' {
			return 0, errNumber
		}
	}
	return strconv.ParseInt(t, 10, 64)
}

// ParseDecimal reads a number with a decimal point or comma ("6,5", "6.5").
func ParseDecimal(text string) (float64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(text), ",", ".")
	if t == "" || len(t) > 20 {
		return 0, errNumber
	}
	for _, r := range t {
		if (r < '0' || r > '9') && r != '.' && r != '-' {
			return 0, errNumber
		}
	}
	return strconv.ParseFloat(t, 64)
}
