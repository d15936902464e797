package org

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

const goodOrgsCSV = "\ufeffCode,Name,Name_EN,parent_code,roles,province_code,sector,intake_email,require_mfa\n" +
	"SOCHN,Trung tâm Giám sát Hà Nội,Hanoi SOC,HN,provincial_soc,HN,,soc@hanoi.gov.vn,có\n" +
	"SOCHN-1,Phòng Giám sát số 1,,SOCHN,system_owner;voluntary_member,HN,,,\n" +
	"EVN,CERT Điện lực,Power CERT,VNCERT,sector_cert,,energy,,no\n"

func TestImportOrgsCSV(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		n0 := f.auditCount()
		var progress []int
		rep, err := f.s.Import(ctx, f.sys, strings.NewReader(goodOrgsCSV), ImportOptions{Kind: "orgs",
			Progress: func(done, total int) { progress = append(progress, done, total) }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 3 || rep.Imported != 3 || rep.Skipped != 0 || len(rep.Errors) != 0 {
			t.Fatalf("report: %+v", rep)
		}
		if fmt.Sprint(progress) != "[0 3 3 3]" {
			t.Errorf("progress: %v", progress)
		}
		child, err := f.s.GetByCode(ctx, f.sys, "SOCHN-1")
		if err != nil {
			t.Fatal(err)
		}
		parent, _ := f.s.GetByCode(ctx, f.sys, "SOCHN")
		if child.ParentID != parent.ID || len(child.Roles) != 2 || !parent.RequireMFA || !parent.Active || parent.NameEN != "Hanoi SOC" {
			t.Errorf("imported: %+v / %+v", child, parent)
		}
		if n := f.auditCount(); n != n0+3 {
			t.Errorf("audit entries: %d, want 3", n-n0)
		}
		// The scope of Hà Nội now holds the imported organisations.
		if sc, _ := f.s.ScopeOf(ctx, f.hn.ID); !sc.Contains(child.ID) {
			t.Error("hierarchy not refreshed after import")
		}
		f.verifyAudit()
	})
}

func TestImportBadRow(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		csv := "code,name,parent_code,roles,intake_email,address\n" +
			"A1,Đơn vị A1,HN,system_owner,,\n" +
			"\n" +
			"A2,Đơn vị A2,NOPE,system_owner,,\n" + // line 4: unknown parent
			"A3,\"Đơn vị, A3\",HN,pirate,bad-email,\"Số 1\nTràng Tiền\"\n" + // line 5 (and 6): two bad fields
			"A4,Đơn vị A4,A1,system_owner,,\n" + // refers to a row above
			"HN,Trùng mã,,system_owner,,\n" // line 8: code taken
		n0 := f.auditCount()
		rep, err := f.s.Import(ctx, f.sys, strings.NewReader(csv), ImportOptions{Kind: "orgs"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 5 || rep.Imported != 0 || rep.Skipped != 3 {
			t.Errorf("report: %+v", rep)
		}
		got := map[string]bool{}
		for _, e := range rep.Errors {
			got[fmt.Sprintf("%d:%s:%s", e.Row, e.Field, e.Msg.Key)] = true
		}
		for _, want := range []string{"4:parent_code:org.import.parent_not_found", "5:roles:org.err.role_unknown",
			"5:intake_email:field.invalid_email", "8:code:org.err.code_taken"} {
			if !got[want] {
				t.Errorf("missing row error %s in %v", want, got)
			}
		}
		if _, err := f.s.GetByCode(ctx, f.sys, "A1"); !errs.Is(err, errs.KindNotFound) {
			t.Error("a good row was written although another was bad")
		}
		if f.auditCount() != n0 {
			t.Error("audit entries written for a refused import")
		}

		// Dry run: nothing written, the good rows counted.
		rep, err = f.s.Import(ctx, f.sys, strings.NewReader(csv), ImportOptions{Kind: "orgs", DryRun: true, SkipBad: true})
		if err != nil || rep.Imported != 2 || rep.Skipped != 3 {
			t.Errorf("dry run: %+v %v", rep, err)
		}
		if _, err := f.s.GetByCode(ctx, f.sys, "A1"); !errs.Is(err, errs.KindNotFound) {
			t.Error("dry run wrote")
		}

		// Skip bad: the good rows are written, the bad ones listed.
		rep, err = f.s.Import(ctx, f.sys, strings.NewReader(csv), ImportOptions{Kind: "orgs", SkipBad: true})
		if err != nil || rep.Imported != 2 || rep.Skipped != 3 || len(rep.Errors) != 4 {
			t.Fatalf("skip bad: %+v %v", rep, err)
		}
		a4, err := f.s.GetByCode(ctx, f.sys, "A4")
		a1, _ := f.s.GetByCode(ctx, f.sys, "A1")
		if err != nil || a4.ParentID != a1.ID {
			t.Errorf("A4: %+v %v", a4, err)
		}
		if n := f.auditCount(); n != n0+2 {
			t.Errorf("audit entries: %d, want 2", n-n0)
		}
		f.verifyAudit()
	})
}

