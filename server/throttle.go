package server

import (
	"fmt"
	"time"

	"coldstart/server/auth"
)

// throttles limit sign-in and sign-up attempts. There is deliberately no
// limit per account alone: failures from other addresses must never stop
// the account's owner from signing in from a clean one. Guessing one
// account's password is limited per address and per (account, address);
// bcrypt makes each guess slow.
type throttles struct {
	signinAddr *auth.Throttle // every sign-in from an address; successes are refunded
	signinPair *auth.Throttle // failures for one account from one address
	signup     *auth.Throttle // accounts created from an address
}

// throttleKeys bounds the memory of each throttle (about 200 bytes a key).
const throttleKeys = 50000

func newThrottles(now func() time.Time) throttles {
	t := throttles{
		signinAddr: auth.NewThrottle(30, 20*time.Second, throttleKeys),
		signinPair: auth.NewThrottle(5, time.Minute, throttleKeys),
		signup:     auth.NewThrottle(10, time.Minute, throttleKeys),
	}
	for _, th := range []*auth.Throttle{t.signinAddr, t.signinPair, t.signup} {
		th.Now = now
	}
	return t
}

// waitText says a wait in plain words, rounded up.
func waitText(d time.Duration) string {
	if d < time.Minute {
		s := int((d + time.Second - 1) / time.Second)
		if s <= 1 {
			return "a second"
		}
		return fmt.Sprintf("%d seconds", s)
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
