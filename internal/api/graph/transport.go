package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// postJSON is gqlgen's transport.POST (queries and mutations POSTed as
// JSON) with the response written once. transport.POST hands the whole
// response to json.Marshal, and the executor has already written its data
// as JSON (a json.RawMessage): encoding/json scans that data again to
// validate, compact and HTML-escape it, and copies it into a second
// buffer, which for a list of a thousand policies was about 8% of the
// request's CPU. Here the data goes out as the executor wrote it (so <, >
// and & stay as they are, which JSON allows) and only the small parts,
// errors and extensions, are marshalled.
//
// Everything else follows transport.POST: which requests it takes, the
// content type chosen from Accept, and the status codes of requests that
// fail before they run. TestPostJSONMatchesGqlgen holds it to that.
type postJSON struct{ transport.POST }

const (
	contentJSON            = "application/json"
	contentGraphQLResponse = "application/graphql-response+json"
)

// Do implements graphql.Transport.
func (postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	// The data goes out without HTML escaping (valid JSON): make sure no
	// browser sniffs it into anything but JSON.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %+v body:%s", err, body)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	oc, errs := exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		w.WriteHeader(failedStatus(errs, contentType))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, responses(ctx))
}

// responseContentType picks the response's media type from the request's
// Accept header as transport.POST does: application/json when the client
// takes it or anything, else the GraphQL-over-HTTP type.
func responseContentType(accept string) string {
	if accept == "" {
		return contentJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", contentJSON:
			return contentJSON
		case contentGraphQLResponse:
			return contentGraphQLResponse
		}
	}
	return contentGraphQLResponse
}

// failedStatus is the status of a request that could not be run: a parse
// or validation failure is the client's (422, or 400 under the
// GraphQL-over-HTTP type); anything else is reported in the body under 200.
func failedStatus(errs gqlerror.List, contentType string) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == contentGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// writeResponse writes r as json.Marshal would, in the same field order,
// but passes its data through as it is.
func writeResponse(w io.Writer, r *graphql.Response) {
	if r.Label != "" || r.Path != nil || r.HasNext != nil {
		// Incremental delivery does not come over this transport; should
		// it ever, the general encoding is right.
		_, _ = w.Write(mustJSON(r))
		return
	}
	head := []byte{'{'}
	if len(r.Errors) > 0 {
		head = append(append(append(head, `"errors":`...), mustJSON(r.Errors)...), ',')
	}
	head = append(head, `"data":`...)
	if len(r.Data) == 0 {
		head = append(head, "null"...)
	}
	_, _ = w.Write(head)
	_, _ = w.Write(r.Data)
	tail := []byte{}
	if len(r.Extensions) > 0 {
		tail = append(append(tail, `,"extensions":`...), mustJSON(r.Extensions)...)
	}
	_, _ = w.Write(append(tail, '}'))
}

// mustJSON encodes a part of a response. They are the server's own values,
// so failing to encode one is a bug, and panics as in transport.POST.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
