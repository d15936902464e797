package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"certnet/internal/auth"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// advisoriesKey marks the demo's advisories as seeded; publicAdvisoryKey
// the public TLP:CLEAR one (claimed on its own, so a demo seeded before it
// existed gets it too).
const (
	advisoriesKey     = "demo.advisories"
	publicAdvisoryKey = "demo.advisories.public"
)

// SeedAdvisories adds, once and after Seed, two advisories of the national
// coordinator: one published 30 hours ago to the critical sectors about an
// exploited VPN vulnerability (AMBER, deadline in two days), which some
// recipients acknowledged and answered — one remediated, one not affected,
// one still working — while the others have not acknowledged (the reminder
// job reminds them on its first run); and a draft to the whole network
// about a phishing campaign; and a TLP:CLEAR advisory published to the
// whole network two hours ago, which the public page /public/advisories
// and its Atom feed show. whois is the registry's index (ranges
// targeting). It returns how many things it added (0 when they were there
// already or the network is not seeded).
func SeedAdvisories(ctx context.Context, db *store.DB, users *auth.Service, whois func(context.Context) (*org.Index, error), now time.Time) (int, error) {
	sys := policy.SystemActor("demo")
	u, err := users.GetByUsername(ctx, sys, "dieuphoi")
	if err != nil {
		return 0, nil // not the demo network
	}
	natc, err := users.ActorFor(ctx, u, "")
	if err != nil {
		return 0, err
	}
	n := 0
	claimed, err := claimOnce(ctx, db, advisoriesKey, now)
	if err != nil {
		return 0, err
	}
	if claimed {
		if n, err = seedAdvisories(ctx, db, natc, whois, now); err != nil {
			return n, err
		}
	}
	if claimed, err = claimOnce(ctx, db, publicAdvisoryKey, now); err != nil || !claimed {
		return n, err
	}
	m, err := seedPublicAdvisory(ctx, db, natc, whois, now)
	return n + m, err
}

// seedPublicAdvisory publishes a TLP:CLEAR advisory to the whole network
// two hours before now (its recipients' acknowledgement is not yet due).
func seedPublicAdvisory(ctx context.Context, db *store.DB, natc policy.Actor, whois func(context.Context) (*org.Index, error), now time.Time) (int, error) {
	s := intel.NewService(db, func() time.Time { return now.Add(-2 * time.Hour) }, nil)
	s.Whois = whois
	v, err := s.CreateAdvisory(ctx, natc, intel.AdvisoryInput{
		Title:     "Cập nhật bản vá bảo mật tháng 11 cho hệ điều hành Windows",
		TitleEN:   "November security updates for Windows",
		Summary:   "Hãng phát hành bản vá cho nhiều lỗ hổng, trong đó có lỗ hổng leo thang đặc quyền đang bị khai thác; các tổ chức cần cập nhật sớm.",
		SummaryEN: "The vendor released fixes for many vulnerabilities, one of them a privilege escalation under exploitation; organisations should update soon.",
		Body:      "Bản vá định kỳ tháng 11 khắc phục các lỗ hổng trên Windows và Windows Server, gồm một lỗ hổng leo thang đặc quyền trong nhân đã được ghi nhận khai thác.",
		Severity:  intel.SeverityHigh, CVEs: []string{"CVE-2023-0001"},
		Products: []intel.Product{{Vendor: "Microsoft", Product: "Windows", Version: "10, 11, Server 2016–2025"}},
		Actions:  "1. Cài đặt bản vá tháng 11 cho máy trạm và máy chủ.\n2. Ưu tiên máy chủ có kết nối Internet và máy của quản trị viên.\n3. Báo cáo kết quả trên certnet trước hạn.",
		TLP:      policy.TLPClear, DeadlineAt: now.Add(7 * 24 * time.Hour), Targeting: intel.Targeting{All: true}})
	if err != nil {
		return 0, fmt.Errorf("demo public advisory: %w", err)
	}
	if _, err := s.Publish(ctx, natc, v.ID); err != nil {
		return 1, fmt.Errorf("demo public advisory publish: %w", err)
	}
	return 2, nil
}

