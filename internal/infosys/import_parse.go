package infosys

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"certnet/internal/errs"
	"certnet/internal/tabular"
)

// InventoryRecord is a row of an inventory file: its line (the CSV line or
// the worksheet row), its cells by column name, and the columns past the
// header that hold something (refused).
type InventoryRecord struct {
	Line    int
	Cells   map[string]string
	Unknown []string
}

// importColumn maps a header to its column name ("" when unknown).
func importColumn(h string) string {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	n = strings.NewReplacer(" ", "_", "-", "_", "*", "").Replace(n)
	n = strings.Trim(n, "_")
	for _, c := range ImportColumns {
		if c.Name == n {
			return n
		}
	}
	return ImportHeaderAliases[n]
}

// ParseInventory reads an inventory file, XLSX or CSV (format "xlsx" or
// "csv"; empty: an XLSX is recognised by its ZIP signature). A file that
// cannot be read — not UTF-8, a broken quote, not a workbook, no header,
// an unknown, repeated or missing required column, too many rows — is
// Invalid on "file" with a message saying why.
func ParseInventory(format string, data []byte) ([]InventoryRecord, error) {
	const op = "infosys: import"
	if format == "" {
		format = "csv"
		if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			format = "xlsx"
		}
	}
	var records [][]string
	var lines []int
	var err error
	switch format {
	case "xlsx":
		records, lines, err = readInventoryXLSX(data)
	case "csv":
		records, lines, err = readInventoryCSV(data)
	default:
		return nil, errs.Invalid(op).Field("file", "infosys.import.err.format")
	}
	if err != nil {
		return nil, err
	}
	hi := -1
	for i, rec := range records {
		if !blankRecord(rec) {
			hi = i
			break
		}
	}
	if hi < 0 {
		return nil, errs.Invalid(op).Field("file", "infosys.import.err.empty")
	}
	cols := make([]string, len(records[hi]))
	seen := map[string]bool{}
	for i, h := range records[hi] {
		if strings.TrimSpace(h) == "" {
			continue
		}
		name := importColumn(h)
		switch {
		case name == "":
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.unknown_column", strings.TrimSpace(h), lines[hi])
		case seen[name]:
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.duplicate_column", strings.TrimSpace(h), lines[hi])
		}
		seen[name] = true
		cols[i] = name
	}
	for _, c := range ImportColumns {
		if c.Required && !seen[c.Name] {
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.missing_column", c.Name)
		}
	}
	var out []InventoryRecord
	for i := hi + 1; i < len(records); i++ {
		if blankRecord(records[i]) {
			continue
		}
		if len(out) >= MaxImportRows {
			return nil, errs.Invalid(op).Field("file", "infosys.import.err.too_many_rows", MaxImportRows)
		}
		rec := InventoryRecord{Line: lines[i], Cells: make(map[string]string, len(cols))}
		for j, v := range records[i] {
			v = strings.TrimSpace(v)
			if j >= len(cols) || cols[j] == "" {
				if v != "" {
					rec.Unknown = append(rec.Unknown, columnName(j))
				}
				continue
			}
			rec.Cells[cols[j]] = v
		}
		out = append(out, rec)
	}
	return out, nil
}

// columnName is a spreadsheet column's letter name (0 → A, 26 → AA).
func columnName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

func blankRecord(rec []string) bool { return tabular.Blank(rec) }

var inventoryRead = tabular.Options{MaxRecords: MaxImportRows + 1000, UnzipLimit: 8 * MaxImportBytes}

func readInventoryCSV(data []byte) ([][]string, []int, error) {
	records, lines, err := tabular.ReadCSV(data, inventoryRead)
	return records, lines, inventoryFileError(err)
}

func readInventoryXLSX(data []byte) ([][]string, []int, error) {
	records, lines, err := tabular.ReadXLSX(data, inventoryRead)
	return records, lines, inventoryFileError(err)
}

// inventoryFileError words a file refused by the tabular reader.
func inventoryFileError(err error) error {
	const op = "infosys: import"
	var te *tabular.Error
	if !errors.As(err, &te) {
		return err
	}
	switch te.Problem {
	case tabular.NotUTF8:
		return errs.Invalid(op).Field("file", "infosys.import.err.not_utf8")
	case tabular.BadCSV:
		return errs.Invalid(op).Field("file", "infosys.import.err.csv", te.Line)
	case tabular.TooManyRows:
		return errs.Invalid(op).Field("file", "infosys.import.err.too_many_rows", MaxImportRows)
	}
	return errs.Invalid(op).Field("file", "infosys.import.err.xlsx")
}

// InventoryTemplate is the downloadable XLSX template: the header row of
// ImportColumns and one example row on the first sheet, and a second sheet
// explaining each column (help: column name → its explanation, in the
// reader's language; title: the sheet's name).
func InventoryTemplate(title string, help func(col string) string, example map[string]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	for i, c := range ImportColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, cell, c.Name); err != nil {
			return nil, err
		}
		cell, _ = excelize.CoordinatesToCellName(i+1, 2)
		if err := f.SetCellStr(sheet, cell, example[c.Name]); err != nil {
			return nil, err
		}
	}
	if _, err := f.NewSheet(title); err != nil {
		return nil, err
	}
	for i, c := range ImportColumns {
		req := ""
		if c.Required {
			req = "*"
		}
		f.SetCellStr(title, "A"+strconv.Itoa(i+1), c.Name+req)
		f.SetCellStr(title, "B"+strconv.Itoa(i+1), help(c.Name))
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
