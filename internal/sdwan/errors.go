package sdwan

import (
	"errors"
	"fmt"
)

// Domain sentinel errors. Layers wrap them with context ("store: delete site
// %s: %w"); the API maps them to error codes in one place.
var (
	// ErrNotFound reports that a referenced object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that a write clashes with existing state, such as
	// a duplicate name or priority.
	ErrConflict = errors.New("conflict")
	// ErrForbidden reports that the caller's role does not allow the action.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated reports a missing or invalid credential.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalid reports bad input; FieldError values wrap it.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable reports that a dependency (an edge, the store) cannot
	// answer right now.
	ErrUnavailable = errors.New("unavailable")
)

// FieldError is a validation failure of one input field. Its message names
// the field, quotes the offending value and says why it was refused, for
// example `policy.match.destPort: "70000" is out of range 1-65535`.
type FieldError struct {
	Field  string // dotted path of the field, e.g. "policy.match.destPort"
	Value  string // the offending value as given
	Reason string // why it was refused, e.g. "is out of range 1-65535"
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %q %s", e.Field, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) hold for every FieldError.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// fieldErr is shorthand for building a *FieldError.
func fieldErr(field, value, reason string) *FieldError {
	return &FieldError{Field: field, Value: value, Reason: reason}
}

// Prefixed returns err with prefix prepended to its field path when err is
// a *FieldError, so a nested validator's "match.destPort" becomes
// "policy.match.destPort". Other errors are returned unchanged.
func Prefixed(prefix string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: prefix + "." + fe.Field, Value: fe.Value, Reason: fe.Reason}
	}
	return err
}
