package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestPostJSONMatchesGqlgen serves the same requests through postJSON and
// through gqlgen's transport.POST and compares status, content type and
// the decoded body.
func TestPostJSONMatchesGqlgen(t *testing.T) {
	h := newHarness(t)
	p := sdwan.Policy{Name: "a", Description: "<b> & \"c\" \u00e9 \u2028 \\", Priority: 1}
	h.policy(&p)
	token := h.user("eve", sdwan.RoleViewer)
	serve := func(tr graphql.Transport) http.Handler {
		srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{h.api}, Directives: DirectiveRoot{HasRole: hasRole, Public: public}}))
		srv.AddTransport(tr)
		srv.Use(extension.FixedComplexityLimit(5))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := withCaller(r.Context(), h.api.authenticate(r.Context(), bearer(r.Header.Get("Authorization")), clientAddr(r)))
			srv.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	ours, theirs := serve(postJSON{}), serve(transport.POST{})
	for _, tc := range []struct {
		name, body, accept, token string
	}{
		{"data", `{"query":"{ policies { name description priority packets_matched } }"}`, "", token},
		{"data and errors", `{"query":"{ policies { name } sites { name } }"}`, "", ""},
		{"variables", `{"query":"query($id: ID!) { policy(id: $id) { name } }","variables":{"id":"1"}}`, "application/json", token},
		{"parse error", `{"query":"{ policies { "}`, "", token},
		{"validation error", `{"query":"{ nosuch }"}`, "", token},
		{"validation error, graphql-response", `{"query":"{ nosuch }"}`, "application/graphql-response+json", token},
		{"unknown accept", `{"query":"{ policies { name } }"}`, "text/html", token},
		{"any accept", `{"query":"{ policies { name } }"}`, "text/html, */*;q=0.1", token},
		{"over the complexity limit", `{"query":"{ policies { id name description priority enabled packets_matched bytes_matched active_flows createdAt updatedAt matchCriteria { protocol sourceIp destIp sourcePort destPort } } }"}`, "", token},
		{"bad json", `{"query":`, "", token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			do := func(srv http.Handler) *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewBufferString(tc.body))
				r.Header.Set("Content-Type", "application/json")
				if tc.accept != "" {
					r.Header.Set("Accept", tc.accept)
				}
				if tc.token != "" {
					r.Header.Set("Authorization", "Bearer "+tc.token)
				}
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				return w
			}
			got, want := do(ours), do(theirs)
			if got.Code != want.Code {
				t.Errorf("status %d, gqlgen's %d", got.Code, want.Code)
			}
			if g, w := got.Header().Get("Content-Type"), want.Header().Get("Content-Type"); g != w {
				t.Errorf("content type %q, gqlgen's %q", g, w)
			}
			if g := got.Header().Get("X-Content-Type-Options"); g != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff: the data is not HTML-escaped", g)
			}
			var g, w any
			if err := json.Unmarshal(got.Body.Bytes(), &g); err != nil {
				t.Fatalf("%v: %s", err, got.Body)
			}
			if err := json.Unmarshal(want.Body.Bytes(), &w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("body (-gqlgen +ours):\n%s", diff)
			}
		})
	}
}

// TestWriteResponseMatchesJSONMarshal checks the field order and encoding
// of writeResponse against json.Marshal for every part a response has.
func TestWriteResponseMatchesJSONMarshal(t *testing.T) {
	yes := true
	for name, r := range map[string]*graphql.Response{
		"data":        {Data: json.RawMessage(`{"a":[1,2,{"b":"c"}]}`)},
		"null data":   {},
		"errors":      {Errors: gqlerror.List{{Message: "no", Extensions: map[string]any{"code": "X"}}}},
		"everything":  {Errors: gqlerror.List{{Message: "no"}}, Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"k": []int{1}}},
		"incremental": {Data: json.RawMessage(`{"a":1}`), Label: "l", HasNext: &yes},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			writeResponse(&got, r)
			if got.String() != string(want) {
				t.Errorf("got  %s\nwant %s", got.String(), want)
			}
		})
	}
}
