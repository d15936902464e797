package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"certnet/internal/apptest"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// TestAdvisorySectorRates: the national coordinator writes an advisory in
// the browser for the banking sector and publishes it to the two banks; a
// bank's officer signs in, acknowledges it and reports remediation with a
// note; the coordinator's page of the advisory then shows the rates moved
// from 0 % to 50 % acknowledged and remediated, and the bank's answer in
// the recipients. A hospital outside the sector never sees the advisory.
func TestAdvisorySectorRates(t *testing.T) {
	ctx, cancel := browser(t)
	defer cancel()
	e := apptest.StartSQLite(t)
	bg := context.Background()

	nc := e.Org("VNCERT", "Trung tâm Điều phối Ứng cứu Sự cố Quốc gia", 0, org.RoleNationalCoordinator)
	hn := e.Org("HNI-RU", "Sở Khoa học và Công nghệ Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	member := func(code, name string, sector org.Sector) org.Org {
		o, err := e.App.Orgs.Create(bg, e.Sys, org.Input{Code: code, Name: name, ParentID: hn.ID, Sector: sector,
			Roles: []org.Role{org.RoleSystemOwner}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	bankA := member("NH-THUDO", "Ngân hàng Thương mại Thủ đô", org.SectorBanking)
	member("NH-SONGHONG", "Ngân hàng Sông Hồng", org.SectorBanking)
	hospital := member("BV-HN", "Bệnh viện Đa khoa Hà Nội", org.SectorHealth)
	e.User(nc.ID, "canhbao", policy.RoleCoordinator)
	e.User(bankA.ID, "nganhang.it", policy.RoleReporter)
	e.User(hospital.ID, "benhvien.it", policy.RoleReporter)

	b := &page{t: t, ctx: ctx, base: e.URL}
	login := b.login
	const rates = `section[aria-labelledby="rates-h"] p[role="status"]`

	// 1. The coordinator writes the advisory for the banking sector and
	// publishes it: two recipients, nothing acknowledged yet.
	login("canhbao")
	deadline := e.Clock.Now().In(i18n.Zone).Add(72 * time.Hour).Format("2006-01-02T15:04")
	b.do("write the advisory",
		chromedp.Navigate(e.URL+"/advisories/new"),
		chromedp.WaitVisible(chromedp.CSS(`#title`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), "Lỗ hổng nghiêm trọng trên cổng VPN của ngân hàng"),
		chromedp.SetValue(chromedp.CSS(`#severity`), "critical"),
		chromedp.SetValue(chromedp.CSS(`#tlp`), "AMBER"),
		chromedp.SetValue(chromedp.CSS(`#deadline_at`), deadline),
		chromedp.SendKeys(chromedp.CSS(`#summary`), "Khai thác từ xa, không cần xác thực; đã có mã khai thác công khai."),
		chromedp.SendKeys(chromedp.CSS(`#actions`), "Cập nhật bản vá PAN-OS 10.2.9, rà soát nhật ký truy cập VPN."),
		chromedp.SendKeys(chromedp.CSS(`#cves`), "CVE-2024-3400"),
		chromedp.SetValue(chromedp.CSS(`#t-sector`), string(org.SectorBanking)),
		chromedp.Submit(chromedp.CSS(`#title`)),
		urlWhere("the advisory's", func(u string) bool {
			rest, ok := strings.CutPrefix(u, e.URL+"/advisories/")
			return ok && rest != "" && rest != "new" && !strings.Contains(rest, "/")
		}),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/publish"] button`)),
	)
	advURL := b.location()
	b.waitText("reach", `section[aria-labelledby="pub-h"]`, "2 đơn vị")
	b.do("publish",
		chromedp.Click(chromedp.CSS(`form[action$="/publish"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/publish"] button`)),
		chromedp.WaitVisible(chromedp.CSS(rates)),
	)
	if got := b.text(rates); !strings.Contains(got, "2 đơn vị nhận") || strings.Count(got, "0.0 %") != 2 {
		t.Fatalf("rates after publishing: %q, want 2 recipients, 0.0 %% acknowledged and remediated", got)
	}

	// 2. The hospital, outside the sector, does not find it.
	login("benhvien.it")
	b.do("hospital opens the advisory", chromedp.Navigate(advURL), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if body := b.text(`main`); strings.Contains(body, "cổng VPN của ngân hàng") {
		t.Fatalf("the hospital reads an advisory of the banking sector: %q", body)
	}

	// 3. The bank's officer acknowledges, then reports remediation.
	login("nganhang.it")
	b.do("bank acknowledges",
		chromedp.Navigate(advURL),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/acknowledge"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/acknowledge"] button`)),
		// The answer has loaded when the acknowledge form is gone.
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/acknowledge"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/report"] button`)),
	)
	b.waitText("acknowledged", `section[aria-labelledby="mine-h"]`, "Đã xác nhận")
	b.do("bank reports remediation",
		chromedp.Click(chromedp.CSS(`input[name="outcome"][value="remediated"]`)),
		chromedp.SendKeys(chromedp.CSS(`#note`), "Đã cập nhật PAN-OS 10.2.9 trên cả hai cổng VPN, không thấy dấu hiệu khai thác."),
		chromedp.Click(chromedp.CSS(`form[action$="/report"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/report"] button`)),
	)
	b.waitText("reported", `section[aria-labelledby="mine-h"]`, "Đã báo cáo")

	// 4. The coordinator's page: one of two acknowledged and remediated,
	// the bank's answer in the recipients.
	login("canhbao")
	b.do("coordinator reads the rates", chromedp.Navigate(advURL), chromedp.WaitVisible(chromedp.CSS(rates)))
	if got := b.text(rates); !strings.Contains(got, "2 đơn vị nhận") || strings.Count(got, "50.0 %") != 2 {
		t.Fatalf("rates after the bank's answer: %q, want 50.0 %% acknowledged and remediated", got)
	}
	rec := b.text(`section[aria-labelledby="rec-h"]`)
	for _, want := range []string{"Ngân hàng Thương mại Thủ đô", "Đã báo cáo", "Đã khắc phục", "PAN-OS 10.2.9 trên cả hai", "Ngân hàng Sông Hồng"} {
		if !strings.Contains(rec, want) {
			t.Errorf("recipients should show %q: %q", want, rec)
		}
	}
	if strings.Contains(rec, "Bệnh viện") {
		t.Errorf("the hospital is among the recipients: %q", rec)
	}
}
