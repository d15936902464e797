package auth

import "crypto/rand"

// Ingest source tokens (internal/ingest): "cns_" then 32 random bytes in
// lower-case base32, stored as the same hex SHA-256 as API tokens. They are
// not API tokens: they authenticate a SOC's event batches and nothing else.
const SourceTokenPrefix = "cns_"

// SourceTokenShown is how many characters of a source token are kept for
// people to recognise it.
const SourceTokenShown = len(SourceTokenPrefix) + 8

// NewSourceToken returns a new source token and its stored hash.
func NewSourceToken() (plain, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	plain = SourceTokenPrefix + b32.EncodeToString(b)
	return plain, hashSecret(plain)
}

// SourceTokenHash checks that s has the shape of a source token and returns
// its stored hash; ok is false for anything else. It does not say whether
// the token exists.
func SourceTokenHash(s string) (hash string, ok bool) {
	if len(s) != len(SourceTokenPrefix)+tokenBodyLen || s[:len(SourceTokenPrefix)] != SourceTokenPrefix {
		return "", false
	}
	body := s[len(SourceTokenPrefix):]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	return hashSecret(s), true
}
