package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/auth"
	"coldstart/server/store"
)

type certificateData struct {
	Cert *store.Certificate
	// What remains before a certificate can be issued.
	LessonsLeft   []*content.Lesson
	ExercisesLeft []*content.Exercise
	VerifyURL     string
	Mine          bool
}

// remaining lists what a user has not done yet: lessons not completed and
// exercises not passed.
func (s *Server) remaining(c *gin.Context, u *store.User) ([]*content.Lesson, []*content.Exercise, *store.Progress, error) {
	p, err := s.store.Progress(c.Request.Context(), u.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	course := s.course.Course()
	var lessons []*content.Lesson
	var exercises []*content.Exercise
	for _, l := range course.Lessons {
		if _, ok := p.Lessons[l.Slug]; !ok {
			lessons = append(lessons, l)
		}
	}
	for _, ex := range course.Exercises {
		if !p.Exercises[ex.ID].Passed {
			exercises = append(exercises, ex)
		}
	}
	return lessons, exercises, p, nil
}

// myCertificate shows the user's certificate, or what remains to earn it.
func (s *Server) myCertificate(c *gin.Context) {
	u := currentUser(c)
	cert, err := s.store.CertificateOf(c.Request.Context(), u.ID)
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/certificates/"+cert.Code)
		return
	}
	if !errors.Is(err, store.ErrNotFound) {
		s.failWith(c, err)
		return
	}
	lessons, exercises, _, err := s.remaining(c, u)
	if err != nil {
		s.failWith(c, err)
		return
	}
	p := s.newPage(c, "Certificate", certificateData{LessonsLeft: lessons, ExercisesLeft: exercises})
	s.render(c, http.StatusOK, "certificate", p)
}

// issueCertificate issues the certificate of a user who completed every
// lesson and passed every exercise.
func (s *Server) issueCertificate(c *gin.Context) {
	u := currentUser(c)
	lessons, exercises, p, err := s.remaining(c, u)
	if err != nil {
		s.failWith(c, err)
		return
	}
	if len(lessons) > 0 || len(exercises) > 0 {
		s.failWith(c, errorf(EForbidden, "Not yet", "A certificate needs every lesson completed and every exercise passed; your certificate page lists what remains."))
		return
	}
	course := s.course.Course()
	cert := store.Certificate{Code: auth.NewToken()[:20], UserID: u.ID, Name: u.DisplayName(), Course: course.Title}
	for _, ex := range course.Exercises {
		cert.Scores = append(cert.Scores, store.CertificateScore{Exercise: ex.ID, Title: ex.Title, Score: p.Exercises[ex.ID].Best})
	}
	got, err := s.store.IssueCertificate(c.Request.Context(), cert)
	if err != nil {
		s.failWith(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/certificates/"+got.Code)
}

// certificatePage is the verification address: anyone with the code can
// see what the certificate says.
func (s *Server) certificatePage(c *gin.Context) {
	code := c.Param("code")
	if len(code) > 64 || !isToken(code) {
		s.failWith(c, errorf(ENotFound, "No such certificate", "No certificate has this code. Check the address."))
		return
	}
	cert, err := s.store.CertificateByCode(c.Request.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		s.failWith(c, errorf(ENotFound, "No such certificate", "No certificate has this code. Check the address."))
		return
	}
	if err != nil {
		s.failWith(c, err)
		return
	}
	u := currentUser(c)
	d := certificateData{Cert: cert, VerifyURL: s.baseURL(c) + "/certificates/" + cert.Code, Mine: u != nil && u.ID == cert.UserID}
	s.render(c, http.StatusOK, "certificate", s.newPage(c, "Certificate of "+cert.Name, d))
}
