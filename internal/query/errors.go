package query

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error that comes from a bad definition
// or parameter, so the APIs can answer 400.
var ErrInvalid = errors.New("invalid query")

// FieldError says which field of a definition is wrong and why.
type FieldError struct {
	Field   string // e.g. events[1].filters[0].op
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// prefixed returns err with its field prefixed by p (p.field or p[i]).
func prefixed(p string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		f := p
		if fe.Field != "" {
			if fe.Field[0] == '[' {
				f += fe.Field
			} else {
				f += "." + fe.Field
			}
		}
		return &FieldError{Field: f, Message: fe.Message}
	}
	return err
}
