package app_test

import (
	"context"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/coord"
	"certnet/internal/incident"
	"certnet/internal/org"
)

// The escalation job is registered with the runner: an order nobody
// acknowledges escalates once per step however often the job runs.
func TestCoordEscalationWiring(t *testing.T) {
	e := apptest.StartSQLite(t)
	ctx := context.Background()
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	isp := e.Org("ISP-SAOMAI", "Nhà mạng Sao Mai", nat.ID, org.RoleISP)
	inc, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: "Máy chủ phát tán mã độc", Description: "Máy chủ 198.51.100.7.",
		Type: incident.TypeMalware, ReporterOrgID: isp.ID, DetectedAt: e.App.Incidents.Now().Add(-time.Hour),
		Contact: incident.Contact{Name: "An", Email: "an@example.vn"}, System: incident.System{Name: "Cổng"}, DetectedBy: incident.DetectIDS})
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.App.Coord.Issue(ctx, e.Sys, inc.Ref, coord.IssueInput{Title: "Chặn địa chỉ", Actions: "Chặn", Priority: coord.PriorityUrgent,
		DeadlineAt: e.Clock.Now().Add(72 * time.Hour), Targets: []int64{isp.ID}, IssuerOrgID: nat.ID})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE kind = ?", coord.KindOrderEscalated).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	run := func() {
		if ran, err := e.App.Jobs.RunNow(ctx, coord.JobEscalate); !ran || err != nil {
			t.Fatalf("ran=%v err=%v", ran, err)
		}
	}
	run()
	if count() != 0 {
		t.Fatal("escalated early")
	}
	e.Clock.Advance(coord.AckUrgent + time.Minute)
	run()
	run()
	if n := count(); n != 1 {
		t.Fatalf("%d escalations after two runs", n)
	}
	got, err := e.App.Coord.Order(ctx, e.Sys, o.ID)
	if err != nil || got.Targets[0].Escalation != coord.EscalationReminder {
		t.Fatalf("target %+v %v", got.Targets, err)
	}
}
