package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"certnet/internal/infosys"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// infosysKey marks the demo's information systems as seeded.
const infosysKey = "demo.infosys"

// SeedInfosys adds, once and after Seed, the information systems of the
// demo's members (issue 6): the Sông Lam hospital's HIS at level 3
// (approved 13 months ago: its yearly assessment is overdue) with scan
// findings and its PACS in draft; Kim Long bank's e-banking at level 4
// waiting for the national appraisal and its payment gateway appraised
// and waiting for approval past 7 working days; the Đình Vũ port
// authority's vessel system at level 3 and its public-service portal
// returned with the appraiser's comments; Đà Nẵng's IOC platform at level 3
// with its 6-monthly assessment overdue; Phú Quốc's IOC not yet
// classified; a ward portal at level 1; the national coordination system
// at level 5. Past steps are recorded at their own dates (a service on a
// clock set back). It returns how many systems it added (0 when they were
// there already or the organisations are missing).
func SeedInfosys(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	ids := map[string]int64{}
	for _, code := range []string{"DPQG", "NAN-BVSL", "NH-KIMLONG", "HPG-CVDV", "DNG-IOC", "AGG-IOCPQ", "HUE-PTAT", "NAN-UCSC"} {
		var id int64
		err := db.QueryRow(ctx, "SELECT id FROM organisations WHERE code = ?", code).Scan(&id)
		if store.IsNoRows(err) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		ids[code] = id
	}
	claimed, err := claimOnce(ctx, db, infosysKey, now)
	if err != nil || !claimed {
		return 0, err
	}
	sys := policy.SystemActor("demo")
	at := func(t time.Time) *infosys.Service { return infosys.NewService(db, func() time.Time { return t }, nil) }
	ago := func(months, days int) time.Time { return now.AddDate(0, -months, -days) }
	plan := map[string]string{}
	for _, k := range infosys.PlanSections {
		plan[k] = "Theo phương án bảo đảm an toàn hệ thống thông tin đã lập (mục " + k + ")."
	}
	type spec struct {
		in      infosys.SystemInput
		answers infosys.Answers
		steps   []infosys.Step // the workflow steps taken, from draft
		start   time.Time      // when the dossier was drafted; each step a week later
		comment string         // the return's comment
		ref     string         // the level-5 decision
	}
	specs := []spec{
		{in: infosys.SystemInput{OwnerOrgID: ids["NAN-BVSL"], Name: "Hệ thống thông tin bệnh viện (HIS)", Purpose: "Quản lý khám chữa bệnh, hồ sơ bệnh án điện tử",
			Sector: "health", DataKind: infosys.DataPersonal, PersonalCount: 450_000, PublicServiceLevel: 2, Users: 1_800,
			Addresses: []string{"198.51.100.70", "198.51.100.71"}, Domains: []string{"his.bvsonglam.vn.example"}, Providers: "Viễn thông Sao Mai (kết nối), An ninh mạng Lạc Hồng (SOC)",
			Components: "Ubuntu 22.04, PostgreSQL 15, nginx, OpenSSH", PlanDeployed: true},
			answers: infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 450_000, PublicServiceLevel: 2, Harm: infosys.HarmOrg},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepAppraise, infosys.StepApprove}, start: ago(14, 0)},
		{in: infosys.SystemInput{OwnerOrgID: ids["NAN-BVSL"], Name: "Hệ thống lưu trữ và truyền hình ảnh (PACS)", Purpose: "Lưu trữ ảnh chẩn đoán",
			Sector: "health", DataKind: infosys.DataPersonal, PersonalCount: 120_000, Users: 300, Addresses: []string{"198.51.100.72"}},
			answers: infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 120_000, Harm: infosys.HarmOrg},
			start:   ago(0, 5)},
		{in: infosys.SystemInput{OwnerOrgID: ids["NH-KIMLONG"], Name: "Ngân hàng điện tử Kim Long", Purpose: "Dịch vụ ngân hàng trực tuyến cho khách hàng cá nhân",
			Sector: "banking", DataKind: infosys.DataPersonal, PersonalCount: 2_300_000, Users: 2_300_000, Addresses: []string{"198.51.100.10"},
			Domains: []string{"ebank.kimlongbank.vn.example"}, PlanDeployed: true},
			answers: infosys.Answers{Scope: infosys.ScopeNational, Always24x7: true, DataKind: infosys.DataPersonal, PersonalCount: 2_300_000, Harm: infosys.HarmSerious},
			steps:   []infosys.Step{infosys.StepSubmit}, start: ago(0, 20)},
		{in: infosys.SystemInput{OwnerOrgID: ids["NH-KIMLONG"], Name: "Cổng thanh toán Kim Long Pay", Purpose: "Thanh toán trực tuyến cho đơn vị chấp nhận thẻ",
			Sector: "banking", DataKind: infosys.DataPersonal, PersonalCount: 80_000, Users: 80_000, Addresses: []string{"198.51.100.11"}},
			answers: infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 80_000, Harm: infosys.HarmOrg},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepAppraise}, start: ago(1, 0)},
		{in: infosys.SystemInput{OwnerOrgID: ids["HPG-CVDV"], Name: "Hệ thống quản lý tàu thuyền ra vào cảng", Purpose: "Cấp phép, theo dõi tàu thuyền",
			Sector: "transport", DataKind: infosys.DataPersonal, PersonalCount: 25_000, Users: 400, Addresses: []string{"198.51.100.100"}, PlanDeployed: true},
			answers: infosys.Answers{Scope: infosys.ScopeShared, DataKind: infosys.DataPersonal, PersonalCount: 25_000, Harm: infosys.HarmSerious},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepAppraise, infosys.StepApprove}, start: ago(5, 0)},
		{in: infosys.SystemInput{OwnerOrgID: ids["HPG-CVDV"], Name: "Cổng dịch vụ công Cảng vụ", Purpose: "Thủ tục hành chính hàng hải trực tuyến",
			Sector: "transport", DataKind: infosys.DataPersonal, PersonalCount: 12_000, PublicServiceLevel: 4, Users: 12_000, Addresses: []string{"198.51.100.101"}},
			answers: infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 12_000, PublicServiceLevel: 4, Harm: infosys.HarmOrg},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepReturn}, start: ago(0, 25),
			comment: "Bổ sung phương án sao lưu, khôi phục và kết quả kiểm tra đánh giá gần nhất."},
		{in: infosys.SystemInput{OwnerOrgID: ids["DNG-IOC"], Name: "Nền tảng IOC thành phố Đà Nẵng", Purpose: "Giám sát, điều hành đô thị thông minh",
			IOC: infosys.IOCProvincial, DataKind: infosys.DataPersonal, PersonalCount: 1_200_000, Users: 600, Addresses: []string{"198.51.100.130"}, PlanDeployed: true},
			answers: infosys.Answers{Scope: infosys.ScopeShared, DataKind: infosys.DataPersonal, PersonalCount: 1_200_000, Harm: infosys.HarmSerious},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepAppraise, infosys.StepApprove}, start: ago(9, 0)},
		{in: infosys.SystemInput{OwnerOrgID: ids["AGG-IOCPQ"], Name: "Nền tảng IOC đặc khu Phú Quốc", Purpose: "Điều hành thông minh đặc khu",
			IOC: infosys.IOCCity, DataKind: infosys.DataPersonal, PersonalCount: 150_000, Users: 120}},
		{in: infosys.SystemInput{OwnerOrgID: ids["HUE-PTAT"], Name: "Cổng thông tin điện tử phường Thuận An Tây", Purpose: "Tin tức, thông báo của phường",
			DataKind: infosys.DataPublic, Users: 20, Addresses: []string{"198.51.100.225"}, PlanDeployed: true},
			answers: infosys.Answers{Scope: infosys.ScopeInternal, DataKind: infosys.DataPublic, Harm: infosys.HarmMinor},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepAppraise, infosys.StepApprove}, start: ago(3, 0)},
		{in: infosys.SystemInput{OwnerOrgID: ids["DPQG"], Name: "Hệ thống điều phối ứng cứu sự cố quốc gia", Purpose: "Điều phối mạng lưới ứng cứu sự cố",
			DataKind: infosys.DataNational, Users: 5_000, Addresses: []string{"192.0.2.200"}, NationalCritical: true, PlanDeployed: true},
			answers: infosys.Answers{Scope: infosys.ScopeNational, Always24x7: true, DataKind: infosys.DataNational, Harm: infosys.HarmEspSerious},
			steps:   []infosys.Step{infosys.StepSubmit, infosys.StepAppraise, infosys.StepApprove}, start: ago(2, 0), ref: "QĐ 1234/QĐ-TTg"},
	}
	added := 0
	var his int64
	for i, sp := range specs {
		created := sp.start
		if created.IsZero() {
			created = ago(0, 3)
		}
		x, err := at(created).CreateSystem(ctx, sys, sp.in)
		if err != nil {
			return added, fmt.Errorf("demo system %s: %w", sp.in.Name, err)
		}
		added++
		if i == 0 {
			his = x.ID
		}
		if sp.start.IsZero() {
			continue
		}
		in := infosys.DossierInput{Answers: sp.answers, Overview: "Tổng quan hệ thống: " + sp.in.Purpose + ".",
			Design: "Thiết kế theo mô hình ba lớp, vùng DMZ tách biệt, sao lưu hằng ngày.", Plan: plan}
		if lv, _ := infosys.Propose(sp.answers); lv >= 4 {
			in.ExpertOpinion = "Hội đồng chuyên gia thống nhất đề xuất cấp độ " + fmt.Sprint(lv) + "."
		}
		d, err := at(sp.start).SaveDossier(ctx, sys, x.ID, 0, in)
		if err != nil {
			return added, fmt.Errorf("demo dossier %s: %w", sp.in.Name, err)
		}
		when := sp.start
		for _, st := range sp.steps {
			when = when.AddDate(0, 0, 7)
			if st == infosys.StepAppraise && i == 3 {
				when = ago(0, 20) // the payment gateway: appraised 20 days ago, not yet approved
			}
			comment, ref := "", ""
			switch st {
			case infosys.StepReturn:
				comment = sp.comment
			case infosys.StepAppraise:
				comment = "Hồ sơ đạt yêu cầu."
			case infosys.StepApprove:
				ref = sp.ref
			}
			if _, err := at(when).Move(ctx, sys, d.ID, st, comment, ref); err != nil {
				return added, fmt.Errorf("demo dossier %s %s: %w", sp.in.Name, st, err)
			}
		}
	}
	// The HIS: last year's assessment, a scan three months ago with its
	// findings, one of them already being fixed.
	if _, err := at(now).RecordActivity(ctx, sys, infosys.Activity{SystemID: his, Kind: infosys.KindAssessment, DoneOn: ago(13, 0),
		Performer: "Công ty Cổ phần An ninh mạng Lạc Hồng"}); err != nil {
		return added, fmt.Errorf("demo assessment: %w", err)
	}
	scan := strings.Join([]string{
		"host,port,name,cve,severity,cvss,solution,detected_at",
		"198.51.100.70,22/tcp,OpenSSH 8.9 < 9.3p2 Remote Code Execution,CVE-2023-38408,high,9.8,Nâng cấp OpenSSH lên 9.3p2," + ago(3, 0).Format(time.DateOnly),
		"198.51.100.70,443/tcp,TLS 1.0 và 1.1 còn bật,,medium,4.3,Tắt TLS 1.0/1.1," + ago(3, 0).Format(time.DateOnly),
		"198.51.100.71,5432/tcp,PostgreSQL mở ra Internet,,high,7.5,Chặn cổng 5432 tại tường lửa," + ago(3, 0).Format(time.DateOnly),
		"198.51.100.71,80/tcp,jQuery < 3.5.0 XSS,CVE-2020-11022,medium,6.1,Nâng cấp jQuery," + ago(3, 0).Format(time.DateOnly),
	}, "\n") + "\n"
	if _, err := at(ago(3, 0)).ImportFindings(ctx, sys, his, infosys.FormatCSV, strings.NewReader(scan)); err != nil {
		return added, fmt.Errorf("demo findings: %w", err)
	}
	fs, err := at(ago(2, 0)).Findings(ctx, sys, his, infosys.FindingOpen)
	if err != nil {
		return added, err
	}
	for _, f := range fs {
		if f.CVE == "CVE-2023-38408" {
			if _, err := at(ago(2, 0)).SetFindingStatus(ctx, sys, f.ID, infosys.FindingInProgress, "Đã lên lịch nâng cấp trong đợt bảo trì."); err != nil {
				return added, err
			}
		}
	}
	return added, nil
}
