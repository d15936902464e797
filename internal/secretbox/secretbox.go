// Package secretbox keeps the credentials certnet must be able to send
// again (a federation peer's password or token: they cannot be hashed like
// the users' passwords) sealed in the database with AES-256-GCM under a key
// that lives in a file of the data folder, not in the database: a copy of
// the database (a backup, a dump handed to support) does not carry them in
// clear. A value sealed under another key — a database restored on a
// server without the key file — cannot be opened; the caller asks for the
// secret again.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// prefix marks a sealed value; a stored value without it is an older one
// kept in clear (Open returns it as it is).
const prefix = "sealed:v1:"

// KeyFile is the name of the key file in the data folder.
const KeyFile = "secret.key"

// ErrUnreadable: the value was sealed under another key, or is damaged.
var ErrUnreadable = errors.New("secretbox: sealed under another key or damaged")

// Box seals and opens values under one key.
type Box struct{ aead cipher.AEAD }

// New makes a box of a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox: the key is %d bytes, not 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Open loads the key at path, making a new random one (readable by the
// owner only) when there is none. A key file of the wrong size is an
// error, not replaced: the values sealed under it would be lost.
func Open(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		// O_EXCL: two processes starting together keep one key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return Open(path)
		}
		if err != nil {
			return nil, fmt.Errorf("secretbox: create key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("secretbox: write key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("secretbox: write key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("secretbox: write key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("secretbox: read key: %w", err)
	}
	b, err := New(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %s: %w", path, err)
	}
	return b, nil
}

// Sealed reports whether a stored value is sealed (rather than an older
// value in clear).
func Sealed(stored string) bool { return strings.HasPrefix(stored, prefix) }

// Seal returns plain sealed, as text to store. The empty value stays empty.
func (b *Box) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("secretbox: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(prefix))
	return prefix + base64.RawURLEncoding.EncodeToString(out)
}

// Open returns the value a stored text holds: a sealed one opened, an
// older one in clear as it is. ErrUnreadable when it was sealed under
// another key.
func (b *Box) Open(stored string) (string, error) {
	enc, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return stored, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", ErrUnreadable
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(prefix))
	if err != nil {
		return "", ErrUnreadable
	}
	return string(plain), nil
}
