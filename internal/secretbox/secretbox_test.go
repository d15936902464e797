package secretbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", KeyFile)
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	for _, plain := range []string{"s3cret-token", "mật khẩu dài", strings.Repeat("x", 500)} {
		s := b.Seal(plain)
		if !Sealed(s) || strings.Contains(s, plain) {
			t.Fatalf("sealed %q as %q", plain, s)
		}
		if s == b.Seal(plain) {
			t.Fatal("two seals of one value are the same (no fresh nonce)")
		}
		if got, err := b.Open(s); err != nil || got != plain {
			t.Fatalf("open: %q %v", got, err)
		}
	}
	if b.Seal("") != "" {
		t.Fatal("the empty value sealed")
	}
	// An older value in clear reads as it is.
	if got, err := b.Open("legacy-clear"); err != nil || got != "legacy-clear" {
		t.Fatalf("clear value: %q %v", got, err)
	}
	// The same file opens the same key; another key cannot open the value.
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Seal("token")
	if got, err := again.Open(s); err != nil || got != "token" {
		t.Fatalf("reopened key: %q %v", got, err)
	}
	other, err := Open(filepath.Join(dir, "other", KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(s); err != ErrUnreadable {
		t.Fatalf("another key opened it: %v", err)
	}
	for _, bad := range []string{prefix, prefix + "!!!", prefix + "AAAA", s[:len(s)-2]} {
		if _, err := b.Open(bad); err != ErrUnreadable {
			t.Fatalf("damaged %q: %v", bad, err)
		}
	}
	// A key file of the wrong size is refused, not replaced.
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("too short"), 0o600)
	if _, err := Open(short); err == nil {
		t.Fatal("a short key file was accepted")
	}
	if got, _ := os.ReadFile(short); string(got) != "too short" {
		t.Fatal("the short key file was replaced")
	}
}

func FuzzOpen(f *testing.F) {
	b, err := New(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.Seal("token"))
	f.Add("plain")
	f.Add(prefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := b.Open(s)
		if err == nil && !Sealed(s) && got != s {
			t.Fatalf("clear %q read as %q", s, got)
		}
	})
}
