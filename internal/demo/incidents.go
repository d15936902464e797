package demo

import (
	"context"
	"fmt"
	"time"

	"certnet/internal/auth"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// incidentsKey marks the demo incidents as seeded.
const incidentsKey = "demo.incidents"

// demoDamage is the damage the demo's closed defacement reports (VND).
var demoDamage int64 = 45_000_000

// SeedIncidents adds the incidents of the demo's story (DEMO.md) to a
// seeded demo network, once, through the incident service acting as the
// demo's users: the ransomware attack on the provincial hospital with the
// serious-incident path proposed, the DDoS on the port authority in
// containment, the phishing campaign against the bank's customers with its
// observables, the defaced ward portal in review with its closure report
// awaiting acknowledgement, and a notice filed past its 5-day deadline. It
// returns how many incidents it added (0 when they were there already).
func SeedIncidents(ctx context.Context, db *store.DB, orgs *org.Service, users *auth.Service, incs *incident.Service, now time.Time) (int, error) {
	claimed, err := claimOnce(ctx, db, incidentsKey, now)
	if err != nil || !claimed {
		return 0, err
	}
	sys := policy.SystemActor("demo")
	actor := func(username string) (policy.Actor, error) {
		u, err := users.GetByUsername(ctx, sys, username)
		if err != nil {
			return policy.Actor{}, fmt.Errorf("demo user %s: %w", username, err)
		}
		return users.ActorFor(ctx, u, "")
	}
	orgID := func(code string) (int64, error) {
		o, err := orgs.GetByCode(ctx, sys, code)
		if err != nil {
			return 0, fmt.Errorf("demo organisation %s: %w", code, err)
		}
		return o.ID, nil
	}
	coord, err := actor("dieuphoi")
	if err != nil {
		return 0, err
	}
	reporter, err := actor("baocao")
	if err != nil {
		return 0, err
	}
	day := 24 * time.Hour
	type story struct {
		by      policy.Actor
		org     string // reporting and affected organisation (code)
		in      incident.Input
		path    []incident.Status
		serious string
		closure bool
	}
	stories := []story{
		{by: reporter, org: "NAN-BVSL", in: incident.Input{
			Title:       "Mã độc tống tiền mã hóa hệ thống HIS của bệnh viện",
			Description: "Sáng nay toàn bộ máy chủ HIS và PACS bị mã hóa, xuất hiện thông báo đòi tiền chuộc. Máy chủ 198.51.100.70 kết nối ra ngoài tới c2.locker-demo.example. Bệnh viện đã ngắt kết nối Internet, chuyển sang ghi chép giấy.",
			Type:        incident.TypeRansomware, Severity: incident.SeverityCritical, TLP: policy.TLPAmber,
			DetectedAt: now.Add(-10 * time.Hour), ExceedsCapacity: true, DetectedBy: incident.DetectOther, DetectedByText: "Nhân viên phát hiện màn hình đòi tiền chuộc",
			Contact: incident.Contact{Name: "Hồ Thị Lan", Title: "Trưởng phòng Công nghệ thông tin", Phone: "0238 3844 112"},
			System:  incident.System{Name: "Hệ thống thông tin bệnh viện (HIS, PACS)", Level: 3, OS: "Windows Server 2019", PublicIPs: []string{"198.51.100.70"}},
		}, path: []incident.Status{incident.StatusVerified, incident.StatusContainment},
			serious: "Hệ thống cấp độ 3 phục vụ khám chữa bệnh bị gián đoạn, bệnh viện không tự xử lý được; đề nghị nâng lên sự cố nghiêm trọng."},
		{by: coord, org: "HPG-CVDV", in: incident.Input{
			Title:       "Tấn công từ chối dịch vụ vào cổng thông tin điện tử cảng vụ",
			Description: "Lưu lượng UDP tới 198.51.100.100 tăng đột biến lên 40 Gbps từ nhiều nguồn, cổng khai báo tàu thuyền không truy cập được.",
			Type:        incident.TypeDDoS, Severity: incident.SeverityHigh, TLP: policy.TLPGreen,
			DetectedAt: now.Add(-30 * time.Hour), DetectedBy: incident.DetectIDS,
			Contact: incident.Contact{Name: "Vũ Minh Tuấn", Title: "Phụ trách an toàn thông tin", Phone: "0225 3842 700"},
			System:  incident.System{Name: "Cổng khai báo điện tử của Cảng vụ", Level: 3, PublicIPs: []string{"198.51.100.100"}},
		}, path: []incident.Status{incident.StatusVerified, incident.StatusContainment}},
		{by: coord, org: "NH-KIMLONG", in: incident.Input{
			Title:       "Chiến dịch lừa đảo giả mạo trang đăng nhập ngân hàng điện tử",
			Description: "Khách hàng nhận tin nhắn dẫn tới https://kimlong-xacthuc.example/dang-nhap và mail từ canhbao@kimlong-bank.example; tên miền giả mạo trỏ về 192.0.2.45.",
			Type:        incident.TypePhishing, Severity: incident.SeverityHigh, TLP: policy.TLPAmber,
			DetectedAt: now.Add(-2 * day), DetectedBy: incident.DetectNotifiedBy, DetectedByText: "Khách hàng phản ánh qua tổng đài",
			Contact: incident.Contact{Name: "Đặng Quốc Bảo", Title: "Giám đốc Trung tâm An ninh mạng", Phone: "024 3936 8888"},
			System:  incident.System{Name: "Ngân hàng điện tử Kim Long", Level: 4},
		}, path: []incident.Status{incident.StatusVerified}},
		{by: coord, org: "HUE-PTAT", in: incident.Input{
			Title:       "Thay đổi giao diện cổng thông tin điện tử phường",
			Description: "Trang chủ cổng thông tin phường bị thay bằng nội dung lạ; đã khôi phục từ bản sao lưu và vá lỗ hổng plugin.",
			Type:        incident.TypeDefacement, Severity: incident.SeverityMedium, TLP: policy.TLPGreen,
			DetectedAt: now.Add(-4 * day), Handled: true, DetectedBy: incident.DetectNotifiedBy, DetectedByText: "Người dân báo qua đường dây nóng",
			Contact: incident.Contact{Name: "Trần Văn Phúc", Title: "Công chức phụ trách cổng thông tin", Phone: "0234 3861 234"},
			System:  incident.System{Name: "Cổng thông tin điện tử phường Thuận An", Level: 2},
		}, path: []incident.Status{incident.StatusVerified, incident.StatusContainment, incident.StatusRecovery, incident.StatusReview},
			closure: true},
		{by: coord, org: "DNG-IOC", in: incident.Input{
			Title:       "Truy cập trái phép camera giám sát giao thông",
			Description: "Phát hiện tài khoản quản trị lạ đăng nhập vào hệ thống quản lý camera từ địa chỉ 100.64.3.9; báo cáo chậm do chờ xác minh nội bộ.",
			Type:        incident.TypeIntrusion, Severity: incident.SeverityMedium, TLP: policy.TLPAmber,
			DetectedAt: now.Add(-8 * day), DetectedBy: incident.DetectLogReview,
			Contact: incident.Contact{Name: "Lê Thị Hạnh", Title: "Kỹ sư vận hành IOC", Phone: "0236 3822 015"},
			System:  incident.System{Name: "Hệ thống camera giám sát giao thông thông minh", Level: 3},
		}},
	}
	n := 0
	for _, st := range stories {
		id, err := orgID(st.org)
		if err != nil {
			return n, err
		}
		st.in.ReporterOrgID, st.in.AffectedOrgID = id, id
		inc, err := incs.Create(ctx, st.by, st.in)
		if err != nil {
			return n, fmt.Errorf("demo incident %q: %w", st.in.Title, err)
		}
		n++
		for _, to := range st.path {
			if inc, err = incs.Transition(ctx, coord, inc.Ref, to, incident.TransitionInput{}); err != nil {
				return n, fmt.Errorf("demo incident %s → %s: %w", inc.Ref, to, err)
			}
		}
		if st.serious != "" {
			if _, err := incs.ProposeSerious(ctx, coord, inc.Ref, st.serious); err != nil {
				return n, fmt.Errorf("demo incident %s: propose serious: %w", inc.Ref, err)
			}
		}
		if st.closure {
			if _, err := incs.AddReport(ctx, coord, inc.Ref, incident.ReportClosure, incident.ReportInput{
				Result:  "Đã khôi phục giao diện từ bản sao lưu, cập nhật plugin và đổi toàn bộ mật khẩu quản trị.",
				Lessons: "Cần cập nhật bản vá định kỳ và bật xác thực hai lớp cho tài khoản quản trị cổng thông tin.",
				// Form 05 counts how it was handled and what it cost.
				Handling: incident.HandledDomesticHelp, DamageVND: &demoDamage,
				DamageNote: "Chi phí khôi phục và thuê chuyên gia rà soát mã nguồn cổng thông tin trong 3 ngày.",
			}); err != nil {
				return n, fmt.Errorf("demo incident %s: closure report: %w", inc.Ref, err)
			}
		}
	}
	return n, nil
}
