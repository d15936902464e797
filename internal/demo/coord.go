package demo

import (
	"context"
	"fmt"
	"time"

	"certnet/internal/auth"
	"certnet/internal/coord"
	"certnet/internal/incident"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// coordKey marks the demo's coordination orders as seeded.
const coordKey = "demo.coord"

// SeedOrders adds, once and after SeedIncidents, the coordination of the
// phishing campaign against the bank's customers: 30 hours ago the national
// coordinator ordered ISP-SAOMAI and ISP-HONGLAM (urgent) to block the
// phishing addresses and clean the hosting servers; ISP-SAOMAI acknowledged
// late (now) and reported progress, ISP-HONGLAM has not acknowledged (the
// escalation job reminds it and tells the issuer on its first run), and the
// national coordinator recorded ISP-SAOMAI's effort for reimbursement. It
// returns how many things it added (0 when they were there already or the
// incident is missing).
func SeedOrders(ctx context.Context, db *store.DB, users *auth.Service, incs *incident.Service, now time.Time) (int, error) {
	var ref string
	err := db.QueryRow(ctx, "SELECT ref FROM incidents WHERE type = ? ORDER BY id LIMIT 1", string(incident.TypePhishing)).Scan(&ref)
	if store.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	ids := map[string]int64{}
	for _, code := range []string{"ISP-SAOMAI", "ISP-HONGLAM"} {
		var id int64
		if err := db.QueryRow(ctx, "SELECT id FROM organisations WHERE code = ?", code).Scan(&id); err != nil {
			if store.IsNoRows(err) {
				return 0, nil
			}
			return 0, err
		}
		ids[code] = id
	}
	claimed, err := claimOnce(ctx, db, coordKey, now)
	if err != nil || !claimed {
		return 0, err
	}
	sys := policy.SystemActor("demo")
	u, err := users.GetByUsername(ctx, sys, "dieuphoi")
	if err != nil {
		return 0, fmt.Errorf("demo user dieuphoi: %w", err)
	}
	natc, err := users.ActorFor(ctx, u, "")
	if err != nil {
		return 0, err
	}
	obs, err := store.IDs(ctx, db, `SELECT o.id FROM incident_observables o JOIN incidents i ON i.id = o.incident_id
		WHERE i.ref = ? ORDER BY o.id LIMIT 3`, ref)
	if err != nil {
		return 0, err
	}
	issued := now.Add(-30 * time.Hour)
	past := coord.NewService(db, incs, func() time.Time { return issued }, nil)
	o, err := past.Issue(ctx, natc, ref, coord.IssueInput{Title: "Chặn các địa chỉ lừa đảo và làm sạch máy chủ lưu trữ",
		Actions:  "1. Chặn truy cập tới các tên miền và địa chỉ IP lừa đảo kèm theo.\n2. Làm sạch máy chủ của khách hàng đang lưu trữ trang lừa đảo.\n3. Báo cáo kết quả và số thuê bao bị ảnh hưởng.",
		Priority: coord.PriorityUrgent, DeadlineAt: issued.Add(72 * time.Hour), Targets: []int64{ids["ISP-SAOMAI"], ids["ISP-HONGLAM"]},
		ObservableIDs: obs})
	if err != nil {
		return 0, fmt.Errorf("demo order: %w", err)
	}
	n := 1
	cur := coord.NewService(db, incs, func() time.Time { return now }, nil)
	// ISP-SAOMAI's duty analyst, as certnet seeds it (the demo has no user
	// of the ISP).
	saomai := policy.Actor{Username: "truc.saomai", OrgID: ids["ISP-SAOMAI"], Roles: []policy.Role{policy.RoleAnalyst},
		Scope: policy.Scope{Orgs: map[int64]bool{ids["ISP-SAOMAI"]: true}}}
	for _, in := range []coord.RespondInput{{Status: coord.StatusAcknowledged},
		{Status: coord.StatusInProgress, Result: "Đã chặn 4 tên miền lừa đảo trên hệ thống DNS; đang làm việc với khách hàng lưu trữ để làm sạch máy chủ."}} {
		if _, err := cur.Respond(ctx, saomai, o.ID, in); err != nil {
			return n, fmt.Errorf("demo order response: %w", err)
		}
		n++
	}
	if _, err := cur.AddEffort(ctx, natc, ref, coord.EffortInput{OrgID: ids["ISP-SAOMAI"], Date: now.AddDate(0, 0, -1).Format(time.DateOnly),
		People: 3, Hours: 10.5, CostVND: 4_200_000, Description: "Chặn tên miền, rà soát máy chủ lưu trữ", OrderID: o.ID}); err != nil {
		return n, fmt.Errorf("demo effort: %w", err)
	}
	return n + 1, nil
}
