package infosys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

const scanCSV = `severity,host,port,name,cve,cvss,description,solution,detected_at
high,203.0.113.10,443/tcp,OpenSSL heap overflow,CVE-2022-3602,7.5,Overflow,Upgrade OpenSSL,2026-11-20 10:00:00
,his.benhvien.vn,80,Directory listing,,5.3,,Disable listing,2026-11-20
critical,203.0.113.10,general/tcp,Unsupported OS,,,,,2026-11-21T09:00:00+07:00
high,203.0.113.11,99999,Bad port,,,,,
urgent,203.0.113.12,22,Bad severity,,,,,
high,203.0.113.10,443/tcp,OpenSSL heap overflow (again),CVE-2022-3602,7.5,,,2026-11-20 10:00:00
`

func countFindings(t *testing.T, db *store.DB) (findings, scans int) {
	t.Helper()
	ctx := context.Background()
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_findings").Scan(&findings); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_activities WHERE kind = 'scan'").Scan(&scans); err != nil {
		t.Fatal(err)
	}
	return
}

func TestFindings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "Cổng thông tin", Sector: "health",
			DataKind: DataPublic, Addresses: []string{"203.0.113.10"}})
		if err != nil {
			t.Fatal(err)
		}

		// A broken file is refused whole: nothing written, not even the scan.
		for _, c := range []struct{ format, body string }{
			{FormatCSV, "host,port\n1.2.3.4,80\n"},                          // no name column
			{FormatCSV, "host,name,severity\n1.2.3.4,\"x,high\n"},           // broken quote
			{FormatJSON, `[{"host":"1.2.3.4","name":"x","severity":"high"`}, // cut short
			{"xml", "<report/>"},
		} {
			_, err := f.s.ImportFindings(ctx, owner, sys.ID, c.format, strings.NewReader(c.body))
			wantField(t, err, "file")
			if n, s := countFindings(t, db); n != 0 || s != 0 {
				t.Fatalf("%s %q: %d findings and %d scans written", c.format, c.body, n, s)
			}
		}
		// Someone outside the owner's scope does not see the system.
		_, err = f.s.ImportFindings(ctx, f.actor(f.dn, policy.RoleAdmin), sys.ID, FormatCSV, strings.NewReader(scanCSV))
		wantKind(t, err, errs.KindNotFound)
		_, err = f.s.ImportFindings(ctx, f.actor(f.hosp, policy.RoleAnalyst), sys.ID, FormatCSV, strings.NewReader(scanCSV))
		if err == nil {
			t.Fatal("an analyst imported findings")
		}

		res, err := f.s.ImportFindings(ctx, owner, sys.ID, FormatCSV, strings.NewReader(scanCSV))
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 3 || res.Updated != 0 || len(res.Errors) != 2 || res.Errors[0].Line != 5 || res.Errors[0].Field != "port" ||
			res.Errors[1].Line != 6 || res.Errors[1].Field != "severity" {
			t.Fatalf("import %+v", res)
		}
		list, err := f.s.Findings(ctx, owner, sys.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].Severity != SevCritical || list[0].Port != 0 || list[1].CVE != "CVE-2022-3602" || list[1].Port != 443 ||
			list[2].Severity != SevMedium || list[2].Host != "his.benhvien.vn" {
			t.Fatalf("findings %+v", list)
		}
		// The import is a scan done when the latest finding was detected.
		_, _, dues, err := f.s.Detail(ctx, owner, sys.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantLast := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
		for _, d := range dues {
			if d.Kind == KindScan && (!d.Last.Equal(wantLast) || d.State != DueOK) {
				t.Fatalf("scan due %+v", d)
			}
		}
		open, err := f.s.OpenFindings(ctx, owner, sys.ID)
		if err != nil || open[SevCritical] != 1 || open[SevHigh] != 1 || open[SevMedium] != 1 {
			t.Fatalf("open %v %v", open, err)
		}

		// Transitions: a note is needed to accept a risk; fixed cannot go
		// to in progress; who and when are kept.
		ssl := list[1]
		_, err = f.s.SetFindingStatus(ctx, owner, ssl.ID, FindingAccepted, "  ")
		wantField(t, err, "note")
		_, err = f.s.SetFindingStatus(ctx, owner, ssl.ID, "closed", "")
		wantField(t, err, "status")
		f.clock.Advance(time.Hour)
		got, err := f.s.SetFindingStatus(ctx, owner, ssl.ID, FindingFixed, "Đã nâng cấp OpenSSL 3.0.7")
		if err != nil || got.Status != FindingFixed || got.StatusBy != owner.UserID || !got.StatusAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("fixed %+v %v", got, err)
		}
		_, err = f.s.SetFindingStatus(ctx, owner, ssl.ID, FindingInProgress, "")
		wantField(t, err, "status")
		fp := list[2]
		if _, err := f.s.SetFindingStatus(ctx, owner, fp.ID, FindingFalsePositive, "Thư mục công khai theo thiết kế"); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.SetFindingStatus(ctx, f.actor(f.dn, policy.RoleAdmin), fp.ID, FindingOpen, "")
		wantKind(t, err, errs.KindNotFound)

		// A second scan (JSON): the fixed finding is seen again and reopens,
		// the false positive stays, one new finding; nothing duplicated.
		f.clock.Advance(24 * time.Hour)
		res, err = f.s.ImportFindings(ctx, owner, sys.ID, FormatJSON, strings.NewReader(`[
 {"host":"203.0.113.10","port":443,"name":"OpenSSL","cve":"cve-2022-3602","cvss":7.5},
 {"host":"HIS.benhvien.vn.","port":"80/tcp","name":"directory LISTING","severity":"medium"},
 {"host":"203.0.113.10","port":25,"name":"Open relay","severity":"low"},
 {"host":"203.0.113.10","name":["x"],"severity":"low"}
]`))
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 1 || res.Updated != 1 || res.Reopened != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 4 {
			t.Fatalf("second import %+v", res)
		}
		if n, s := countFindings(t, db); n != 4 || s != 2 {
			t.Fatalf("%d findings, %d scans", n, s)
		}
		open, _ = f.s.OpenFindings(ctx, owner, sys.ID)
		if open[SevHigh] != 1 || open[SevMedium] != 0 || open[SevLow] != 1 {
			t.Fatalf("open after second scan %v", open)
		}
		fps, err := f.s.Findings(ctx, f.actor(f.hn, policy.RoleAnalyst), sys.ID, FindingFalsePositive)
		if err != nil || len(fps) != 1 || fps[0].StatusNote == "" {
			t.Fatalf("false positives %+v %v", fps, err)
		}
	})
}

