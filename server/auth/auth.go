// Package auth holds the pieces of signing in that do not depend on HTTP:
// password hashing, session tokens and the sign-in rate limiter.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password length bounds. bcrypt reads at most 72 bytes, so longer
// passwords are refused rather than silently truncated.
const (
	MinPassword = 8
	MaxPassword = 72
	MaxEmail    = 254
)

// Cost is the bcrypt cost; tests lower it.
var Cost = bcrypt.DefaultCost

// HashPassword hashes a password for storage.
func HashPassword(password string) ([]byte, error) {
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), Cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// dummyHash is compared against when an account does not exist, so that a
// wrong email costs as much time as a wrong password.
var (
	dummyOnce sync.Once
	dummyHash []byte
)

// VerifyPassword reports whether password matches hash. With a nil hash it
// still spends the time of a comparison.
func VerifyPassword(hash []byte, password string) bool {
	if hash == nil {
		dummyOnce.Do(func() { dummyHash, _ = bcrypt.GenerateFromPassword([]byte("coldstart-dummy-password"), Cost) })
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// CheckPassword says in plain words what is wrong with a new password.
func CheckPassword(p string) error {
	switch {
	case !utf8.ValidString(p):
		return errors.New("the password contains bytes that are not text")
	case utf8.RuneCountInString(p) < MinPassword:
		return fmt.Errorf("the password must be at least %d characters long", MinPassword)
	case len(p) > MaxPassword:
		return fmt.Errorf("the password must be at most %d bytes long", MaxPassword)
	}
	return nil
}

// NormalizeEmail checks an email address and returns it trimmed.
func NormalizeEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	if e == "" {
		return "", errors.New("enter an email address")
	}
	if len(e) > MaxEmail {
		return "", fmt.Errorf("the email address is longer than %d characters", MaxEmail)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e, "@") {
		return "", errors.New("this does not look like an email address (name@example.com)")
	}
	return e, nil
}

// NewToken returns a random token, URL-safe, with 256 bits of entropy.
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is what the store keeps of a session token.
func HashToken(token string) []byte {
	h := TokenKey(token)
	return h[:]
}

// TokenKey is HashToken as an array, for map keys that need no allocation.
func TokenKey(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