func TestImportFileProblems(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		cases := []struct {
			name, data, kind, format string
			errKind                  errs.Kind
			key                      string
		}{
			{"unknown column", "code,name,roles,colour\nX,Y,isp,red\n", "orgs", "", errs.KindInvalid, "org.import.unknown_column"},
			{"duplicate column", "code,name,roles,Name\nX,Y,isp,Z\n", "orgs", "", errs.KindInvalid, "org.import.duplicate_column"},
			{"missing column", "code,roles\nX,isp\n", "orgs", "", errs.KindInvalid, "org.import.missing_column"},
			{"empty", "\n\n", "ranges", "", errs.KindInvalid, "org.import.empty"},
			{"bad kind", "a\n", "people", "", errs.KindInvalid, "field.invalid_choice"},
			{"bad format", "a\n", "orgs", "ods", errs.KindInvalid, "field.invalid_choice"},
			{"not utf-8", "code,name,roles\nX,\xff\xfe,isp\n", "orgs", "", errs.KindInvalid, "org.import.not_utf8"},
			{"not a workbook", "PK\x03\x04garbage", "orgs", "", errs.KindInvalid, "org.import.bad_xlsx"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.s.Import(ctx, f.sys, strings.NewReader(c.data), ImportOptions{Kind: c.kind, Format: c.format})
				e, ok := errs.As(err)
				if !ok || e.Kind != c.errKind {
					t.Fatalf("got %v", err)
				}
				found := false
				for _, m := range e.Fields {
					found = found || m.Key == c.key
				}
				if !found {
					t.Errorf("got %v, want %s", err, c.key)
				}
			})
		}
		rep, err := f.s.Import(ctx, f.sys, strings.NewReader("code,name,roles,colour\nX,Y,isp,red\n"), ImportOptions{Kind: "orgs"})
		if err == nil || len(rep.Errors) != 1 || rep.Errors[0].Row != 1 || rep.Errors[0].Field != "colour" {
			t.Errorf("unknown column report: %+v %v", rep, err)
		}
		// Too large.
		big := strings.NewReader(strings.Repeat("x", MaxImportBytes+10))
		if _, err := f.s.Import(ctx, f.sys, big, ImportOptions{Kind: "orgs"}); !errs.Is(err, errs.KindTooLarge) {
			t.Errorf("too large: %v", err)
		}
		// A value under no column is a bad row.
		rep, err = f.s.Import(ctx, f.sys, strings.NewReader("org_code,value\nHN,198.51.100.0/24,extra\n"), ImportOptions{Kind: "ranges"})
		if err != nil || len(rep.Errors) != 1 || rep.Errors[0].Msg.Key != "org.import.extra_value" {
			t.Errorf("extra value: %+v %v", rep, err)
		}
	})
}

