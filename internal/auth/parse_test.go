package auth

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"certnet/internal/i18n"
)

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		user, pw, want string
	}{
		{"lan", goodPassword, ""},
		{"lan", "correct horse battery staple", ""},
		{"lan", "7f3k-QpZ2-mW8x", ""},
		{"lan", "Ngắn-quá-1", "auth.err.password_too_short"},
		{"lan", "123456789012", "auth.err.password_common"},
		{"lan", "Administrator1", "auth.err.password_common"},
		{"lan", "!!Matkhau2025!!", "auth.err.password_common"},
		{"lan", "zzzzzzzzzzzzzzzz", "auth.err.password_common"},
		{"lan.nguyen.hn", "LAN.NGUYEN.HN", "auth.err.password_is_username"},
		{"nguyenvanlan", "nguyenvanlan2025", "auth.err.password_is_username"},
		{"lan", strings.Repeat("Ab1-", 64), ""},
		{"lan", strings.Repeat("Ab1-", 64) + "x", "auth.err.password_too_long"},
		{"lan", "\xff\xfe-not-utf8-at-all", "field.invalid"},
	}
	for _, c := range cases {
		if got, _ := checkPassword(c.user, c.pw); got != c.want {
			t.Errorf("checkPassword(%q, %q) = %q, want %q", c.user, c.pw, got, c.want)
		}
	}
	if len(commonPasswords) < 100 {
		t.Fatalf("common password list has %d entries", len(commonPasswords))
	}
}

