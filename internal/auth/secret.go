package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is the stored form of a high-entropy secret (session token, API
// token, recovery code): hex SHA-256. A slow hash is not needed: the secret
// has far more entropy than any password.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Session tokens: 32 random bytes, base64url without padding.
const sessionTokenLen = 43

func newSessionToken() string { return randomToken(32) }

func validSessionToken(t string) bool {
	if len(t) != sessionTokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// API tokens: "cn_" then 32 random bytes in lower-case base32 without
// padding (52 characters, 256 bits).
const (
	TokenPrefix  = "cn_"
	tokenBodyLen = 52
	tokenShown   = len(TokenPrefix) + 8 // characters kept for display
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newAPIToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return TokenPrefix + b32.EncodeToString(b)
}

// parseToken checks that s has the shape of an API token (surrounding
// spaces ignored) and returns it. It does not say whether the token exists.
func parseToken(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != len(TokenPrefix)+tokenBodyLen || !strings.HasPrefix(s, TokenPrefix) {
		return "", false
	}
	body := s[len(TokenPrefix):]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	// 52 base32 characters hold 260 bits; the last one carries 4 bits of
	// padding that must be zero for the token to be one we issued.
	raw, err := b32.DecodeString(body)
	if err != nil || len(raw) != 32 || b32.EncodeToString(raw) != body {
		return "", false
	}
	return s, true
}

// Recovery codes: 16 lower-case base32 characters (80 bits), shown as
// four groups of four.
const recoveryCodeLen = 16

func newRecoveryCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	c := b32.EncodeToString(b) // 16 characters
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
}

// codeKind is what a second-factor code the user typed looks like.
type codeKind int

const (
	codeBad codeKind = iota
	codeTOTP
	codeRecovery
)

// parseCode normalises a code typed by the user: spaces and hyphens are
// dropped, letters lower-cased. Six digits are a TOTP code; sixteen base32
// characters a recovery code; anything else is refused.
func parseCode(s string) (string, codeKind) {
	if len(s) > 64 {
		return "", codeBad
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t' || r == '\u00a0':
			continue
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		default:
			return "", codeBad
		}
	}
	c := b.String()
	if len(c) == 6 && strings.Trim(c, "0123456789") == "" {
		return c, codeTOTP
	}
	if len(c) == recoveryCodeLen && strings.Trim(c, "abcdefghijklmnopqrstuvwxyz234567") == "" {
		return c, codeRecovery
	}
	return "", codeBad
}

// hashRecoveryCode hashes the normalised form of a recovery code.
func hashRecoveryCode(normalised string) string { return hashSecret("recovery:" + normalised) }