func TestImportContactsAndRanges(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		contacts := "org_code;kind;name;title;email;phone;phone_247\n" +
			"hn;primary;Nguyễn Văn A;Trưởng phòng;a@hanoi.gov.vn;024 3640 4424;0912 345 678\n" +
			"HN;backup;Trần Thị B;;b@hanoi.gov.vn;;\n" +
			"NOPE;primary;X;;x@x.vn;;\n" +
			"ISP;boss;Y;;y@y.vn;;\n"
		rep, err := f.s.Import(ctx, f.sys, strings.NewReader(contacts), ImportOptions{Kind: "contacts", SkipBad: true})
		if err != nil || rep.Imported != 2 || rep.Skipped != 2 {
			t.Fatalf("contacts: %+v %v", rep, err)
		}
		if rep.Errors[0].Row != 4 || rep.Errors[0].Field != "org_code" || rep.Errors[1].Field != "kind" {
			t.Errorf("contact errors: %+v", rep.Errors)
		}
		cs, _ := f.s.Contacts(ctx, f.sys, f.hn.ID)
		if len(cs) != 2 || cs[0].Kind != "primary" || cs[0].Phone247 != "0912 345 678" {
			t.Errorf("contacts: %+v", cs)
		}
		ranges := "org_code\tvalue\tnote\n" +
			"ISP\t203.0.113.0/24\tkhối A\n" +
			"ISP\t198.51.100.9\t\n" +
			"ISP\tAS64500\t\n" +
			"HN\thanoi.gov.vn\t\n" +
			"HN\t2001:db8::/32\t\n" +
			"HN\t203.0.113.128/25\t\n" + // line 7: ISP's range
			"HN\t10.0.0.0/33\t\n" + // line 8
			"HN\tAS64500\t\n" + // line 9: ISP's AS
			"HN\tnot a thing\t\n" // line 10
		rep, err = f.s.Import(ctx, f.sys, strings.NewReader(ranges), ImportOptions{Kind: "ranges"})
		if err != nil || rep.Imported != 0 || rep.Skipped != 4 {
			t.Fatalf("ranges without skip: %+v %v", rep, err)
		}
		want := []string{"7:value:org.err.range_overlaps_other", "8:value:org.err.cidr_format",
			"9:value:org.err.asn_taken_other", "10:value:org.err.domain_format"}
		for i, e := range rep.Errors {
			if got := fmt.Sprintf("%d:%s:%s", e.Row, e.Field, e.Msg.Key); i >= len(want) || got != want[i] {
				t.Errorf("range error %d: %s", i, got)
			}
		}
		rep, err = f.s.Import(ctx, f.sys, strings.NewReader(ranges), ImportOptions{Kind: "ranges", SkipBad: true})
		if err != nil || rep.Imported != 5 {
			t.Fatalf("ranges: %+v %v", rep, err)
		}
		for q, owner := range map[string]string{"203.0.113.5": "ISP", "198.51.100.9": "ISP", "AS64500": "ISP",
			"www.hanoi.gov.vn": "HN", "2001:db8::1": "HN"} {
			if res, err := f.s.Whois(ctx, f.sys, q); err != nil || res.Org.Code != owner {
				t.Errorf("whois %s after import: %v %v", q, res.Org.Code, err)
			}
		}
		// The member admin may import only into its own subtree.
		hnAdmin := f.actor(f.hn, policy.RoleAdmin)
		rep, err = f.s.Import(ctx, hnAdmin, strings.NewReader("org_code,value\nHNIOC,192.0.2.0/26\nBANK,192.0.2.64/26\n"),
			ImportOptions{Kind: "ranges", SkipBad: true})
		if err != nil || rep.Imported != 1 || len(rep.Errors) != 1 || rep.Errors[0].Msg.Key != "org.import.forbidden" {
			t.Errorf("member admin import: %+v %v", rep, err)
		}
		f.verifyAudit()
	})
}

func TestImportXLSX(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		x := excelize.NewFile()
		defer x.Close()
		sheet := x.GetSheetName(0)
		rows := [][]any{
			{"CODE", "Name", "Roles", "Parent Code", "Province_Code", "Require_MFA"},
			{"XL1", "Sở Tài chính Hà Nội", "system_owner", "HN", "HN", true},
			{},
			{"XL2", "Đơn vị XL2", "isp;voluntary_member", "XL1", "", "x"},
			{"XL3", "Đơn vị XL3", "isp", "", "ZZ", ""}, // row 5: unknown province
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := x.SetSheetRow(sheet, cell, &r); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		rep, err := f.s.Import(ctx, f.sys, bytes.NewReader(data), ImportOptions{Kind: "orgs"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 3 || rep.Imported != 0 || len(rep.Errors) != 1 || rep.Errors[0].Row != 5 ||
			rep.Errors[0].Field != "province_code" {
			t.Fatalf("xlsx with a bad row: %+v", rep)
		}
		rep, err = f.s.Import(ctx, f.sys, bytes.NewReader(data), ImportOptions{Kind: "orgs", Format: "xlsx", SkipBad: true})
		if err != nil || rep.Imported != 2 {
			t.Fatalf("xlsx: %+v %v", rep, err)
		}
		xl2, err := f.s.GetByCode(ctx, f.sys, "XL2")
		if err != nil || xl2.ParentName != "Sở Tài chính Hà Nội" || !xl2.RequireMFA || len(xl2.Roles) != 2 {
			t.Errorf("XL2: %+v %v", xl2, err)
		}
		xl1, _ := f.s.GetByCode(ctx, f.sys, "XL1")
		if !xl1.RequireMFA || xl1.ParentID != f.hn.ID {
			t.Errorf("XL1: %+v", xl1)
		}
	})
}
