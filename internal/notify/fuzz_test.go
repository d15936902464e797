package notify

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The URL and kinds of a webhook come from administrators (web form, API):
// validation never panics, and what it accepts is a clean http(s) URL.
func FuzzWebhookInput(f *testing.F) {
	for _, s := range []string{"https://siem.example.vn/hook", "http://10.0.0.1:8080/x?a=1", "ftp://x", "", " https://a.vn ",
		"https://user:pw@a.vn/", "javascript:alert(1)", "https://a.vn/#frag", "http://[::1]:80/", "https://a.vn/\x00"} {
		f.Add(s, "test.kind")
	}
	if !KnownKind("fuzz.kind") {
		RegisterKind("fuzz.kind", "notify.kind.webhook_test")
	}
	f.Fuzz(func(t *testing.T, raw, kind string) {
		in := WebhookInput{URL: raw, Kinds: []string{kind, "fuzz.kind", kind}}
		if err := validateWebhook("fuzz", &in); err != nil {
			return
		}
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			t.Fatalf("accepted %q", in.URL)
		}
		if !utf8.ValidString(in.URL) || strings.TrimSpace(in.URL) != in.URL || len(in.URL) > MaxWebhookURLLen {
			t.Fatalf("accepted %q", in.URL)
		}
		for _, k := range in.Kinds {
			if !KnownKind(k) {
				t.Fatalf("accepted kind %q", k)
			}
		}
	})
}

// Stored messages are read back without panicking whatever the column holds.
func FuzzDecodeMsg(f *testing.F) {
	f.Add(`{"key":"a.b","args":[1,"x",2.5,null,{"a":1}]}`)
	f.Add(`{}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, s string) {
		m := decodeMsg(s)
		_ = Render("vi", m)
		_ = decodeIDs(s)
		_ = decodeStrings(s)
	})
}
