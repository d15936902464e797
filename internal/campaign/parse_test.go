package campaign

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	rows, bad, err := ParseCSV(strings.NewReader("\xef\xbb\xbfIP, Port ,malware\n\"100.64.7.9\",23,Mirai\n\n2001:db8::1,,\n::1,,\n\"unterminated,1,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Line != 2 || rows[0].Port != 23 || rows[0].Malware != "Mirai" || rows[1].IP.String() != "2001:db8::1" || rows[1].Line != 4 {
		t.Fatalf("rows %+v", rows)
	}
	if len(bad) != 2 || bad[0].Line != 5 {
		t.Fatalf("bad %+v", bad)
	}
	if _, _, err := ParseCSV(strings.NewReader("ip,ip\n1.1.1.1,1.1.1.1\n")); err == nil {
		t.Fatal("a column twice was accepted")
	}
	if _, _, err := ParseCSV(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Fatal("a broken gzip stream was accepted")
	}
	big := "ip\n" + strings.Repeat("100.64.7.9\n", MaxImportBytes/11+1)
	if _, _, err := ParseCSV(strings.NewReader(big)); err != ErrTooLarge {
		t.Fatalf("a file above the limit: %v", err)
	}
	zipped, _, err := ParseCSV(bytes.NewReader(gz(list1)))
	if err != nil || len(zipped) != 5 {
		t.Fatalf("gzip: %d rows %v", len(zipped), err)
	}
}

func FuzzParseCSV(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.csv")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(list1))
	f.Add(gz(list1))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, bad, err := ParseCSV(bytes.NewReader(data))
		if err != nil {
			if rows != nil || bad != nil {
				t.Fatal("rows with an error")
			}
			return
		}
		for _, r := range rows {
			if !r.IP.IsValid() || r.IP.Is4In6() || r.Port < 0 || r.Port > 65535 || r.Line < 2 {
				t.Fatalf("bad row kept: %+v", r)
			}
		}
		for _, e := range bad {
			if e.Message == "" {
				t.Fatal("an error without a message")
			}
		}
	})
}
