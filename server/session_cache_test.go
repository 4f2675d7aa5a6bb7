package server

import (
	"net/http"
	"testing"
	"time"

	"coldstart/server/auth"
	"coldstart/server/store"
)

// A lookup reads the store, a revocation lands, then the lookup stores what
// it read: the revoked session must not come back from the cache.
func TestSessionCacheKeepsNoLookupThatRacedARevocation(t *testing.T) {
	for name, revoke := range map[string]func(c *sessionCache, k *sessionKey){
		"SignOut":           func(c *sessionCache, k *sessionKey) { c.forget(k) },
		"SignOutEverywhere": func(c *sessionCache, _ *sessionKey) { c.forgetUser(7) },
	} {
		t.Run(name, func(t *testing.T) {
			c := newSessionCache()
			k := sessionKey(auth.TokenKey("token"))
			e := sessionEntry{user: &store.User{ID: 7}, fresh: time.Now().Add(time.Minute), expires: time.Now().Add(time.Hour)}
			gen := c.generation() // before the store is read
			revoke(c, &k)
			c.put(&k, e, gen)
			if _, ok := c.get(&k); ok {
				t.Fatal("the cache kept a session read before it was revoked")
			}
			c.put(&k, e, c.generation()) // a lookup after the revocation is kept
			if _, ok := c.get(&k); !ok {
				t.Fatal("a lookup after the revocation was not kept")
			}
		})
	}
	t.Run("UnknownCookiesRevokeNothing", func(t *testing.T) {
		c := newSessionCache()
		gen := c.generation()
		bogus := sessionKey(auth.TokenKey("bogus"))
		c.drop(&bogus)
		k := sessionKey(auth.TokenKey("token"))
		c.put(&k, sessionEntry{user: &store.User{ID: 1}}, gen)
		if _, ok := c.get(&k); !ok {
			t.Fatal("an unknown cookie kept a good session out of the cache")
		}
	})
}

func TestPlainCookie(t *testing.T) {
	for _, tc := range []struct {
		header       []string
		value        string
		found, plain bool
	}{
		{[]string{"coldstart_session=abc-DEF_123"}, "abc-DEF_123", true, true},
		{[]string{"theme=dark; coldstart_session=tok; other=1"}, "tok", true, true},
		{[]string{"theme=dark", " coldstart_session = tok "}, "", true, false},
		{[]string{"  coldstart_session=tok"}, "tok", true, true},
		{[]string{"xcoldstart_session=tok; coldstart_sessionx=tok"}, "", false, false},
		{[]string{`coldstart_session="tok"`}, "", true, false},
		{[]string{"coldstart_session=a=b"}, "", true, false},
		{[]string{"coldstart_session="}, "", true, true},
		{nil, "", false, false},
	} {
		v, found, plain := plainCookie(tc.header, "coldstart_session")
		if v != tc.value || found != tc.found || plain != tc.plain {
			t.Errorf("%q: got %q %v %v, want %q %v %v", tc.header, v, found, plain, tc.value, tc.found, tc.plain)
		}
		// Where it answers by itself, net/http answers the same.
		if found && plain {
			r := &http.Request{Header: http.Header{"Cookie": tc.header}}
			ck, err := r.Cookie("coldstart_session")
			if err != nil || ck.Value != v {
				t.Errorf("%q: net/http reads %v %v, plainCookie %q", tc.header, ck, err, v)
			}
		}
	}
}
