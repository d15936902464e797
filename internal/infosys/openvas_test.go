package infosys

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func readOpenVASSample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "openvas", "report.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseOpenVAS(t *testing.T) {
	rows, bad, err := ParseScanReport(FormatOpenVAS, bytes.NewReader(readOpenVASSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	// Five results: a false positive left out, a bad host refused on its line.
	if len(rows) != 3 || len(bad) != 1 || bad[0].Line != 100 || bad[0].Field != "host" {
		t.Fatalf("rows %+v bad %+v", rows, bad)
	}
	ssh := rows[0]
	if ssh.Line != 14 || ssh.Host != "203.0.113.10" || ssh.Port != 22 || ssh.CVE != "CVE-2023-38408" || ssh.Severity != SevHigh ||
		ssh.CVSS == nil || *ssh.CVSS != 9.8 || ssh.Solution != "Update to version 9.3p2 or later." ||
		!strings.Contains(ssh.Description, "Installed version: 8.9p1") || !strings.Contains(ssh.Description, "NVT 1.3.6.1.4.1.25623.1.0.104871") ||
		ssh.DetectedAt.Format("2006-01-02T15:04:05Z") != "2026-11-20T02:14:52Z" {
		t.Fatalf("ssh %+v", ssh)
	}
	tls := rows[1]
	if tls.Port != 443 || tls.CVE != "CVE-2011-3389" || tls.Severity != SevMedium || !strings.Contains(tls.Description, "CVE-2011-3389, CVE-2015-0204") {
		t.Fatalf("tls %+v", tls)
	}
	if os := rows[2]; os.Port != 0 || os.Severity != SevInfo || os.CVE != "" {
		t.Fatalf("log result %+v", os)
	}

	// Older reports list CVEs in <cve>; a threat without a score is kept.
	old := `<report><report><results><result><host>198.51.100.7</host><port>80/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.1"><name>Old thing</name><cve>CVE-2014-0160, CVE-2014-0161</cve></nvt><threat>Medium</threat></result></results></report></report>`
	rows, bad, err = ParseScanReport(FormatOpenVAS, strings.NewReader(old))
	if err != nil || len(bad) != 0 || len(rows) != 1 || rows[0].CVE != "CVE-2014-0160" || rows[0].Severity != SevMedium || rows[0].Line != 1 {
		t.Fatalf("old report: %+v %+v %v", rows, bad, err)
	}

	// Broken reports are refused whole.
	for _, body := range []string{
		"",
		"not xml",
		"<html><body>login</body></html>",
		"<report><results><result><host>1.2.3.4</host>",                                     // cut short
		"<report><report><results><result><host>1.2.3.4</host></results></report></report>", // mismatched
		`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><report>&x;</report>`,
	} {
		rows, bad, err := ParseScanReport(FormatOpenVAS, strings.NewReader(body))
		if !errors.Is(err, ErrBrokenReport) || rows != nil || bad != nil {
			t.Fatalf("%q: %v %v %v", body, rows, bad, err)
		}
	}
	// Too large: refused while streaming.
	big := repeatXML("<report><results>", "<!-- padding padding padding padding -->\n", MaxScanReport/40+10)
	if _, _, err := ParseScanReport(FormatOpenVAS, strings.NewReader(big)); !errors.Is(err, ErrBrokenReport) || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("large report: %v", err)
	}
}

func repeatXML(head, part string, n int) string {
	var b strings.Builder
	b.WriteString(head)
	for range n {
		b.WriteString(part)
	}
	return b.String()
}

// TestImportOpenVAS imports the sample report into a system on both
// engines: the findings, the refused line, the scan activity; again later,
// the same findings are updated, not added.
func TestImportOpenVAS(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HIS", DataKind: DataPublic})
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.s.ImportFindings(ctx, owner, sys.ID, FormatOpenVAS, bytes.NewReader(readOpenVASSample(t)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 3 || len(res.Errors) != 1 || res.Errors[0].Line != 100 || res.ActivityID == 0 {
			t.Fatalf("import %+v", res)
		}
		open, err := f.s.OpenFindings(ctx, owner, sys.ID)
		if err != nil || open[SevHigh] != 1 || open[SevMedium] != 1 || open[SevInfo] != 1 {
			t.Fatalf("open %v %v", open, err)
		}
		res, err = f.s.ImportFindings(ctx, owner, sys.ID, FormatOpenVAS, bytes.NewReader(readOpenVASSample(t)))
		if err != nil || res.Added != 0 || res.Updated != 3 {
			t.Fatalf("again %+v %v", res, err)
		}
		// A broken report writes nothing.
		if _, err := f.s.ImportFindings(ctx, owner, sys.ID, FormatOpenVAS, strings.NewReader("<report><results>")); err == nil {
			t.Fatal("broken report imported")
		}
		if n, scans := countFindings(t, db); n != 3 || scans != 2 {
			t.Fatalf("%d findings, %d scans", n, scans)
		}
	})
}

func FuzzOpenVAS(f *testing.F) {
	f.Add(string(readOpenVASSample(f)))
	f.Add(`<report><report><results><result><host>198.51.100.7</host><port>80/tcp</port><nvt><name>x</name><cve>CVE-2014-0160</cve></nvt><threat>High</threat></result></results></report></report>`)
	f.Add(`<report><results><result><host>a</host><severity>-1</severity></result></results></report>`)
	f.Add(`<get_reports_response><report><report><results><result><host>h.example</host><port>general/icmp</port><name>n</name><severity>11</severity></result></results></report></report></get_reports_response>`)
	f.Fuzz(func(t *testing.T, body string) {
		rows, bad, err := ParseScanReport(FormatOpenVAS, strings.NewReader(body))
		if err != nil {
			if !errors.Is(err, ErrBrokenReport) || len(rows) != 0 || len(bad) != 0 {
				t.Fatalf("error %v with %d rows", err, len(rows))
			}
			return
		}
		for _, r := range rows {
			if r.Name == "" || r.Host == "" || r.Port < 0 || r.Port > 65535 || !contains(Severities, r.Severity) || r.Line < 1 {
				t.Fatalf("invalid row kept: %+v", r)
			}
			if r.CVE != "" && !validCVE(r.CVE) {
				t.Fatalf("bad CVE kept: %+v", r)
			}
		}
		for _, e := range bad {
			if e.Line < 1 || e.Field == "" || e.Msg == "" {
				t.Fatalf("bad row error %+v", e)
			}
		}
	})
}
