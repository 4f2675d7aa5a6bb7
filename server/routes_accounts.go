package server

import (
	"github.com/gin-gonic/gin"

	"coldstart/server/store"
)

// accountRoutes registers the pages of accounts: the user's own account,
// one-time links, and the admin's account list.
func (s *Server) accountRoutes(r *gin.Engine) {
	r.GET("/account", s.requireUser, s.accountPage)
	r.POST("/account/password", s.requireUser, s.changePassword)
	r.POST("/account/sign-out-everywhere", s.requireUser, s.signOutEverywhere)

	for _, kind := range []store.LinkKind{store.LinkInvite, store.LinkReset, store.LinkSetup} {
		r.GET(linkPath(kind, ":token"), s.linkPage(kind))
		r.POST(linkPath(kind, ":token"), s.useLink(kind))
	}

	r.GET("/certificate", s.requireUser, s.myCertificate)
	r.POST("/certificate", s.requireUser, s.issueCertificate)
	r.GET("/certificates/:code", s.certificatePage)

	r.GET("/auth/oidc/login", s.requireOIDC, s.oidcLogin)
	r.GET("/auth/oidc/callback", s.requireOIDC, s.oidcCallback)

	admin := r.Group("/admin", s.requireUser, s.requireAdmin)
	admin.GET("/users", s.adminUsers)
	admin.POST("/users", s.inviteUser)
	admin.POST("/users/:id/deactivate", s.setActive(false))
	admin.POST("/users/:id/reactivate", s.setActive(true))
	admin.POST("/users/:id/reset-link", s.resetLink)
	admin.GET("/audit", s.auditPage)
	admin.GET("/audit.csv", s.auditCSV)
	admin.GET("/grading", s.gradingPage)
}

// cohortRoutes registers the instructors' pages beyond the cohort table.
func (s *Server) cohortRoutes(r *gin.Engine) {
	teach := r.Group("/cohort", s.requireUser, s.requireTeacher)
	teach.GET("/gradebook.csv", s.gradebookCSV)
	teach.GET("/gradebook.json", s.gradebookJSON)
	teach.GET("/groups", s.groupsPage)
	teach.POST("/groups", s.createGroup)
	teach.GET("/groups/:id", s.groupPage)
	teach.POST("/groups/:id/deadlines", s.setDeadlines)
	teach.POST("/groups/:id/extensions", s.grantExtension)
	teach.GET("/students/:id", s.studentPage)
	teach.GET("/attempts/:id", s.attemptPage)
	teach.GET("/analytics", s.analyticsPage)

	r.GET("/join/:token", s.requireUser, s.joinPage)
	r.POST("/join/:token", s.requireUser, s.joinGroup)
}
