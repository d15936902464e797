package notify_test

import (
	"strings"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/notify"
)

// Codes passed with Label reach each recipient in their own language, not
// as the code.
func TestRenderTranslatesLabels(t *testing.T) {
	m := errs.Msg{Key: "incnotify.status", Args: []any{"SC-2026-000001",
		notify.Label("incident.status.received"), notify.Label("incident.status.verified")}}
	vi := notify.Render(i18n.VI, m)
	en := notify.Render(i18n.EN, m)
	if strings.Contains(vi, "received") || !strings.Contains(vi, i18n.T(i18n.VI, "incident.status.verified")) {
		t.Errorf("vi: %q", vi)
	}
	if !strings.Contains(en, i18n.T(i18n.EN, "incident.status.verified")) || strings.Contains(en, "\x00") {
		t.Errorf("en: %q", en)
	}
	if m.Args[1] != notify.Label("incident.status.received") {
		t.Error("Render changed the message's arguments")
	}
	if notify.Render(i18n.VI, errs.Msg{}) != "" {
		t.Error("empty message rendered")
	}
}
