package i18n

import (
	"regexp"
	"testing"
)

// Every key exists in both languages, and both use the same format verbs.
func TestCataloguesMatch(t *testing.T) {
	vi, err := Catalog(VI)
	if err != nil {
		t.Fatal(err)
	}
	en, err := Catalog(EN)
	if err != nil {
		t.Fatal(err)
	}
	if len(vi) == 0 {
		t.Fatal("empty Vietnamese catalogue")
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	for k, v := range vi {
		e, ok := en[k]
		if !ok {
			t.Errorf("key %q missing in en", k)
			continue
		}
		if a, b := verbs.FindAllString(v, -1), verbs.FindAllString(e, -1); len(a) != len(b) {
			t.Errorf("key %q: vi has verbs %v, en has %v", k, a, b)
		}
		if v == "" || e == "" {
			t.Errorf("key %q: empty message", k)
		}
	}
	for k := range en {
		if _, ok := vi[k]; !ok {
			t.Errorf("key %q missing in vi", k)
		}
	}
}

func TestFold(t *testing.T) {
	cases := map[string]string{
		"Hà Nội":                   "ha noi",
		"  Đà   Nẵng ":             "da nang",
		"TP. Hồ Chí Minh":          "tp. ho chi minh",
		"Sở Khoa học và Công nghệ": "so khoa hoc va cong nghe",
		"ha noi":                   "ha noi",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatInt(t *testing.T) {
	if got := FormatInt(VI, 1234567); got != "1.234.567" {
		t.Errorf("vi: %s", got)
	}
	if got := FormatInt(EN, -1234); got != "-1,234" {
		t.Errorf("en: %s", got)
	}
	if got := FormatInt(VI, 999); got != "999" {
		t.Errorf("vi small: %s", got)
	}
}

func TestMissingKeyIsVisible(t *testing.T) {
	if got := T(VI, "no.such.key"); got != "[no.such.key]" {
		t.Errorf("got %q", got)
	}
}
