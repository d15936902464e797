// Package tabular reads the spreadsheets people import (CSV as Excel and
// LibreOffice write it, and the first sheet of an XLSX workbook) into
// records with the line each starts on. What the columns mean, and the
// words of an error, belong to the importing package.
package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Problem is what is wrong with a file as a whole.
type Problem int

const (
	NotUTF8     Problem = iota + 1 // text not in UTF-8
	BadCSV                         // a CSV syntax error, at Line
	BadXLSX                        // not a workbook certnet can read
	TooManyRows                    // more records than Options.MaxRecords
)

// Error is a file refused by ReadCSV or ReadXLSX.
type Error struct {
	Problem Problem
	Line    int // BadCSV: the line the faulty record starts on, 0 if unknown
}

func (e *Error) Error() string {
	return fmt.Sprintf("tabular: problem %d at line %d", e.Problem, e.Line)
}

// Options bound a read.
type Options struct {
	MaxRecords int   // more records than this are refused (TooManyRows)
	LazyQuotes bool  // CSV: accept a quote inside an unquoted field
	UnzipLimit int64 // XLSX: the workbook's unpacked size limit
}

// Blank reports whether every cell of a record is empty or spaces.
func Blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// ReadCSV reads a CSV file (UTF-8, with or without BOM; comma, semicolon
// or tab separated, the one used most on the first line outside quotes:
// spreadsheets set to Vietnamese write semicolons) and returns its records
// with the line each starts on.
func ReadCSV(data []byte, o Options) ([][]string, []int, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, nil, &Error{Problem: NotUTF8}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = Comma(data)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = o.LazyQuotes
	var records [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, nil, &Error{Problem: BadCSV, Line: line}
		}
		line, _ := cr.FieldPos(0)
		records = append(records, rec)
		lines = append(lines, line)
		if o.MaxRecords > 0 && len(records) > o.MaxRecords {
			return nil, nil, &Error{Problem: TooManyRows}
		}
	}
	return records, lines, nil
}

// Comma is the separator used most on the first line, outside quotes: a
// comma, a semicolon or a tab (a comma when none is used).
func Comma(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		} else if c == '\n' && !quoted {
			break
		} else if !quoted && (c == ',' || c == ';' || c == '\t') {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// ReadXLSX reads the first worksheet of an XLSX workbook, leaving blank
// rows out, with each record's row number. A malformed workbook is
// refused, never a crash.
func ReadXLSX(data []byte, o Options) (records [][]string, lines []int, err error) {
	bad := &Error{Problem: BadXLSX}
	defer func() {
		if p := recover(); p != nil {
			records, lines, err = nil, nil, bad
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: o.UnzipLimit, UnzipXMLSizeLimit: o.UnzipLimit / 2})
	if err != nil {
		return nil, nil, bad
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, bad
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, bad
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		cols, err := rows.Columns()
		if err != nil {
			return nil, nil, bad
		}
		if Blank(cols) {
			continue
		}
		for _, c := range cols {
			if !utf8.ValidString(c) {
				return nil, nil, &Error{Problem: NotUTF8}
			}
		}
		records = append(records, cols)
		lines = append(lines, n)
		if o.MaxRecords > 0 && len(records) > o.MaxRecords {
			return nil, nil, &Error{Problem: TooManyRows}
		}
	}
	if err := rows.Error(); err != nil {
		return nil, nil, bad
	}
	return records, lines, nil
}
