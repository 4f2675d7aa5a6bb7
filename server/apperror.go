package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"coldstart/server/store"
)

// ErrorCode says what kind of failure an Error is; one table maps codes to
// HTTP statuses.
type ErrorCode string

// Error codes.
const (
	EInvalid   ErrorCode = "invalid"   // the input is wrong; the message says how
	ENotFound  ErrorCode = "not_found" // no such thing (or not this user's to see)
	EConflict  ErrorCode = "conflict"  // it clashes with what exists
	EForbidden ErrorCode = "forbidden" // this user may not do it
	EGone      ErrorCode = "gone"      // a link that was used or expired
	EInternal  ErrorCode = "internal"  // anything else: logged, never shown
)

var errorStatus = map[ErrorCode]int{
	EInvalid:   http.StatusBadRequest,
	ENotFound:  http.StatusNotFound,
	EConflict:  http.StatusConflict,
	EForbidden: http.StatusForbidden,
	EGone:      http.StatusGone,
	EInternal:  http.StatusInternalServerError,
}

// Error is a failure with a message a user may read.
type Error struct {
	Code    ErrorCode
	Heading string
	Message string
}

func (e *Error) Error() string { return e.Heading + ": " + e.Message }

func errorf(code ErrorCode, heading, message string) *Error {
	return &Error{Code: code, Heading: heading, Message: message}
}

// appError turns the store's errors into coded errors; anything it does not
// know stays internal.
func appError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrNotFound):
		return errorf(ENotFound, "Not found", "There is nothing here with this number. It may have been removed.")
	case errors.Is(err, store.ErrEmailTaken):
		return errorf(EConflict, "This email is taken", "An account with this email already exists.")
	case errors.Is(err, store.ErrLinkInvalid):
		return errorf(EGone, "This link does not work any more", "It was already used, it expired, or it was mistyped. Ask an admin for a new one.")
	case errors.Is(err, store.ErrDeactivated):
		return errorf(EForbidden, "This account is deactivated", "An admin deactivated this account. Ask an admin to reactivate it.")
	case errors.Is(err, store.ErrLastAdmin):
		return errorf(EConflict, "The server needs an admin", "This is the last active admin. Make another account admin first.")
	case errors.Is(err, store.ErrSignupClosed):
		return errorf(EForbidden, "Sign-up is closed", "Sign-up is closed on this server. Ask your instructor for an invitation.")
	case errors.Is(err, store.ErrGroupTaken):
		return errorf(EConflict, "This group exists", "A group with this name already exists; choose another name.")
	case errors.Is(err, store.ErrInvalid):
		return errorf(EInvalid, "That was not accepted", capitalize(strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))+".")
	}
	return nil
}

// failWith ends the request for err: a coded error shows its message with
// its status; anything else is logged and shown as an internal error.
func (s *Server) failWith(c *gin.Context, err error) {
	e := appError(err)
	if e == nil || e.Code == EInternal {
		s.internal(c, err)
		return
	}
	s.fail(c, errorStatus[e.Code], e.Heading, e.Message)
}
