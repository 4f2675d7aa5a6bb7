package server

import (
	"net/url"
	"strings"
)

// safeNext keeps a redirect target on this server: it must be a path on
// this site, which browsers cannot read as another host. Anything else
// becomes "/".
func safeNext(next string) string {
	if isLocalPath(next) {
		return next
	}
	return "/"
}

func isLocalPath(next string) bool {
	if next == "" || len(next) > 512 || next[0] != '/' {
		return false
	}
	// Browsers drop tabs and newlines from URLs and read a backslash as a
	// slash, so "/\t/evil.example" and "/\\evil.example" lead elsewhere.
	for i := 0; i < len(next); i++ {
		if b := next[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return false
		}
	}
	if strings.HasPrefix(next, "//") {
		return false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// The decoded path must hold no such trick either ("/%2F/evil.example").
	return !strings.HasPrefix(u.Path, "//") && !strings.ContainsAny(u.Path, "\\\x00\t\r\n")
}