func TestValidUsername(t *testing.T) {
	good := []string{"lan", "lan.nguyen", "soc_feed-01", "123", strings.Repeat("a", 64)}
	bad := []string{"", "ab", "Lan", "lan nguyen", ".lan", "-lan", "_lan", "lân", "lan@hn", strings.Repeat("a", 65)}
	for _, s := range good {
		if !validUsername(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range bad {
		if validUsername(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestAddressKey(t *testing.T) {
	cases := map[string]string{
		"203.0.113.7":                "addr:203.0.113.7",
		" 203.0.113.7:4431 ":         "addr:203.0.113.7",
		"::ffff:203.0.113.7":         "addr:203.0.113.7",
		"2001:db8:1:2:3:4:5:6":       "addr:2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":      "addr:2001:db8:1:2::/64",
		"[2001:db8:1:2::9]":          "addr:2001:db8:1:2::/64",
		"fe80::1%eth0":               "addr:fe80::/64",
		"":                           "",
		"not an address":             "addr:?not an address",
		strings.Repeat("x", 100):     "addr:?" + strings.Repeat("x", 64),
		"2001:db8:1:2:3:4:5:6 extra": "addr:?2001:db8:1:2:3:4:5:6 extra",
	}
	for in, want := range cases {
		if got := addressKey(in, 64); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCode(t *testing.T) {
	cases := []struct {
		in   string
		want string
		kind codeKind
	}{
		{"123456", "123456", codeTOTP},
		{" 123 456 ", "123456", codeTOTP},
		{"123-456", "123456", codeTOTP},
		{"12345", "", codeBad},
		{"1234567", "", codeBad},
		{"abcd-efgh-ijkl-mnop", "abcdefghijklmnop", codeRecovery},
		{"ABCD EFGH IJKL MNOP", "abcdefghijklmnop", codeRecovery},
		{"abcd-efgh-ijkl-mno1", "", codeBad}, // 1 is not base32
		{"１２３４５６", "", codeBad},              // full-width digits
		{strings.Repeat("1", 65), "", codeBad},
	}
	for _, c := range cases {
		got, kind := parseCode(c.in)
		if got != c.want || kind != c.kind {
			t.Errorf("parseCode(%q) = %q, %v; want %q, %v", c.in, got, kind, c.want, c.kind)
		}
	}
	for i := 0; i < 20; i++ {
		c := newRecoveryCode()
		if n, k := parseCode(c); k != codeRecovery || len(n) != recoveryCodeLen {
			t.Fatalf("issued recovery code %q does not parse", c)
		}
	}
}

func TestParseToken(t *testing.T) {
	for i := 0; i < 20; i++ {
		p := newAPIToken()
		if got, ok := parseToken(p); !ok || got != p {
			t.Fatalf("issued token %q does not parse", p)
		}
	}
	p := newAPIToken()
	// 52 base32 characters hold 260 bits for 256: the last character keeps
	// 4 zero bits, so it is always 'a' or 'q', and any other is refused.
	if last := p[len(p)-1]; last != 'a' && last != 'q' {
		t.Fatalf("issued token %q ends in %q", p, last)
	}
	if _, ok := parseToken(p[:len(p)-1] + "b"); ok {
		t.Fatal("non-canonical token accepted")
	}
	for _, bad := range []string{"", "cn_", "xx_" + p[3:], p + "a", p[:len(p)-1], strings.ToUpper(p), p[:10] + "1" + p[11:]} {
		if _, ok := parseToken(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every message key the package uses exists in both catalogues.
func TestCatalogueHasKeys(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"((?:auth\.(?:err|role|scope)|field|error)\.[a-z_.]+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	if len(seen) < 10 {
		t.Fatalf("found only %d keys", len(seen))
	}
	for k := range seen {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, k) {
				t.Errorf("key %q missing in %s", k, l)
			}
		}
	}
	for _, r := range []string{"admin", "coordinator", "analyst", "reporter", "viewer", "auditor"} {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, "auth.role."+r) {
				t.Errorf("role label %s missing in %s", r, l)
			}
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(newAPIToken())
	f.Add("cn_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseToken(s)
		if !ok {
			return
		}
		if len(got) != len(TokenPrefix)+tokenBodyLen || !strings.HasPrefix(got, TokenPrefix) {
			t.Fatalf("accepted %q as %q", s, got)
		}
		if again, ok := parseToken(got); !ok || again != got {
			t.Fatalf("not idempotent: %q", got)
		}
	})
}

func FuzzParseCode(f *testing.F) {
	f.Add("123456")
	f.Add("abcd-efgh-ijkl-mnop")
	f.Fuzz(func(t *testing.T, s string) {
		got, kind := parseCode(s)
		switch kind {
		case codeTOTP:
			if len(got) != 6 {
				t.Fatalf("%q → TOTP %q", s, got)
			}
		case codeRecovery:
			if len(got) != recoveryCodeLen {
				t.Fatalf("%q → recovery %q", s, got)
			}
		default:
			if got != "" {
				t.Fatalf("%q → bad but %q", s, got)
			}
			return
		}
		if again, k := parseCode(got); again != got || k != kind {
			t.Fatalf("not idempotent: %q", got)
		}
	})
}

func FuzzAddressKey(f *testing.F) {
	f.Add("203.0.113.7:443")
	f.Add("[2001:db8::1]:80")
	f.Fuzz(func(t *testing.T, s string) {
		k := addressKey(s, 64)
		if len(k) > 80 {
			t.Fatalf("key too long for %q: %d bytes", s, len(k))
		}
		if strings.TrimSpace(s) != "" && !strings.HasPrefix(k, "addr:") {
			t.Fatalf("key %q for %q", k, s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(k) {
			t.Fatalf("key %q for %q is not UTF-8", k, s)
		}
	})
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("lan", goodPassword)
	f.Add("lan", "Password2024!")
	f.Fuzz(func(t *testing.T, user, pw string) {
		key, _ := checkPassword(user, pw)
		if key == "" && utf8.RuneCountInString(pw) < MinPasswordLen {
			t.Fatalf("short password %q accepted", pw)
		}
		if key != "" && !i18n.Has(i18n.VI, key) {
			t.Fatalf("key %q not in the catalogue", key)
		}
	})
}
