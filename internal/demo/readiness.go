package demo

import (
	"context"
	"fmt"
	"time"

	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/store"
)

// readinessKey marks the demo's readiness records as seeded.
const readinessKey = "demo.readiness"

// SeedReadiness adds, once and after Seed, the national scenario catalogue
// (a ransomware scenario first) with Hà Nội's copies, Hà Nội's response team — short
// of five qualified experts (one certificate expired), with this week's
// rota leaving Wednesday night uncovered — two SIM3 self-assessments a year
// apart, last year's national drill Hà Nội took part in with its after-
// action notes, and a drill Hà Nội plans this year. It returns how many
// things it added (0 when they were there already or the organisations are
// missing).
func SeedReadiness(ctx context.Context, db *store.DB, rs *readiness.Service, now time.Time) (int, error) {
	ids := map[string]int64{}
	for _, code := range []string{"DPQG", "HNI-UCSC", "NAN-UCSC"} {
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
	claimed, err := claimOnce(ctx, db, readinessKey, now)
	if err != nil || !claimed {
		return 0, err
	}
	sys := policy.SystemActor("demo")
	hn := ids["HNI-UCSC"]
	added := 0
	team, err := rs.CreateTeam(ctx, sys, readiness.TeamInput{OrgID: hn, Name: "Đội ứng cứu sự cố thành phố Hà Nội",
		Description: "Đội ứng cứu sự cố an toàn thông tin mạng của thành phố, trực 24/7.", Phone: "+84 24 3825 0000",
		Email: "ucsc@hanoi.gov.vn"})
	if err != nil {
		return added, fmt.Errorf("demo team: %w", err)
	}
	added++
	people := []struct {
		name, title, cert string
		expires           time.Time
		ioc               string
	}{
		{"Nguyễn Minh Quân", "Đội trưởng", "CISSP", now.AddDate(2, 0, 0), ""},
		{"Trần Thu Hà", "Chuyên gia phân tích mã độc", "GREM", now.AddDate(1, 0, 0), readiness.IOCSecurity},
		{"Lê Đức Anh", "Chuyên gia điều tra số", "GCFA", now.AddDate(0, 0, 20), readiness.IOCSecurity},
		{"Phạm Ngọc Lan", "Chuyên gia ứng cứu", "GCIH", now.AddDate(1, 6, 0), ""},
		{"Vũ Hoàng Long", "Kỹ sư giám sát", "CEH", now.AddDate(0, -2, 0), readiness.IOCOperator},
		{"Đỗ Thị Mai", "Cán bộ vận hành IOC", "", time.Time{}, readiness.IOCOperator},
	}
	var pids []int64
	for i, p := range people {
		per, err := rs.CreatePerson(ctx, sys, readiness.PersonInput{OrgID: hn, FullName: p.name, Title: p.title, IOCRole: p.ioc,
			Skills: "Phân tích nhật ký, điều tra số, ứng cứu sự cố"})
		if err != nil {
			return added, fmt.Errorf("demo person: %w", err)
		}
		role := readiness.RoleExpert
		if i == 0 {
			role = readiness.RoleLead
		}
		if _, err := rs.AddMember(ctx, sys, team.ID, per.ID, role); err != nil {
			return added, fmt.Errorf("demo member: %w", err)
		}
		if p.cert != "" {
			if _, err := rs.AddCertificate(ctx, sys, per.ID, readiness.CertificateInput{Name: p.cert, Issuer: "ISC2/GIAC/EC-Council",
				ObtainedOn: now.AddDate(-3, 0, 0), ExpiresOn: p.expires}); err != nil {
				return added, fmt.Errorf("demo certificate: %w", err)
			}
		}
		if p.ioc == readiness.IOCSecurity || i == 5 {
			level := readiness.LevelBasic
			if p.ioc == readiness.IOCSecurity {
				level = readiness.LevelAdvanced
			}
			if _, err := rs.AddTraining(ctx, sys, per.ID, readiness.TrainingInput{Course: "Ứng cứu sự cố an toàn thông tin mạng",
				Provider: "Trung tâm Điều phối quốc gia", Level: level, FinishedOn: now.AddDate(0, -4, 0), Hours: 40}); err != nil {
				return added, fmt.Errorf("demo training: %w", err)
			}
		}
		pids = append(pids, per.ID)
		added++
	}
	// This week's rota: days 07–19, nights 19–07, Wednesday night uncovered.
	week := readiness.WeekStart(now)
	for d := range 7 {
		day := week.AddDate(0, 0, d)
		if _, err := rs.AddShift(ctx, sys, team.ID, readiness.ShiftInput{PersonID: pids[d%3], StartsAt: day.Add(7 * time.Hour),
			EndsAt: day.Add(19 * time.Hour)}); err != nil {
			return added, fmt.Errorf("demo shift: %w", err)
		}
		if d == 2 {
			continue
		}
		if _, err := rs.AddShift(ctx, sys, team.ID, readiness.ShiftInput{PersonID: pids[3+d%2], StartsAt: day.Add(19 * time.Hour),
			EndsAt: day.Add(31 * time.Hour)}); err != nil {
			return added, fmt.Errorf("demo shift: %w", err)
		}
	}
	// Night shift of the Sunday before, reaching into Monday morning.
	if _, err := rs.AddShift(ctx, sys, team.ID, readiness.ShiftInput{PersonID: pids[4], StartsAt: week.Add(-5 * time.Hour),
		EndsAt: week.Add(7 * time.Hour)}); err != nil {
		return added, fmt.Errorf("demo shift: %w", err)
	}
	added++
	for i, lv := range []int{1, 2} {
		scores := map[string]readiness.Sim3Score{}
		for j, p := range readiness.Sim3Params {
			l := lv + j%3 - 1
			if l < 0 {
				l = 0
			}
			scores[p.ID] = readiness.Sim3Score{Level: l, Evidence: "Quy chế hoạt động của Đội, Quyết định số 12/QĐ-UBND"}
		}
		if _, err := rs.Assess(ctx, sys, team.ID, readiness.Sim3Input{AssessedOn: now.AddDate(i-1, 0, -10),
			Assessor: "Nguyễn Minh Quân", Scores: scores}); err != nil {
			return added, fmt.Errorf("demo sim3: %w", err)
		}
		added++
	}
	// The national catalogue, and Hà Nội's copies ranked.
	var copies []readiness.Scenario
	for _, x := range []readiness.ScenarioInput{
		{Title: "Mã độc tống tiền mã hóa hệ thống thông tin", Category: readiness.CategoryAttack, Likelihood: 4, Impact: 5,
			Description: "Máy chủ và dữ liệu bị mã hóa, dịch vụ ngừng; kẻ tấn công đòi tiền chuộc và đe dọa công bố dữ liệu."},
		{Title: "Tấn công từ chối dịch vụ vào cổng dịch vụ công", Category: readiness.CategoryAttack, Likelihood: 4, Impact: 3},
		{Title: "Lũ lụt làm ngập trung tâm dữ liệu", Category: readiness.CategoryDisaster, Likelihood: 2, Impact: 4},
		{Title: "Mất điện kéo dài tại phòng máy chủ", Category: readiness.CategoryFailure, Likelihood: 2, Impact: 3},
	} {
		c, err := rs.CreateScenario(ctx, sys, x)
		if err != nil {
			return added, fmt.Errorf("demo scenario: %w", err)
		}
		cp, err := rs.CopyScenario(ctx, sys, c.ID, hn)
		if err != nil {
			return added, fmt.Errorf("demo scenario copy: %w", err)
		}
		copies = append(copies, cp)
		added++
	}
	n, err := seedPlans(ctx, rs, hn, team.ID, pids, copies, now)
	added += n
	if err != nil {
		return added, err
	}
	last := time.Date(now.Year()-1, 10, 15, 0, 0, 0, 0, time.UTC)
	if _, err := rs.SaveDrill(ctx, sys, 0, readiness.DrillInput{OrgID: ids["DPQG"], Title: "Diễn tập thực chiến quốc gia về ứng cứu sự cố mã độc tống tiền",
		Kind: readiness.DrillNational, StartsOn: last, EndsOn: last.AddDate(0, 0, 2), Status: readiness.DrillDone,
		Scenario:     "Mã độc tống tiền mã hóa hệ thống thông tin bệnh viện tuyến tỉnh",
		Objectives:   "Rút kinh nghiệm: thời gian phát hiện 4 giờ, cô lập 6 giờ; cần bổ sung ca trực đêm và sao lưu ngoại tuyến.",
		Participants: []int64{hn, ids["NAN-UCSC"]}}); err != nil {
		return added, fmt.Errorf("demo drill: %w", err)
	}
	next := now.AddDate(0, 0, 14)
	if next.Year() != now.Year() {
		next = time.Date(now.Year(), 12, 28, 0, 0, 0, 0, time.UTC)
	}
	if _, err := rs.SaveDrill(ctx, sys, 0, readiness.DrillInput{OrgID: hn, Title: "Diễn tập ứng cứu sự cố tấn công từ chối dịch vụ",
		Kind: readiness.DrillOrganisation, StartsOn: next, EndsOn: next, Status: readiness.DrillPlanned,
		Scenario: "Tấn công DDoS vào cổng dịch vụ công của thành phố"}); err != nil {
		return added, fmt.Errorf("demo drill: %w", err)
	}
	return added + 2, nil
}

// seedPlans adds Hà Nội's response plan, approved 11 months and 10 days
// before now (so its yearly review is due soon), and a draft for the DDoS
// scenario of the public-service portal. scenarios are Hà Nội's copies of
// the catalogue, in the catalogue's order (ransomware first, DDoS second).
func seedPlans(ctx context.Context, rs *readiness.Service, hn, teamID int64, people []int64, scenarios []readiness.Scenario,
	now time.Time) (int, error) {
	sys := policy.SystemActor("demo")
	choices, err := rs.PlanChoices(ctx, sys, hn)
	if err != nil {
		return 0, fmt.Errorf("demo plan choices: %w", err)
	}
	var contacts []int64
	for _, c := range choices.Contacts {
		contacts = append(contacts, c.ID)
	}
	approvedAt := now.AddDate(0, -11, -10)
	past := *rs
	past.Now = func() time.Time { return approvedAt }
	in := readiness.PlanInput{Title: "Phương án ứng cứu sự cố an toàn thông tin mạng thành phố Hà Nội",
		Scope: "Các hệ thống thông tin của các sở, ban, ngành và Ủy ban nhân dân các quận, huyện thuộc thành phố; " +
			"trung tâm dữ liệu và Trung tâm điều hành thông minh (IOC) của thành phố.",
		Options: []readiness.OptionInput{
			{ScenarioID: scenarios[0].ID, PersonIDs: people[:4], BudgetVND: 850_000_000,
				Steps: "1. Tiếp nhận, xác minh cảnh báo; cô lập ngay máy chủ và phân vùng mạng bị mã hóa.\n" +
					"2. Thông báo Cơ quan điều phối quốc gia và chủ quản hệ thống trong ngày.\n" +
					"3. Thu thập chứng cứ số (bộ nhớ, nhật ký) trước khi khôi phục.\n" +
					"4. Khôi phục từ bản sao lưu ngoại tuyến, ưu tiên hệ thống một cửa điện tử.\n" +
					"5. Rà quét toàn bộ hệ thống, đổi mật khẩu quản trị, báo cáo kết thúc ứng phó.",
				Equipment: "Máy chủ dự phòng tại trung tâm dữ liệu thứ hai; bộ công cụ điều tra số; kho sao lưu ngoại tuyến."},
			{ScenarioID: scenarios[1].ID, PersonIDs: people[3:5], BudgetVND: 300_000_000,
				Steps: "1. Kích hoạt dịch vụ chống DDoS của nhà cung cấp kết nối.\n2. Chuyển cổng dịch vụ công sang chế độ tĩnh.\n" +
					"3. Phối hợp doanh nghiệp viễn thông lọc lưu lượng theo lệnh điều phối.",
				Equipment: "Thiết bị cân bằng tải; hợp đồng dịch vụ chống DDoS."},
		},
		Priorities: "1. Hệ thống một cửa điện tử và cổng dịch vụ công.\n2. Hệ thống thư điện tử công vụ.\n" +
			"3. Trung tâm điều hành thông minh (IOC).\nDuy trì tối thiểu: tiếp nhận hồ sơ trực tuyến, trả kết quả trong ngày.",
		ContactIDs: contacts, TeamIDs: []int64{teamID},
		Escalation: "Sự cố vượt khả năng xử lý: báo cáo ngay Cơ quan điều phối quốc gia và đề nghị hỗ trợ; " +
			"sự cố nghiêm trọng: báo cáo Ban Chỉ đạo thành phố trong 2 giờ.",
	}
	p, err := past.CreatePlan(ctx, sys, hn, in)
	if err == nil {
		_, err = past.SubmitPlan(ctx, sys, p.ID)
	}
	if err == nil {
		// The city's leadership, as the provincial unit's administrator
		// records it.
		approver := policy.Actor{Username: "admin.hanoi", OrgID: hn, Roles: []policy.Role{policy.RoleAdmin},
			Scope: policy.Scope{Orgs: map[int64]bool{hn: true}}}
		_, err = past.ApprovePlan(ctx, approver, p.ID, "TM. ỦY BAN NHÂN DÂN THÀNH PHỐ\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH")
	}
	if err != nil {
		return 0, fmt.Errorf("demo plan: %w", err)
	}
	if _, err := rs.CreatePlan(ctx, sys, hn, readiness.PlanInput{Title: "Phương án ứng cứu tấn công từ chối dịch vụ vào cổng dịch vụ công",
		Scope: "Cổng dịch vụ công và hệ thống một cửa điện tử của thành phố.",
		Options: []readiness.OptionInput{{ScenarioID: scenarios[1].ID, PersonIDs: people[3:5], BudgetVND: 120_000_000,
			Steps: "1. Phát hiện qua giám sát của SOC thành phố.\n2. Kích hoạt lọc lưu lượng tại nhà cung cấp."}}}); err != nil {
		return 1, fmt.Errorf("demo draft plan: %w", err)
	}
	return 2, nil
}
