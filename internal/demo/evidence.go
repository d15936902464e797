package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"certnet/internal/auth"
	"certnet/internal/incident"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// evidenceKey marks the demo's evidence, tasks and public report as seeded.
const evidenceKey = "demo.evidence"

// SeedEvidence adds, once and after SeedIncidents, the demo's evidence and
// tasks on the hospital's ransomware incident (the ransom note the
// hospital's reporter uploaded, a task for the hospital to isolate the HIS
// servers and one for the coordinator's analyst) and a report from a
// citizen on the public page about a phishing page imitating the bank. It
// returns how many things it added (0 when they were there already or the
// incident is missing).
func SeedEvidence(ctx context.Context, db *store.DB, users *auth.Service, incs *incident.Service,
	evs *incident.Evidences, pubs *incident.PublicReports, now time.Time) (int, error) {
	var ref string
	err := db.QueryRow(ctx, "SELECT ref FROM incidents WHERE type = ? ORDER BY id LIMIT 1", string(incident.TypeRansomware)).Scan(&ref)
	if store.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	claimed, err := claimOnce(ctx, db, evidenceKey, now)
	if err != nil || !claimed {
		return 0, err
	}
	sys := policy.SystemActor("demo")
	actor := func(username string) (policy.Actor, auth.User, error) {
		u, err := users.GetByUsername(ctx, sys, username)
		if err != nil {
			return policy.Actor{}, auth.User{}, fmt.Errorf("demo user %s: %w", username, err)
		}
		a, err := users.ActorFor(ctx, u, "")
		return a, u, err
	}
	reporter, reporterUser, err := actor("baocao")
	if err != nil {
		return 0, err
	}
	coord, _, err := actor("dieuphoi")
	if err != nil {
		return 0, err
	}
	n := 0
	note := "!!! TẤT CẢ TỆP CỦA BẠN ĐÃ BỊ MÃ HÓA !!!\nLiên hệ: c2.locker-demo.example\nMã nạn nhân: 7F3A-DEMO\n"
	if _, err := evs.Add(ctx, reporter, ref, incident.EvidenceInput{Name: "HUONG_DAN_KHOI_PHUC.txt", MediaType: "text/plain",
		Note: "Thông báo đòi tiền chuộc chụp từ máy chủ HIS", Body: strings.NewReader(note), Address: "198.51.100.71"}); err != nil {
		return n, fmt.Errorf("demo evidence: %w", err)
	}
	n++
	for _, t := range []incident.TaskInput{
		{Title: "Cô lập các máy chủ HIS và PACS khỏi mạng nội bộ", OwnerID: reporterUser.ID, DueAt: now.Add(4 * time.Hour)},
		{Title: "Phân tích mẫu mã độc và chia sẻ dấu hiệu tấn công (IoC)", DueAt: now.Add(-2 * time.Hour),
			Note: "Quá hạn: chờ mẫu mã độc từ bệnh viện"},
	} {
		if _, err := incs.AddTask(ctx, coord, ref, t); err != nil {
			return n, fmt.Errorf("demo task: %w", err)
		}
		n++
	}
	if _, err := pubs.Submit(ctx, incident.PublicInput{Name: "Lê Minh Khoa", Email: "khoa.le@example.com", Phone: "0912 000 111",
		Description: "Tôi nhận được tin nhắn yêu cầu đăng nhập tài khoản ngân hàng qua một trang web lạ, giao diện giống hệt ngân hàng của tôi.",
		Addresses:   "http://203.0.113.88/dang-nhap", HappenedAt: now.Add(-3 * time.Hour), TypeGuess: incident.TypePhishing,
		ClientAddress: "192.0.2.44"}); err != nil {
		return n, fmt.Errorf("demo public report: %w", err)
	}
	return n + 1, nil
}
