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

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	th := auth.NewThrottle(3, time.Minute, 100)
	th.Now = func() time.Time { return now }
	for i := range 3 {
		if _, ok, _ := th.Take("ip"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	_, ok, wait := th.Take("ip")
	if ok || wait != time.Minute {
		t.Fatalf("fourth attempt: ok=%v wait=%v, want refused for a minute", ok, wait)
	}
	if _, ok, _ := th.Take("other"); !ok {
		t.Fatal("keys are not independent")
	}
	now = now.Add(30 * time.Second)
	if _, ok, wait := th.Take("ip"); ok || wait != 30*time.Second {
		t.Fatalf("half a minute later: ok=%v wait=%v", ok, wait)
	}
	now = now.Add(30 * time.Second)
	a, ok, _ := th.Take("ip")
	if !ok {
		t.Fatal("no attempt came back after a minute")
	}
	a.Refund()
	if _, ok, _ := th.Take("ip"); !ok {
		t.Fatal("a refunded attempt was not given back")
	}
	th.Forget("ip")
	for i := range 3 {
		if _, ok, _ := th.Take("ip"); !ok {
			t.Fatalf("after Forget, attempt %d refused", i+1)
		}
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th := auth.NewThrottle(1, time.Hour, 100)
	for i := range 10000 {
		th.Take(strings.Repeat("k", i%7) + string(rune(i)))
	}
	if n := th.Len(); n != 100 {
		t.Fatalf("remembers %d keys, want at most 100", n)
	}
	// The most recently used keys survive.
	if _, ok, _ := th.Take(strings.Repeat("k", 9999%7) + string(rune(9999))); ok {
		t.Fatal("the most recent key was forgotten")
	}
}
