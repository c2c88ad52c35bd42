package graph

import (
	"context"
	"errors"
	"log/slog"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Error codes in extensions.code (sdwan's, which REST shares).
const (
	CodeUnauthenticated = sdwan.CodeUnauthenticated
	CodeForbidden       = sdwan.CodeForbidden
	CodeNotFound        = sdwan.CodeNotFound
	CodeConflict        = sdwan.CodeConflict
	CodeBadInput        = sdwan.CodeBadInput
	CodeUnavailable     = sdwan.CodeUnavailable
	CodeInternal        = sdwan.CodeInternal
)

// codeOf is sdwan.Code, with "" for an error that is not the domain's, so
// that presentError logs it and hides its message.
func codeOf(err error) string {
	if c := sdwan.Code(err); c != CodeInternal {
		return c
	}
	return ""
}

// presentError turns a resolver's error into the GraphQL error the client
// sees. Domain errors keep their message, which is written for a person,
// with extensions.code (and extensions.field for a field error, and
// extensions.retryAfterSeconds when sign-in is rate limited). Anything else
// is logged and reported as an internal error, so no driver or stack detail
// leaks.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) && gerr.Err == nil {
			// gqlgen's own parse and validation errors carry their codes.
			return gerr
		}
		out := graphql.DefaultErrorPresenter(ctx, err)
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		code := codeOf(err)
		if code == "" {
			log.ErrorContext(ctx, "graphql: internal error", "path", out.Path.String(), "err", err)
			out.Message = "internal error; the controller's log has the details"
			out.Extensions["code"] = CodeInternal
			return out
		}
		// The message is the domain error's own, without gqlgen's path
		// prefix, which extensions and path already carry.
		out.Message = err.Error()
		if errors.As(err, &gerr) && gerr.Err != nil {
			out.Message = gerr.Err.Error()
		}
		out.Extensions["code"] = code
		var fe *sdwan.FieldError
		if errors.As(err, &fe) {
			out.Extensions["field"] = fe.Field
		}
		var rl *control.RateLimitError
		if errors.As(err, &rl) {
			out.Extensions["retryAfterSeconds"] = int(math.Ceil(rl.Wait.Seconds()))
		}
		return out
	}
}

// badInput returns a field error for an argument the API parses itself.
func badInput(field, value, reason string) error {
	return &sdwan.FieldError{Field: field, Value: value, Reason: reason}
}
