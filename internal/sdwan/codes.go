package sdwan

import (
	"context"
	"errors"
)

// Error codes, as the API reports them in extensions.code and the REST
// endpoints in their JSON errors. Clients branch on these, not on messages.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeBadInput        = "BAD_INPUT"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL"
)

// Code maps an error to its code by the domain sentinel it wraps: the one
// place that does, for GraphQL and REST alike. Anything else is
// CodeInternal, whose message the API does not show.
func Code(err error) string {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return CodeUnauthenticated
	case errors.Is(err, ErrForbidden):
		return CodeForbidden
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrConflict):
		return CodeConflict
	case errors.Is(err, ErrInvalid):
		return CodeBadInput
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return CodeUnavailable
	}
	return CodeInternal
}
