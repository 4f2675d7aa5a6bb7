package auth_test

import (
	"strings"
	"testing"
	"time"

	"coldstart/server/auth"
)

func TestPasswords(t *testing.T) {
	auth.Cost = 4
	tests := []struct {
		name, password string
		ok             bool
	}{
		{"Good", "correct horse", true},
		{"TooShort", "short", false},
		{"TooLong", strings.Repeat("x", 73), false},
		{"NotText", "abcdefgh\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := auth.HashPassword(tt.password)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (!auth.VerifyPassword(h, tt.password) || auth.VerifyPassword(h, tt.password+"x")) {
				t.Fatal("verification is wrong")
			}
		})
	}
	if auth.VerifyPassword(nil, "anything") {
		t.Fatal("nil hash verified")
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, ok := range map[string]bool{
		" ada@example.com ":                true,
		"":                                 false,
		"not an email":                     false,
		"Ada <ada@example.com>":            false,
		"a@b; rm -rf /":                    false,
		strings.Repeat("a", 300) + "@x.io": false,
	} {
		if _, err := auth.NormalizeEmail(in); (err == nil) != ok {
			t.Errorf("NormalizeEmail(%q) err = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestTokens(t *testing.T) {
	a, b := auth.NewToken(), auth.NewToken()
	if a == b || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if string(auth.HashToken(a)) == a || len(auth.HashToken(a)) != 32 {
		t.Fatal("hash is not a SHA-256")
	}
	if !auth.Equal(a, a) || auth.Equal(a, b) || auth.Equal("", "") {
		t.Fatal("Equal is wrong")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := auth.NewLimiter(3, time.Minute)
	l.Now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("ip"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := l.Allow("ip")
	if ok || wait != time.Minute {
		t.Fatalf("fourth attempt: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("keys are not independent")
	}
	now = now.Add(time.Minute)
	if ok, _ := l.Allow("ip"); !ok {
		t.Fatal("window did not slide")
	}
	l.Reset("ip")
	for i := 0; i < 3; i++ {
		l.Allow("ip")
	}
	if ok, _ := l.Allow("ip"); ok {
		t.Fatal("limit not enforced after reset")
	}
}
