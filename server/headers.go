package server

import (
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows scripts, styles and everything else only
// from this server's own files: no inline script or style attribute, no
// framing by any site, forms posted only here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries. HSTS only when
// cookies are Secure: on plain HTTP it would be ignored, and it would lock
// out a server that is reached over HTTP on purpose.
func (s *Server) securityHeaders(c *gin.Context) {
	// The values are shared slices assigned under their canonical names:
	// Header.Set would canonicalise the name and allocate a slice on every
	// response. net/http only reads them.
	h := c.Writer.Header()
	h["Content-Security-Policy"] = cspValue
	h["X-Content-Type-Options"] = nosniffValue
	h["X-Frame-Options"] = denyValue
	h["Referrer-Policy"] = sameOriginValue
	h["Cross-Origin-Opener-Policy"] = sameOriginValue
	if s.secure(c) {
		h["Strict-Transport-Security"] = hstsValue
	}
	c.Next()
}

var (
	cspValue        = []string{contentSecurityPolicy}
	nosniffValue    = []string{"nosniff"}
	denyValue       = []string{"DENY"}
	sameOriginValue = []string{"same-origin"}
	hstsValue       = []string{"max-age=31536000"}
)

// barWidthCSS gives a progress bar's filling its width by class (w0 to
// w100) instead of an inline style, which the policy forbids.
func barWidthCSS() string {
	var b strings.Builder
	b.WriteString("\n/* Progress bar widths */\n")
	for i := 0; i <= 100; i++ {
		fmt.Fprintf(&b, ".bar .w%d{width:%d%%}\n", i, i)
	}
	return b.String()
}
