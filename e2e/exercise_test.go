package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"certnet/internal/apptest"
	"certnet/internal/exercise"
	"certnet/internal/i18n"
	"certnet/internal/incident"
	"certnet/internal/notify"
	"certnet/internal/notify/notifytest"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// TestExerciseDrill runs a drill on certnet in the browser: Hà Nội plans a
// drill from a ransomware scenario with two hospitals, builds an inject for
// each, starts the exercise; the job delivers the injects in exercise mode;
// hospital A acknowledges within minutes, hospital B half an hour later;
// the after-action report ranks A first. The real incident list and the
// form 05 statistics did not change, and no e-mail left certnet.
func TestExerciseDrill(t *testing.T) {
	ctx, cancel := browser(t)
	defer cancel()
	e := apptest.StartSQLite(t)
	bg := context.Background()
	smtp := notifytest.StartSMTP(t)
	e.App.Notify.Mailer, e.App.Notify.From = smtp.Mailer(), "certnet@vncert.vn"

	nc := e.Org("VNCERT", "Trung tâm Điều phối Ứng cứu Sự cố Quốc gia", 0, org.RoleNationalCoordinator)
	hn := e.Org("HNI-RU", "Sở Khoa học và Công nghệ Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	if _, err := e.DB.Exec(bg, "UPDATE organisations SET intake_email = ? WHERE id = ?", "ucsc@hanoi.gov.vn", hn.ID); err != nil {
		t.Fatal(err)
	}
	bvA := e.Org("BV-A", "Bệnh viện Đa khoa A", hn.ID, org.RoleSystemOwner)
	bvB := e.Org("BV-B", "Bệnh viện Đa khoa B", hn.ID, org.RoleSystemOwner)
	withEmail(t, e, e.User(hn.ID, "ucsc.hanoi", policy.RoleCoordinator), "ucsc@hanoi.gov.vn")
	withEmail(t, e, e.User(bvA.ID, "soc.bva", policy.RoleCoordinator), "soc@bva.vn")
	withEmail(t, e, e.User(bvB.ID, "soc.bvb", policy.RoleCoordinator), "soc@bvb.vn")
	ncActor := policy.Actor{UserID: 1, OrgID: nc.ID, Roles: []policy.Role{policy.RoleCoordinator}, Scope: policy.Scope{All: true}}

	_, realBefore, err := e.App.Incidents.List(bg, ncActor, incident.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	year := e.Clock.Now().In(i18n.Zone).Year()
	sumBefore, err := e.App.Incidents.Summary(bg, ncActor, incident.SummaryFilter{Year: year})
	if err != nil {
		t.Fatal(err)
	}

	b := &page{t: t, ctx: ctx, base: e.URL}
	login := b.login

	// 1. Hà Nội plans the drill from its ransomware scenario.
	today := e.Clock.Now().In(i18n.Zone).Format("2006-01-02")
	login("ucsc.hanoi")
	b.do("plan the drill",
		chromedp.Navigate(e.URL+"/readiness/drills"),
		chromedp.WaitVisible(chromedp.CSS(`#d-title`)),
		chromedp.SendKeys(chromedp.CSS(`#d-title`), "Diễn tập ứng phó mã độc tống tiền khối bệnh viện"),
		chromedp.SetValue(chromedp.CSS(`#d-start`), today),
		chromedp.SetValue(chromedp.CSS(`#d-end`), today),
		chromedp.SendKeys(chromedp.CSS(`#d-scenario`), "Mã độc tống tiền mã hoá máy chủ bệnh án điện tử (HIS); yêu cầu tiền chuộc."),
		chromedp.SendKeys(chromedp.CSS(`#d-parts`), itoa(bvA.ID)+", "+itoa(bvB.ID)),
		chromedp.Submit(chromedp.CSS(`#d-title`)),
		urlWhere("the drill's", func(u string) bool { return strings.Contains(u, "/readiness/drills/") }),
		chromedp.WaitVisible(chromedp.CSS(`#drill-exercises`)),
		chromedp.Click(chromedp.CSS(`#drill-exercises`)),
		chromedp.WaitVisible(chromedp.CSS(`#x-title`)),
		chromedp.Submit(chromedp.CSS(`#x-title`)),
		urlWhere("the exercise's", func(u string) bool { return strings.Contains(u, "/exercises/") }),
		chromedp.WaitVisible(chromedp.CSS(`#exercise-banner`)),
	)
	exURL := b.location()

	// 2. One inject per hospital, 5 minutes after the start, from the scenario.
	for _, o := range []org.Org{bvA, bvB} {
		b.do("inject to "+o.Code,
			chromedp.WaitVisible(chromedp.CSS(`#i-offset`)),
			chromedp.SetValue(chromedp.CSS(`#i-offset`), "5"),
			chromedp.SetValue(chromedp.CSS(`#i-target`), itoa(o.ID)),
			chromedp.Submit(chromedp.CSS(`#i-offset`)),
		)
		b.waitText("inject listed", `#x-injects`, o.Name)
	}
	if ty := b.attr(`#i-type option[selected]`, "value"); ty != "ransomware" {
		t.Errorf("the inject form should take the type from the scenario, has %q", ty)
	}
	b.do("start", chromedp.Click(chromedp.CSS(`#x-start`)), chromedp.WaitVisible(chromedp.CSS(`#x-stop`)))

	// 3. Five minutes later the job delivers both injects, once.
	e.Clock.Advance(5 * time.Minute)
	for i := 0; i < 2; i++ {
		if ran, err := e.App.Jobs.RunNow(bg, exercise.JobDeliver); !ran || err != nil {
			t.Fatalf("deliver: ran=%v err=%v", ran, err)
		}
	}
	var n int
	if err := e.DB.QueryRow(bg, "SELECT COUNT(*) FROM incidents WHERE exercise_id IS NOT NULL").Scan(&n); err != nil || n != 2 {
		t.Fatalf("exercise incidents: %d %v", n, err)
	}
	refOf := func(o org.Org) string {
		var ref string
		if err := e.DB.QueryRow(bg, "SELECT ref FROM incidents WHERE exercise_id IS NOT NULL AND affected_org_id = ?", o.ID).Scan(&ref); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	ack := func(user string, o org.Org) {
		t.Helper()
		login(user)
		b.do("open the exercise incident of "+o.Code,
			chromedp.Navigate(e.URL+"/incidents/"+refOf(o)),
			chromedp.WaitVisible(chromedp.CSS(`#exercise-banner`)),
			chromedp.Click(chromedp.CSS(`form[action$="/ack"] button`)),
			// The answer has loaded when the acknowledge form is gone.
			chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/ack"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`.status-ok`)),
		)
	}
	// 4. Hospital A acknowledges two minutes after delivery, B forty.
	e.Clock.Advance(2 * time.Minute)
	ack("soc.bva", bvA)
	e.Clock.Advance(38 * time.Minute)
	ack("soc.bvb", bvB)

	// 5. The organiser reads the after-action report: A first.
	login("ucsc.hanoi")
	b.do("after-action report",
		chromedp.Navigate(exURL+"/report"),
		chromedp.WaitVisible(chromedp.CSS(`#x-teams`)),
	)
	if first := b.attr(`#x-teams tbody tr:first-child`, "data-org"); first != itoa(bvA.ID) {
		t.Fatalf("rank 1 should be hospital A (%d), is %s: %s", bvA.ID, first, b.text(`#x-teams`))
	}
	if second := b.attr(`#x-teams tbody tr:nth-child(2)`, "data-org"); second != itoa(bvB.ID) {
		t.Fatalf("rank 2 should be hospital B: %s", b.text(`#x-teams`))
	}
	teams := b.text(`#x-teams`)
	if !strings.Contains(teams, "2m0s") || !strings.Contains(teams, "40m0s") {
		t.Errorf("times to acknowledge 2 and 40 minutes expected: %q", teams)
	}

	// 6. Nothing real changed: the list, the statistics, the mail.
	b.do("real incident list", chromedp.Navigate(e.URL+"/incidents"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if body := b.text(`main`); strings.Contains(body, "DIỄN TẬP") {
		t.Errorf("the real incident list shows exercise incidents: %q", body)
	}
	_, realAfter, _ := e.App.Incidents.List(bg, ncActor, incident.Filter{})
	sumAfter, _ := e.App.Incidents.Summary(bg, ncActor, incident.SummaryFilter{Year: year})
	if realAfter != realBefore || sumAfter.Total.Count != sumBefore.Total.Count {
		t.Fatalf("real figures changed: list %d→%d, form 05 %d→%d", realBefore, realAfter, sumBefore.Total.Count, sumAfter.Total.Count)
	}
	for _, job := range []string{notify.JobFanout, notify.JobDeliver} {
		if _, err := e.App.Jobs.RunNow(bg, job); err != nil {
			t.Fatal(err)
		}
	}
	if mails := smtp.Mails(); len(mails) != 0 {
		t.Fatalf("the exercise sent %d real e-mails, first to %v: %q", len(mails), mails[0].To, mails[0].Subject)
	}
	var inbox int
	if err := e.DB.QueryRow(bg, "SELECT COUNT(*) FROM notify_inbox").Scan(&inbox); err != nil || inbox == 0 {
		t.Fatalf("the exercise's messages should reach the inboxes: %d %v", inbox, err)
	}
}
