package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
)

// Error is an error with an HTTP status and a stable code. Handlers in
// any package may return one to WriteError; its Message is shown to the
// client, so it must not carry secrets.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 *Error with code "bad_request".
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "bad_request", format, args...)
}

func errForbidden() *Error {
	return Errorf(http.StatusForbidden, "forbidden", "your role does not allow this")
}

func errNotFound() *Error { return Errorf(http.StatusNotFound, "not_found", "not found") }

// envelope is the one JSON error shape.
type envelope struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WriteError is the one place that maps errors to an HTTP status and the
// JSON envelope {"error":{"code":"...","message":"..."}}. Unknown errors
// become 500 with a generic message; the error itself is attached to the
// request's access log line, never sent to the client.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae *Error
		te *auth.ThrottledError
		e  = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	)
	switch {
	case errors.As(err, &ae):
		e = ae
	case errors.As(err, &te):
		secs := int(math.Ceil(te.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		e = Errorf(http.StatusTooManyRequests, "too_many_requests", "%s", te.Error())
	case errors.Is(err, auth.ErrInvalidCredentials):
		e = Errorf(http.StatusUnauthorized, "invalid_credentials", "%s", err.Error())
	case errors.Is(err, auth.ErrUnauthenticated):
		e = Errorf(http.StatusUnauthorized, "unauthenticated", "%s", err.Error())
	case errors.Is(err, auth.ErrCSRF):
		e = Errorf(http.StatusForbidden, "csrf", "%s", err.Error())
	case errors.Is(err, auth.ErrWeakPassword):
		e = Errorf(http.StatusBadRequest, "weak_password", "%s", err.Error())
	case errors.Is(err, meta.ErrNotFound):
		e = errNotFound()
	case errors.Is(err, meta.ErrConflict):
		e = Errorf(http.StatusConflict, "conflict", "already exists or not allowed in the current state")
	}
	if st := stateFrom(r.Context()); st != nil && e.Status >= 500 {
		st.err = err
	}
	var env envelope
	env.Error.Code, env.Error.Message = e.Code, e.Message
	writeJSON(w, e.Status, env)
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
	}
}

// maxBody bounds JSON request bodies of the /api/v1 handlers.
const maxBody = 1 << 20

// decode reads a JSON body into v, rejecting unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("invalid JSON body: %v", err)
	}
	return nil
}
