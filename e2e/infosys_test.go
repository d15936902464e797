package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"certnet/internal/apptest"
	"certnet/internal/i18n"
	"certnet/internal/infosys"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// TestInfosysLevelDossier walks issue 6 in the browser: a hospital's
// administrator registers its patient-records system, answers the level
// questionnaire (level 3 proposed, with its reasons), completes and submits
// the dossier; the province's response unit appraises it; the hospital
// approves it. The system's page then shows the next periodic assessment
// and scan dates, and the province's share of classified systems moves
// from 0% to 100%.
func TestInfosysLevelDossier(t *testing.T) {
	ctx, cancel := browser(t)
	defer cancel()
	e := apptest.StartSQLite(t)
	bg := context.Background()

	nc := e.Org("VNCERT", "Trung tâm Điều phối Ứng cứu Sự cố Quốc gia", 0, org.RoleNationalCoordinator)
	hn := e.Org("HNI-RU", "Sở Khoa học và Công nghệ Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	bv := e.Org("BV-A", "Bệnh viện Đa khoa A", hn.ID, org.RoleSystemOwner)
	e.User(hn.ID, "ucsc.hanoi", policy.RoleCoordinator)
	e.User(bv.ID, "quantri.bva", policy.RoleAdmin)

	b := &page{t: t, ctx: ctx, base: e.URL}
	login := b.login
	kpi := func() string {
		t.Helper()
		b.do("the KPIs", chromedp.Navigate(e.URL+"/infosys?by=province"), chromedp.WaitVisible(chromedp.CSS(`#kpi-h`)))
		return b.text(`section[aria-labelledby="kpi-h"]`)
	}

	// 1. The hospital registers its system: personal data of 50 000 patients.
	login("quantri.bva")
	b.do("register the system",
		chromedp.Navigate(e.URL+"/infosys"),
		chromedp.WaitVisible(chromedp.CSS(`#s-name`)),
		chromedp.SetValue(chromedp.CSS(`#s-name`), "Hệ thống bệnh án điện tử"),
		chromedp.SetValue(chromedp.CSS(`#s-data`), infosys.DataPersonal),
		chromedp.SetValue(chromedp.CSS(`#s-pc`), "50000"),
		chromedp.Submit(chromedp.CSS(`#s-name`)),
		urlWhere("the system's", func(u string) bool { return strings.Contains(u, "/infosys/systems/") }),
		chromedp.WaitVisible(chromedp.CSS(`#q-scope`)),
	)
	sysURL := b.location()
	if before := kpi(); !strings.Contains(before, "0% (0)") {
		t.Fatalf("before classification the province should have 0%% classified: %q", before)
	}

	// 2. The questionnaire proposes level 3 and says why.
	b.do("answer the questionnaire",
		chromedp.Navigate(sysURL),
		chromedp.WaitVisible(chromedp.CSS(`#q-scope`)),
		chromedp.SetValue(chromedp.CSS(`#q-scope`), infosys.ScopeOrganisation),
		chromedp.SetValue(chromedp.CSS(`#q-harm`), infosys.HarmOrg),
		chromedp.Submit(chromedp.CSS(`#q-scope`)),
		urlWhere("the dossier's", func(u string) bool { return strings.Contains(u, "/infosys/dossiers/") }),
		chromedp.WaitVisible(chromedp.CSS(`#d-ov`)),
	)
	dossierURL := b.location()
	if lv := b.attr(`#d-level`, "value"); lv != "3" {
		t.Fatalf("proposed level %q, want 3", lv)
	}
	if why := b.text(`section[aria-labelledby="why-h"]`); !strings.Contains(why, "10 000") {
		t.Errorf("the reasons should name the 10 000-person threshold: %q", why)
	}

	// 3. The dossier completed and submitted.
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS(`#d-ov`), "Hệ thống quản lý bệnh án điện tử của bệnh viện."),
		chromedp.SetValue(chromedp.CSS(`#d-design`), "Ba lớp, vùng DMZ, sao lưu hằng ngày."),
	}
	for _, k := range infosys.PlanSections {
		fill = append(fill, chromedp.SetValue(chromedp.CSS(`#d-plan-`+k), "Phương án "+k))
	}
	fill = append(fill, chromedp.Submit(chromedp.CSS(`#d-ov`)), chromedp.WaitVisible(chromedp.CSS(`button[name="step"][value="submit"]`)))
	b.do("complete the dossier", fill...)
	b.do("submit", chromedp.Click(chromedp.CSS(`button[name="step"][value="submit"]`)))
	b.waitText("submitted", `main`, "Đã gửi thẩm định")

	// 4. The province's response unit appraises it.
	login("ucsc.hanoi")
	b.do("appraise",
		chromedp.Navigate(dossierURL),
		chromedp.WaitVisible(chromedp.CSS(`button[name="step"][value="appraise"]`)),
		chromedp.SetValue(chromedp.CSS(`#m-comment`), "Hồ sơ đạt yêu cầu."),
		chromedp.Click(chromedp.CSS(`button[name="step"][value="appraise"]`)),
	)
	b.waitText("appraised", `main`, "Đã thẩm định")
	if strings.Contains(b.text(`main`), `value="approve"`) {
		t.Fatal("the response unit should not be offered the approval")
	}

	// 5. The hospital approves it within the 7 working days.
	login("quantri.bva")
	b.do("approve",
		chromedp.Navigate(dossierURL),
		chromedp.WaitVisible(chromedp.CSS(`button[name="step"][value="approve"]`)),
		chromedp.Click(chromedp.CSS(`button[name="step"][value="approve"]`)),
	)
	b.waitText("approved", `main`, "Đã phê duyệt")

	// 6. The next assessment and scan dates on the system's page.
	var sysID int64
	if err := e.DB.QueryRow(bg, "SELECT id FROM infosys_systems WHERE name = ?", "Hệ thống bệnh án điện tử").Scan(&sysID); err != nil {
		t.Fatal(err)
	}
	x, _, due, err := e.App.Infosys.Detail(bg, e.Sys, sysID)
	if err != nil || x.Level != 3 {
		t.Fatalf("system %+v %v", x, err)
	}
	b.do("the system", chromedp.Navigate(sysURL), chromedp.WaitVisible(chromedp.CSS(`#sch-h`)))
	schedule := b.text(`section[aria-labelledby="sch-h"]`)
	seen := map[string]bool{}
	for _, d := range due {
		if d.Kind != infosys.KindAssessment && d.Kind != infosys.KindScan {
			continue
		}
		seen[d.Kind] = true
		if !d.Next.After(e.Clock.Now().AddDate(0, 0, -1)) && d.Kind == infosys.KindAssessment {
			t.Errorf("a new level-3 system's assessment is due %v", d.Next)
		}
		if !strings.Contains(schedule, i18n.FormatDate(d.Next)) {
			t.Errorf("%s next %s not on the page: %q", d.Kind, i18n.FormatDate(d.Next), schedule)
		}
	}
	if !seen[infosys.KindAssessment] || !seen[infosys.KindScan] || !strings.Contains(schedule, "Kiểm tra, đánh giá định kỳ") ||
		!strings.Contains(schedule, "Rà quét lỗ hổng") {
		t.Fatalf("schedule %v on the page %q", seen, schedule)
	}
	if !strings.Contains(b.text(`section[aria-labelledby="sys-h"]`), "3 (") {
		t.Error("the level should show with its approval date")
	}

	// 7. The province's KPI moved.
	if after := kpi(); !strings.Contains(after, "100% (1)") {
		t.Fatalf("after approval the province should have 100%% classified: %q", after)
	}
}