func TestParseScanReport(t *testing.T) {
	rows, bad, err := ParseScanReport(FormatCSV, strings.NewReader("\xef\xbb\xbfHost,Name,CVSS\n10.0.0.1,A,9.8\n10.0.0.1,B,0\n\n10.0.0.1,C,11\n"))
	if err != nil || len(rows) != 2 || rows[0].Severity != SevCritical || rows[1].Severity != SevInfo || len(bad) != 1 || bad[0].Line != 5 {
		t.Fatalf("rows %+v bad %+v err %v", rows, bad, err)
	}
	for _, c := range []struct{ format, body string }{
		{FormatCSV, ""}, {FormatCSV, "host,name\n"}, {FormatJSON, `{"host":"x"}`}, {FormatJSON, ""},
		{FormatCSV, strings.Repeat("a", MaxScanReport+1)},
	} {
		if _, _, err := ParseScanReport(c.format, strings.NewReader(c.body)); !errors.Is(err, ErrBrokenReport) {
			t.Errorf("%s %.40q: %v", c.format, c.body, err)
		}
	}
}

// FuzzScanReport: the parsers never panic; every kept row is valid and
// every refused row has a line within the file.
func FuzzScanReport(f *testing.F) {
	f.Add(FormatCSV, scanCSV)
	f.Add(FormatJSON, `[{"host":"203.0.113.10","port":443,"name":"x","cve":"CVE-2024-12345","severity":"high","detected_at":"2026-01-02"}]`)
	for _, name := range []string{"scan.csv", "scan.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "findings", name)); err == nil {
			f.Add(strings.TrimPrefix(filepath.Ext(name), "."), string(b))
		}
	}
	f.Fuzz(func(t *testing.T, format, body string) {
		rows, bad, err := ParseScanReport(format, strings.NewReader(body))
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
				t.Fatalf("row error %+v", e)
			}
		}
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
