package server

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/server/store"
)

var auditActions = []string{store.AuditRoleChange, store.AuditDeactivate, store.AuditReactivate, store.AuditInvite,
	store.AuditResetLink, store.AuditSetupLink, store.AuditSetupUsed, store.AuditPasswordChange, store.AuditSignOutAll,
	store.AuditGroupCreate, store.AuditGroupJoin, store.AuditGroupMove, store.AuditDeadline, store.AuditExtension, store.AuditExport}

func knownAction(a string) bool {
	for _, k := range auditActions {
		if a == k {
			return true
		}
	}
	return false
}

type auditData struct {
	Entries []store.AuditEntry
	Action  string
	Actions []string
}

func (s *Server) auditEntries(c *gin.Context, limit int) (string, []store.AuditEntry, bool) {
	action := c.Query("action")
	if action != "" && !knownAction(action) {
		s.failWith(c, errorf(EInvalid, "Unknown action", "Choose an action from the list."))
		return "", nil, false
	}
	entries, err := s.store.AuditLog(c.Request.Context(), action, limit)
	if err != nil {
		s.failWith(c, err)
		return "", nil, false
	}
	return action, entries, true
}

// auditPage shows the newest 500 entries of the audit log to admins.
func (s *Server) auditPage(c *gin.Context) {
	action, entries, ok := s.auditEntries(c, 500)
	if !ok {
		return
	}
	p := s.newPage(c, "Audit log", auditData{Entries: entries, Action: action, Actions: auditActions})
	p.Nav = "cohort"
	s.render(c, http.StatusOK, "audit", p)
}

// auditCSV exports the whole audit log (or one action) as CSV.
func (s *Server) auditCSV(c *gin.Context) {
	action, entries, ok := s.auditEntries(c, 0)
	if !ok {
		return
	}
	t := gradebookTable{Columns: []string{"id", "at", "actor", "action", "target", "detail"}}
	for _, e := range entries {
		t.Rows = append(t.Rows, []any{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), e.ActorEmail, e.Action, e.TargetEmail, e.Detail})
	}
	var buf bytes.Buffer
	if err := writeCSV(&buf, t); err != nil {
		s.internal(c, err)
		return
	}
	name := "audit"
	if action != "" {
		name += "-" + action
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+"-"+time.Now().UTC().Format("20060102")+`.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8; header=present", buf.Bytes())
}
