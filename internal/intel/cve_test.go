package intel

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestImportNVDAndKEV(t *testing.T) {
	nvd := testkit.SharedData(t, "nvd/cves-2023.json")
	one := testkit.SharedData(t, "nvd/cves-CVE-2023-0001.json")
	kev := testkit.SharedData(t, "kev/known_exploited_vulnerabilities.json")
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		imp := func(fn func(context.Context, policy.Actor, *os.File) (CVEImportResult, error), a policy.Actor, path string) (CVEImportResult, error) {
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			return fn(ctx, a, file)
		}
		nvdFn := func(ctx context.Context, a policy.Actor, r *os.File) (CVEImportResult, error) {
			return f.s.ImportNVD(ctx, a, r, nil)
		}
		kevFn := func(ctx context.Context, a policy.Actor, r *os.File) (CVEImportResult, error) {
			return f.s.ImportKEV(ctx, a, r, nil)
		}

		// A province may not load the network's CVE table.
		if _, err := imp(nvdFn, f.actor(f.hn, policy.RoleAdmin), one); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("province imports NVD: %v", err)
		}
		nat := f.actor(f.national, policy.RoleAnalyst)
		res, err := imp(nvdFn, nat, nvd)
		if err != nil || res.Total != 200 || res.Accepted != 200 || res.Rejected != 0 {
			t.Fatalf("nvd: %+v %v", res, err)
		}
		if _, err := imp(nvdFn, nat, one); err != nil {
			t.Fatal(err)
		}
		res, err = imp(kevFn, nat, kev)
		if err != nil || res.Total != 1404 || res.Accepted != 1404 {
			t.Fatalf("kev: %+v %v", res, err)
		}
		// Importing again changes nothing (upsert).
		if _, err := imp(kevFn, nat, kev); err != nil {
			t.Fatal(err)
		}
		if n := f.count("cves"); n != 200+1+1404-1 {
			t.Fatalf("cves: %d", n)
		}
		got, err := f.s.CVEInfo(ctx, f.actor(f.hnm, policy.RoleViewer), []string{"CVE-2023-0001", "CVE-2022-23748", "CVE-2025-48384", "CVE-1999-0001"})
		if err != nil {
			t.Fatal(err)
		}
		if c := got["CVE-2023-0001"]; c.Score != 6.7 || c.Severity != "MEDIUM" || c.Vector != "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" ||
			c.KEV || !c.InNVD || c.Published.Format("2006-01-02T15:04:05.000") != "2023-02-08T18:15:11.523" {
			t.Fatalf("CVE-2023-0001: %+v", c)
		}
		if c := got["CVE-2022-23748"]; !c.KEV || !c.InNVD || c.Score == 0 || c.KEVDue == "" || !strings.Contains(c.Description, "Audinate") && c.Description == "" {
			t.Fatalf("CVE-2022-23748 (NVD and KEV): %+v", c)
		}
		if c := got["CVE-2025-48384"]; !c.KEV || c.InNVD || c.KEVDue != "2025-09-15" || c.KEVName != "Git Link Following Vulnerability" {
			t.Fatalf("CVE-2025-48384 (KEV only): %+v", c)
		}
		if _, ok := got["CVE-1999-0001"]; ok {
			t.Fatal("unknown CVE answered")
		}
		// The wrong file for the format is refused with a clear error.
		if _, err := imp(nvdFn, nat, kev); !fieldErr(err, "file") {
			t.Fatalf("KEV as NVD: %v", err)
		}
		f.verifyAudit()
	})
}

func TestParseNVDRecordErrors(t *testing.T) {
	doc := `{"format":"NVD_CVE","vulnerabilities":[{"cve":{"id":"CVE-2023-1","published":"2023-01-01T00:00:00.000"}},
		{"cve":{"id":"CVE-2023-12345","published":"yesterday"}},{"nocve":1},
		{"cve":{"id":"cve-2023-0002","metrics":{"cvssMetricV31":[{"type":"Secondary","cvssData":{"baseScore":5,"baseSeverity":"MEDIUM","vectorString":"v2"}},
		{"type":"Primary","cvssData":{"baseScore":9.8,"baseSeverity":"CRITICAL","vectorString":"v1"}}]}}},
		{"cve":{"id":"CVE-2023-0003","metrics":{"cvssMetricV31":[{"cvssData":{"baseScore":11}}]}}}]}`
	var ok []CVE
	var bad []RecordError
	if err := ParseNVD(strings.NewReader(doc), func(c CVE) error { ok = append(ok, c); return nil }, func(e RecordError) { bad = append(bad, e) }); err != nil {
		t.Fatal(err)
	}
	if len(ok) != 1 || ok[0].ID != "CVE-2023-0002" || ok[0].Score != 9.8 || ok[0].Vector != "v1" {
		t.Fatalf("accepted %+v", ok)
	}
	if len(bad) != 4 || bad[0].Index != 0 || bad[1].ID != "CVE-2023-12345" || bad[2].Index != 2 || bad[3].Index != 4 {
		t.Fatalf("refused %+v", bad)
	}
	for _, in := range []string{`[]`, `{"vulnerabilities":{}}`, `{"x":1}`, `{"vulnerabilities":[{"cve":{"id":"CVE-2023-0001"}}`} {
		if err := ParseNVD(strings.NewReader(in), func(CVE) error { return nil }, func(RecordError) {}); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
	if err := ParseKEV(strings.NewReader(`{"count":0}`), func(CVE) error { return nil }, func(RecordError) {}); !errors.Is(err, ErrNotKEV) {
		t.Fatalf("empty KEV: %v", err)
	}
}

func fuzzCVEParser(f *testing.F, parse func(r *bytes.Reader, fn func(CVE) error, bad func(RecordError)) error, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parse(bytes.NewReader(data), func(c CVE) error {
			if _, ok := NormaliseCVE(c.ID); !ok {
				t.Fatalf("accepted a bad id %q", c.ID)
			}
			if c.Score < 0 || c.Score > 10 {
				t.Fatalf("score %v", c.Score)
			}
			return nil
		}, func(RecordError) {})
	})
}

func FuzzParseNVD(f *testing.F) {
	fuzzCVEParser(f, func(r *bytes.Reader, fn func(CVE) error, bad func(RecordError)) error { return ParseNVD(r, fn, bad) },
		`{"vulnerabilities":[{"cve":{"id":"CVE-2023-0001","published":"2023-02-08T18:15:11.523","metrics":{"cvssMetricV31":[{"type":"Primary","cvssData":{"baseScore":6.7,"baseSeverity":"MEDIUM","vectorString":"CVSS:3.1/AV:L"}}]}}}]}`,
		`{"vulnerabilities":[{"cve":{"id":"CVE-2023-0001","metrics":{"cvssMetricV30":[{"cvssData":{"baseScore":-1}}]}}}]}`)
}

func FuzzParseKEV(f *testing.F) {
	fuzzCVEParser(f, func(r *bytes.Reader, fn func(CVE) error, bad func(RecordError)) error { return ParseKEV(r, fn, bad) },
		`{"title":"x","vulnerabilities":[{"cveID":"CVE-2025-48384","dateAdded":"2025-08-25","dueDate":"2025-09-15","vulnerabilityName":"Git"}]}`,
		`{"vulnerabilities":[{"cveID":"CVE-2025-1","dueDate":"soon"}]}`)
}
