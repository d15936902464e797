package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/i18n"
	"certnet/internal/notify"
	"certnet/internal/notify/notifytest"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// TestIncidentWholePath walks issue 3's whole path in the browser: a
// hospital (member) reports ransomware with a file; the national
// coordinator verifies and classifies it and orders the ISP to block the
// attacker's address; the ISP acknowledges and reports its result; the
// hospital files the closure report; the coordinator acknowledges it and
// closes the incident. The e-mails each step sends arrive at a real SMTP
// server.
func TestIncidentWholePath(t *testing.T) {
	ctx, cancel := browser(t)
	defer cancel()
	e := apptest.StartSQLite(t)
	bg := context.Background()
	smtp := notifytest.StartSMTP(t)
	e.App.Notify.Mailer, e.App.Notify.From = smtp.Mailer(), "certnet@vncert.vn"

	nc := e.Org("VNCERT", "Trung tâm Điều phối Ứng cứu Sự cố Quốc gia", 0, org.RoleNationalCoordinator)
	hosp := e.Org("BV-BACHMAI", "Bệnh viện Bạch Mai", nc.ID, org.RoleSystemOwner)
	isp := e.Org("ISP-VNPT", "Tập đoàn Bưu chính Viễn thông Việt Nam (VNPT)", nc.ID, org.RoleISP)
	coordU := withEmail(t, e, e.User(nc.ID, "truc.ban", policy.RoleCoordinator), "truc.ban@vncert.vn")
	member := withEmail(t, e, e.User(hosp.ID, "cntt.bachmai", policy.RoleReporter), "cntt@bachmai.gov.vn")
	ispU := withEmail(t, e, e.User(isp.ID, "soc.vnpt", policy.RoleCoordinator), "soc@vnpt.vn")

	// Mail: run the outbox jobs and return what arrived since the last call.
	seen := 0
	flush := func(step string, atLeast int) []notifytest.Mail {
		t.Helper()
		for _, job := range []string{notify.JobFanout, notify.JobDeliver} {
			if ran, err := e.App.Jobs.RunNow(bg, job); !ran || err != nil {
				t.Fatalf("%s: job %s: ran=%v err=%v", step, job, ran, err)
			}
		}
		all, err := smtp.Wait(seen+atLeast, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		// Delivery is synchronous: every mail of the batch is in by now.
		out := all[seen:]
		seen = len(all)
		return out
	}
	expectMail := func(step string, mails []notifytest.Mail, to, subject string) {
		t.Helper()
		for _, m := range mails {
			if slices.Contains(m.To, to) && strings.Contains(m.Subject, subject) {
				return
			}
		}
		var got []string
		for _, m := range mails {
			got = append(got, strings.Join(m.To, ",")+": "+m.Subject)
		}
		t.Errorf("%s: no mail to %s with subject containing %q; got:\n%s", step, to, subject, strings.Join(got, "\n"))
	}
	noMail := func(step string, mails []notifytest.Mail, to, subject string) {
		t.Helper()
		for _, m := range mails {
			if slices.Contains(m.To, to) && strings.Contains(m.Subject, subject) {
				t.Errorf("%s: unexpected mail to %s: %q", step, to, m.Subject)
			}
		}
	}

	b := &page{t: t, ctx: ctx, base: e.URL}
	login := b.login

	// 1. The hospital reports ransomware, with the ransom note attached.
	note := []byte("YOUR FILES ARE ENCRYPTED by LockBit 3.0.\nContact: 198.51.100.23 (tor mirror)\nID: BM-2026-11-26\n")
	notePath := filepath.Join(t.TempDir(), "thu-doi-tien-chuoc.txt")
	if err := os.WriteFile(notePath, note, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(note)
	sha := hex.EncodeToString(sum[:])
	detected := e.Clock.Now().Add(-2 * time.Hour).In(i18n.Zone).Format("2006-01-02T15:04")

	login("cntt.bachmai")
	b.do("open form 03",
		chromedp.Navigate(e.URL+"/incidents/new"),
		chromedp.WaitVisible(chromedp.CSS(`#title`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), "Mã độc tống tiền mã hóa máy chủ HIS của bệnh viện"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "Lúc 6 giờ sáng, hệ thống thông tin bệnh viện (HIS) không truy cập được; "+
			"các tệp trên máy chủ bị đổi đuôi .lockbit và xuất hiện thư đòi tiền chuộc. "+
			"Máy chủ kết nối ra địa chỉ 198.51.100.23."),
		chromedp.SetValue(chromedp.CSS(`#type`), "malware"),
		chromedp.SetValue(chromedp.CSS(`#detected_at`), detected),
		chromedp.SetValue(chromedp.CSS(`#reporter_org_id`), itoa(hosp.ID)),
		chromedp.SetValue(chromedp.CSS(`#affected_org_id`), itoa(hosp.ID)),
		chromedp.SendKeys(chromedp.CSS(`#contact-name`), "Nguyễn Văn Hùng"),
		chromedp.SendKeys(chromedp.CSS(`#contact-title`), "Trưởng phòng Công nghệ thông tin"),
		chromedp.SendKeys(chromedp.CSS(`#contact-email`), "cntt@bachmai.gov.vn"),
		chromedp.SendKeys(chromedp.CSS(`#contact-phone`), "0243 869 3731"),
		chromedp.SendKeys(chromedp.CSS(`#system-name`), "Hệ thống thông tin bệnh viện (HIS)"),
		chromedp.SetValue(chromedp.CSS(`#detected_by`), "log_review"),
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{notePath}),
		chromedp.Click(chromedp.CSS(`form[action="/incidents"] button[type="submit"]`)),
	)
	b.waitText("the new incident's page", `.inc-head`, "Đã tiếp nhận")
	ref := b.text(`main h1 code`)
	if !strings.HasPrefix(b.location(), e.URL+"/incidents/") || ref == "" {
		t.Fatalf("after the report the browser should be on the incident, is at %s (ref %q): %s", b.location(), ref, b.text(`main`))
	}
	incURL := b.location()
	// The file is kept as evidence, its SHA-256 shown.
	b.waitText("evidence listed", `#ev-h`, "Chứng cứ số")
	if ev := b.text(`section[aria-labelledby="ev-h"]`); !strings.Contains(ev, "thu-doi-tien-chuoc.txt") || !strings.Contains(ev, sha[:16]) {
		t.Errorf("evidence section should list the file and its SHA-256 %s…, got %q", sha[:16], ev)
	}
	if title := b.attr(`section[aria-labelledby="ev-h"] code[title]`, "title"); title != sha {
		t.Errorf("evidence SHA-256: shown %q, file's %q", title, sha)
	}
	// What the browser downloads is the file, byte for byte.
	dl := b.attr(`section[aria-labelledby="ev-h"] a[download]`, "href")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(dl)+`).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest("SHA-256", b)).then(d => Array.from(new Uint8Array(d)).map(x => x.toString(16).padStart(2, "0")).join(""))`, chromedp.EvalAwaitPromise))
	if err != nil || got != sha {
		t.Errorf("downloaded evidence: SHA-256 %q (err %v), want %q", got, err, sha)
	}
	// The hospital follows the incident from its page.
	b.do("follow", chromedp.Click(chromedp.CSS(`form[action$="/watch"] button[type="submit"]`)))
	b.waitText("following", `section[aria-labelledby="watch-h"]`, "Bỏ theo dõi")
	mails := flush("report", 1)
	expectMail("report", mails, coordU.Email, "Sự cố mới "+ref)
	noMail("report", mails, ispU.Email, ref)

	// 2. The national coordinator verifies and classifies it.
	login("truc.ban")
	b.do("open incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.CSS(`.inc-head`)))
	b.transition("verified", "Đã xác minh")
	b.do("classify",
		chromedp.SetValue(chromedp.CSS(`#c-type`), "ransomware"),
		chromedp.SetValue(chromedp.CSS(`#c-sev`), "high"),
		chromedp.Click(chromedp.CSS(`form[action$="/classify"] button[type="submit"]`)),
	)
	b.waitText("classified", `.inc-head`, "mã độc tống tiền")
	if head := b.text(`.inc-head`); !strings.Contains(head, "Cao") || !strings.Contains(head, "Đã xác minh") {
		t.Errorf("after classification the head should show severity Cao and status Đã xác minh, got %q", head)
	}
	b.transition("containment", "Ngăn chặn, xử lý")

	// The address in the description was picked out as an observable.
	if obs := b.text(`section[aria-labelledby="obs-h"]`); !strings.Contains(obs, "198.51.100.23") {
		t.Errorf("observables should list 198.51.100.23, got %q", obs)
	}

	// 3. It orders the ISP to block the attacker's address.
	deadline := e.Clock.Now().Add(24 * time.Hour).In(i18n.Zone).Format("2006-01-02T15:04")
	const orderTitle = "Chặn kết nối tới máy chủ điều khiển 198.51.100.23"
	b.do("issue order",
		chromedp.Click(chromedp.CSS(`section[aria-labelledby="coord-h"] details summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-title`)),
		chromedp.SendKeys(chromedp.CSS(`#order-title`), orderTitle),
		chromedp.SendKeys(chromedp.CSS(`#order-actions`), "Chặn toàn bộ lưu lượng tới và từ địa chỉ 198.51.100.23 trên mạng của VNPT; "+
			"báo cáo số phiên kết nối đã chặn."),
		chromedp.SendKeys(chromedp.CSS(`#order-targets`), "ISP-VNPT"),
		chromedp.SetValue(chromedp.CSS(`#order-deadline`), deadline),
		chromedp.SetValue(chromedp.CSS(`#order-priority`), "urgent"),
		chromedp.Click(`//section[@aria-labelledby="coord-h"]//label[contains(., "198.51.100.23")]/input[@name="observable"]`),
		chromedp.Click(chromedp.CSS(`form[action$="/orders"] button[type="submit"]`)),
	)
	b.waitText("order listed", `section[aria-labelledby="coord-h"]`, orderTitle)
	if s := b.text(`section[aria-labelledby="coord-h"]`); !strings.Contains(s, "Tập đoàn Bưu chính Viễn thông Việt Nam (VNPT): ○ Đã gửi") {
		t.Errorf("the order's target should be VNPT, sent; got %q", s)
	}
	orderHref := b.attr(`section[aria-labelledby="coord-h"] table a[href^="/orders/"]`, "href")
	mails = flush("order issued", 1)
	expectMail("order issued", mails, ispU.Email, "Lệnh điều phối mới: "+orderTitle)
	noMail("order issued", mails, member.Email, orderTitle)

	// 4. The ISP acknowledges, then reports its result.
	login("soc.vnpt")
	b.do("open order", chromedp.Navigate(e.URL+orderHref), chromedp.WaitVisible(chromedp.CSS(`#targets-h`)))
	if h := b.text(`main h1`); !strings.Contains(h, orderTitle) {
		t.Errorf("order page heading %q", h)
	}
	if s := b.text(`section[aria-labelledby="order-h"]`); !strings.Contains(s, ref) || !strings.Contains(s, "198.51.100.23") ||
		!strings.Contains(s, "Trung tâm Điều phối") {
		t.Errorf("the order should name the incident, the issuer and the address to block, got %q", s)
	}
	if s := b.text(`section[aria-labelledby="targets-h"]`); !strings.Contains(s, "Đã gửi") {
		t.Errorf("the ISP's target state should be Đã gửi before it answers, got %q", s)
	}
	b.do("acknowledge order", chromedp.Click(chromedp.CSS(`button[name="status"][value="acknowledged"]`)))
	b.waitText("order acknowledged", `section[aria-labelledby="targets-h"]`, "Đã xác nhận")
	mails = flush("order acknowledged", 1)
	expectMail("order acknowledged", mails, coordU.Email, "Tổ chức nhận lệnh đã xác nhận lệnh: "+orderTitle)
	// "Done" without a result is refused with a message in Vietnamese, and nothing changes.
	b.do("done without result", chromedp.Click(chromedp.CSS(`button[name="status"][value="done"]`)))
	b.waitText("result required", `#result-err`, "")
	if msg := b.text(`#result-err`); strings.TrimSpace(msg) == "" || !strings.ContainsAny(msg, "ảạáàãâầấậẫẩăằắặẵẳđêềếệễểôồốộỗổơờớợỡởưừứựữửìíịĩỉùúụũủ") {
		t.Errorf("the missing result should be explained in Vietnamese, got %q", msg)
	}
	if s := b.text(`section[aria-labelledby="targets-h"]`); !strings.Contains(s, "Đã xác nhận") || strings.Contains(s, "Hoàn thành") {
		t.Errorf("a refused answer must not change the target, got %q", s)
	}
	const result = "Đã chặn địa chỉ 198.51.100.23 trên toàn mạng VNPT lúc 10:15; ghi nhận 1.284 phiên kết nối bị chặn."
	b.do("report result",
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
		chromedp.SendKeys(chromedp.CSS(`#result`), result),
		chromedp.Click(chromedp.CSS(`button[name="status"][value="done"]`)),
	)
	b.waitText("order done", `section[aria-labelledby="targets-h"]`, "Hoàn thành")
	if s := b.text(`section[aria-labelledby="targets-h"]`); !strings.Contains(s, "1.284 phiên") {
		t.Errorf("the target's result should show, got %q", s)
	}
	mails = flush("order done", 1)
	expectMail("order done", mails, coordU.Email, "Tổ chức nhận lệnh đã hoàn thành lệnh: "+orderTitle)

	// The coordinator sees the target's state on the incident and moves to recovery.
	login("truc.ban")
	b.do("back to incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.CSS(`.inc-head`)))
	if s := b.text(`section[aria-labelledby="coord-h"]`); !strings.Contains(s, "✓ Hoàn thành") || !strings.Contains(s, "1.284 phiên") {
		t.Errorf("the incident should show the order done with its result, got %q", s)
	}
	b.transition("recovery", "Khôi phục")

	// 5. The hospital files the closure report.
	login("cntt.bachmai")
	b.do("closure report",
		chromedp.Navigate(incURL),
		chromedp.WaitVisible(chromedp.CSS(`#r-kind`)),
		chromedp.SetValue(chromedp.CSS(`#r-kind`), "closure"),
		chromedp.SendKeys(chromedp.CSS(`#r-summary`), "Đã khôi phục HIS từ bản sao lưu ngày 25/11; không trả tiền chuộc."),
		chromedp.SendKeys(chromedp.CSS(`#r-result`), "Hệ thống hoạt động bình thường từ 16 giờ; đã đổi toàn bộ mật khẩu quản trị."),
		chromedp.SendKeys(chromedp.CSS(`#r-lessons`), "Tách mạng sao lưu khỏi mạng nghiệp vụ."),
		chromedp.Click(chromedp.CSS(`form[action$="/reports"] button[type="submit"]`)),
	)
	b.waitText("closure report listed", `section[aria-labelledby="reports-h"] table`, "Báo cáo kết thúc ứng phó")
	mails = flush("closure report", 1)
	expectMail("closure report", mails, coordU.Email, "Sự cố "+ref+": có báo cáo mới")

	// 6. The coordinator ends the response; closing is refused until the
	// closure report is acknowledged; it acknowledges it and closes.
	login("truc.ban")
	b.do("open incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.CSS(`.inc-head`)))
	b.transition("review", "Đánh giá, rút kinh nghiệm")
	b.do("close too early", chromedp.Click(chromedp.CSS(`form:has(input[name="to"][value="closed"]) button`)))
	b.waitText("close refused", `main`, "báo cáo kết thúc ứng phó chưa được xác nhận")
	if head := b.text(`.inc-head`); !strings.Contains(head, "Đánh giá, rút kinh nghiệm") {
		t.Errorf("a refused close must leave the incident in review, head %q", head)
	}
	b.do("acknowledge closure report",
		chromedp.Navigate(incURL),
		chromedp.WaitVisible(chromedp.CSS(`#reports-h`)),
		chromedp.Click(`//section[@aria-labelledby="reports-h"]//tr[contains(., "Báo cáo kết thúc ứng phó")]//button`),
	)
	b.waitText("closure report acknowledged", `section[aria-labelledby="reports-h"] tr:last-child .status-ok`, "truc.ban")
	b.transition("closed", "Đã kết thúc")
	if s := b.text(`section[aria-labelledby="tl-h"]`); !strings.Contains(s, "truc.ban") {
		t.Errorf("timeline should name the coordinator, got %q", s)
	}
	mails = flush("closed", 2)
	expectMail("closure acknowledged", mails, member.Email, "Sự cố "+ref+": báo cáo")
	expectMail("closed", mails, member.Email, "Sự cố "+ref+" chuyển trạng thái")
	var closing bool
	for _, m := range mails {
		if slices.Contains(m.To, member.Email) && strings.Contains(m.Subject, ref) &&
			(strings.HasSuffix(m.Subject, " closed") || strings.Contains(m.Subject, "Đã kết thúc")) {
			closing = true
		}
	}
	if !closing {
		t.Errorf("no mail tells the hospital the incident is closed")
	}
	noMail("closed", mails, ispU.Email, ref)

	// Every mail's subject carries the TLP; none went to anyone outside the three.
	for _, m := range smtp.Mails() {
		t.Logf("mail to %s: %s", strings.Join(m.To, ","), m.Subject)
		if !strings.Contains(m.Subject, "TLP:") {
			t.Errorf("mail %q has no TLP in its subject", m.Subject)
		}
		for _, to := range m.To {
			if to != coordU.Email && to != member.Email && to != ispU.Email {
				t.Errorf("mail %q to unknown %s", m.Subject, to)
			}
		}
	}
}

func withEmail(t *testing.T, e *apptest.Env, u auth.User, email string) auth.User {
	t.Helper()
	if _, err := e.DB.Exec(context.Background(), "UPDATE users SET email = ? WHERE id = ?", email, u.ID); err != nil {
		t.Fatal(err)
	}
	u.Email = email
	return u
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// transition presses the incident page's button for the step to and waits
// for the status shown in Vietnamese.
func (p *page) transition(to, label string) {
	p.t.Helper()
	p.do("transition to "+to,
		chromedp.WaitVisible(chromedp.CSS(`form:has(input[name="to"][value="`+to+`"]) button`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="to"][value="`+to+`"]) button`)),
	)
	p.waitText("status "+to, `.inc-head`, label)
}

// waitText waits (up to 10 s) until the element's text holds want.
func (p *page) waitText(step, css, want string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(p.ctx, time.Second)
		s, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(css)))
		cancel()
		if strings.Contains(strings.ToLower(s), strings.ToLower(want)) {
			return
		}
		last = s
		time.Sleep(100 * time.Millisecond)
	}
	tctx, cancel := context.WithTimeout(p.ctx, time.Second)
	main, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`main`)))
	cancel()
	p.t.Fatalf("%s: %s should show %q, shows %q (page at %s: %q)", step, css, want, last, p.location(), main)
}

func (p *page) attr(css, name string) string {
	p.t.Helper()
	r, err := chromedp.Run(p.ctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil || !r.Exists {
		p.t.Fatalf("attribute %s of %s: exists=%v err=%v", name, css, r.Exists, err)
	}
	return r.Value
}

// urlWhere waits (up to 10 s) until the tab's address satisfies ok: after a
// submit, the old page's elements would otherwise answer the next wait.
func urlWhere(what string, ok func(string) bool) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err == nil && ok(loc) {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("address should be %s, is %s (%v)", what, loc, err)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