// seedAdvisories adds the VPN advisory with its answers and the draft.
func seedAdvisories(ctx context.Context, db *store.DB, natc policy.Actor, whois func(context.Context) (*org.Index, error), now time.Time) (int, error) {
	published := now.Add(-30 * time.Hour)
	past := intel.NewService(db, func() time.Time { return published }, nil)
	past.Whois = whois
	var sectors []string
	for _, s := range org.Sectors {
		sectors = append(sectors, string(s))
	}
	v, err := past.CreateAdvisory(ctx, natc, intel.AdvisoryInput{
		Title:     "Lỗ hổng nghiêm trọng trên cổng VPN đang bị khai thác",
		TitleEN:   "Critical VPN gateway vulnerability under active exploitation",
		Summary:   "Lỗ hổng cho phép kẻ tấn công chưa xác thực thực thi mã từ xa trên cổng VPN; đã ghi nhận khai thác tại nhiều tổ chức trong nước.",
		SummaryEN: "An unauthenticated attacker can run code on the VPN gateway; exploitation has been seen at several organisations in the country.",
		Body:      "Các hệ thống cổng VPN phiên bản chưa vá bị ảnh hưởng. Kẻ tấn công dò quét diện rộng và cài cửa hậu sau khi khai thác thành công.",
		Severity:  intel.SeverityCritical, CVEs: []string{"CVE-2024-3400", "CVE-2023-0001"},
		Products: []intel.Product{{Vendor: "Palo Alto Networks", Product: "PAN-OS", Version: "10.2, 11.0, 11.1 (GlobalProtect)"}},
		Actions:  "1. Cập nhật bản vá của hãng ngay.\n2. Rà soát nhật ký cổng VPN từ ngày phát hiện lỗ hổng.\n3. Đổi mật khẩu, thu hồi phiên của tài khoản quản trị.\n4. Báo cáo kết quả trên certnet trước hạn.",
		TLP:      policy.TLPAmber, DeadlineAt: now.Add(48 * time.Hour), Targeting: intel.Targeting{Sectors: sectors}})
	if err != nil {
		return 0, fmt.Errorf("demo advisory: %w", err)
	}
	if v, err = past.Publish(ctx, natc, v.ID); err != nil {
		return 1, fmt.Errorf("demo advisory publish: %w", err)
	}
	n := 2
	cur := intel.NewService(db, func() time.Time { return now }, nil)
	answers := []intel.RespondInput{
		{Outcome: intel.OutcomeRemediated, Note: "Đã cập nhật bản vá, không phát hiện dấu hiệu khai thác trong nhật ký."},
		{Outcome: intel.OutcomeNotAffected},
		{Outcome: intel.OutcomeInProgress, Note: "Đã áp dụng biện pháp giảm thiểu; lịch cập nhật bản vá vào cuối tuần."},
		{Acknowledge: true},
	}
	orgsList := slices.Clone(v.RecipientOrgs)
	for i, id := range orgsList {
		if i >= len(answers) {
			break
		}
		// The recipient's duty officer, as certnet seeds it.
		a := policy.Actor{Username: "demo.truc", OrgID: id, Roles: []policy.Role{policy.RoleAnalyst}, Scope: policy.Scope{Orgs: map[int64]bool{id: true}}}
		if _, err := cur.Respond(ctx, a, v.ID, intel.RespondInput{Acknowledge: true}); err != nil {
			return n, fmt.Errorf("demo advisory acknowledge: %w", err)
		}
		n++
		if !answers[i].Acknowledge {
			if _, err := cur.Respond(ctx, a, v.ID, answers[i]); err != nil {
				return n, fmt.Errorf("demo advisory report: %w", err)
			}
			n++
		}
	}
	if _, err := cur.CreateAdvisory(ctx, natc, intel.AdvisoryInput{
		Title:    "Chiến dịch thư điện tử giả mạo cơ quan thuế",
		Summary:  "Thư giả mạo thông báo hoàn thuế, dẫn tới trang đăng nhập giả để lấy cắp tài khoản.",
		Severity: intel.SeverityHigh, Actions: "Cảnh báo người dùng; chặn tên miền giả mạo trên cổng thư điện tử.",
		TLP: policy.TLPGreen, DeadlineAt: now.Add(7 * 24 * time.Hour), Targeting: intel.Targeting{All: true}}); err != nil {
		return n, fmt.Errorf("demo draft advisory: %w", err)
	}
	return n + 1, nil
}
