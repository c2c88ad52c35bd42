package graph

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// mutationRules is the authorisation matrix: the least role each mutation
// needs. "public" means anyone, signed in or not; "+edge" also admits the
// edge of a site. A mutation missing here fails TestAuthorizationMatrix,
// so a new mutation cannot ship without a decision about who may call it.
var mutationRules = map[string]string{
	"login":               "public",
	"renewToken":          "public",
	"logout":              "viewer",
	"changePassword":      "viewer",
	"createUser":          "admin",
	"updateUserRole":      "admin",
	"deactivateUser":      "admin",
	"resetUserPassword":   "admin",
	"createApiKey":        "admin",
	"issueSiteCredential": "admin",
	"revokeApiKey":        "admin",
	"createSite":          "admin",
	"updateSite":          "admin",
	"assignSitePrefixes":  "admin",
	"deleteSite":          "admin",
	"restoreSite":         "admin",
	"createEndpoint":      "admin",
	"updateEndpoint":      "admin",
	"deleteEndpoint":      "admin",
	"createPath":          "operator",
	"updatePath":          "operator+edge",
	"deletePath":          "operator",
	"checkPathHealth":     "operator",
	"failoverPath":        "operator",
	"clearFailover":       "operator",
	"createPolicy":        "operator",
	"updatePolicy":        "operator",
	"deletePolicy":        "operator",
	"togglePolicy":        "operator",
	"clearCache":          "operator",
	"systemHealthCheck":   "operator",
}

// allowed reports whether a caller of role (or "anonymous") passes rule.
func allowed(rule, role string) bool {
	base, edge := strings.CutSuffix(rule, "+edge")
	switch {
	case base == "public":
		return true
	case role == "anonymous":
		return false
	case role == "edge":
		return edge
	}
	return sdwan.Role(role).AtLeast(sdwan.Role(base))
}

// TestAuthorizationMatrix walks every mutation in the schema, as
// introspection lists them, for every role against the real handler, and
// checks that exactly the roles its rule allows get past authorisation.
// Arguments are made up from their types, so most allowed calls fail later
// (not found, bad input); what is checked is only whether the call was
// refused for who the caller is.
func TestAuthorizationMatrix(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	site := sdwan.Site{Name: "edge-site"}
	if err := h.svc.CreateSite(ctx, auth.System, &site); err != nil {
		t.Fatal(err)
	}
	cred, err := h.svc.IssueSiteCredential(ctx, auth.System, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{"anonymous": "", "edge": cred.Key}
	for _, r := range []sdwan.Role{sdwan.RoleViewer, sdwan.RoleOperator, sdwan.RoleAdmin} {
		tokens[string(r)] = h.user("matrix-"+string(r), r)
	}

	// The mutations, by introspection (as an admin: introspection needs a
	// principal).
	var intro struct {
		Schema struct {
			MutationType struct {
				Fields []struct{ Name string }
			}
		} `json:"__schema"`
	}
	h.mustDo(tokens["admin"], `{ __schema { mutationType { fields { name } } } }`, nil, &intro)
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	if len(intro.Schema.MutationType.Fields) != len(schema.Mutation.Fields) {
		t.Fatalf("introspection lists %d mutations, the schema has %d", len(intro.Schema.MutationType.Fields), len(schema.Mutation.Fields))
	}

	for _, f := range intro.Schema.MutationType.Fields {
		rule, ok := mutationRules[f.Name]
		if !ok {
			t.Errorf("mutation %s has no rule in mutationRules: decide who may call it", f.Name)
			continue
		}
		def := schema.Mutation.Fields.ForName(f.Name)
		checkDirective(t, def, rule)
		for _, role := range []string{"anonymous", "viewer", "operator", "admin", "edge"} {
			t.Run(f.Name+"/"+role, func(t *testing.T) {
				tok := tokens[role]
				r := h.do(tok, mutationCall(h, def, schema), nil)
				code := r.code()
				denied := code == CodeUnauthenticated || code == CodeForbidden
				if want := !allowed(rule, role); denied != want {
					t.Errorf("rule %s: denied=%v, want %v (errors %+v)", rule, denied, want, r.Errors)
				}
				if f.Name == "logout" && !denied && role != "edge" {
					tokens[role] = h.login("matrix-" + role) // the old token is revoked now
				}
			})
		}
	}
	for name := range mutationRules {
		if schema.Mutation.Fields.ForName(name) == nil {
			t.Errorf("mutationRules names %s, which the schema does not have", name)
		}
	}
}

// checkDirective checks that the schema declares the rule the matrix
// expects, so the schema is a reliable statement of who may call what.
func checkDirective(t *testing.T, def *ast.FieldDefinition, rule string) {
	t.Helper()
	base, edge := strings.CutSuffix(rule, "+edge")
	if base == "public" {
		if def.Directives.ForName("public") == nil {
			t.Errorf("%s should be marked @public", def.Name)
		}
		return
	}
	d := def.Directives.ForName("hasRole")
	if d == nil {
		t.Errorf("%s has no @hasRole directive", def.Name)
		return
	}
	if got := d.Arguments.ForName("role").Value.Raw; !strings.EqualFold(got, base) {
		t.Errorf("%s: @hasRole(role: %s), the matrix says %s", def.Name, got, base)
	}
	gotEdge := d.Arguments.ForName("edge") != nil && d.Arguments.ForName("edge").Value.Raw == "true"
	if gotEdge != edge {
		t.Errorf("%s: @hasRole edge=%v, the matrix says %v", def.Name, gotEdge, edge)
	}
}

// mutationCall writes a call of the mutation with made-up arguments. login
// and renewToken get working credentials, so "allowed" means they work.
func mutationCall(h *harness, def *ast.FieldDefinition, s *ast.Schema) string {
	var args []string
	for _, a := range def.Arguments {
		if a.Type.NonNull {
			args = append(args, a.Name+": "+literal(s, a.Type, 0))
		}
	}
	switch def.Name {
	case "login":
		args = []string{`username: "matrix-viewer"`, `password: ` + strconv.Quote(testPassword)}
	case "renewToken":
		var out struct {
			Login struct{ RenewalToken string } `json:"login"`
		}
		h.mustDo("", fmt.Sprintf(`mutation { login(username: "matrix-viewer", password: %q) { renewalToken } }`, testPassword), nil, &out)
		args = []string{"renewalToken: " + strconv.Quote(out.Login.RenewalToken)}
	}
	call := def.Name
	if len(args) > 0 {
		call += "(" + strings.Join(args, ", ") + ")"
	}
	if t := s.Types[def.Type.Name()]; t != nil && (t.Kind == ast.Object || t.Kind == ast.Interface) {
		call += " { __typename }"
	}
	return "mutation { " + call + " }"
}

// literal makes up a value of type t.
func literal(s *ast.Schema, t *ast.Type, depth int) string {
	if t.Elem != nil {
		return "[" + literal(s, t.Elem, depth+1) + "]"
	}
	def := s.Types[t.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		var fs []string
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				fs = append(fs, f.Name+": "+literal(s, f.Type, depth+1))
			}
		}
		return "{" + strings.Join(fs, ", ") + "}"
	}
	switch t.NamedType {
	case "ID":
		return `"00000000-0000-0000-0000-000000000000"`
	case "Int", "Int64":
		return "1"
	case "Float":
		return "1.5"
	case "Boolean":
		return "true"
	case "Time":
		return `"2026-01-01T00:00:00Z"`
	}
	return `"matrix"`
}
