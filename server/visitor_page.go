package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// visitorValues are the strings of a lesson page seen without an account.
var visitorValues = [slotCount]string{slotQuiz: "{}"}

// serveVisitorPage answers a visitor from the page kept in memory: the
// same bytes for everyone, with an ETag, so a browser that has them gets a
// 304 and no body. "no-cache" lets browsers keep the page but makes them ask
// each time, so a course reload is seen at once.
func (s *Server) serveVisitorPage(c *gin.Context, sp *splicedPage) {
	body, etag := sp.visitorPage(&visitorValues)
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Cookie")
	if match := c.GetHeader("If-None-Match"); match != "" && match == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", body)
}
