package graph

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
)

// gqlgen's executor answers a list of objects one object at a time: a
// goroutine, a field context, a deferred group and a boxed value per
// object and per field, about 12 µs a policy on this project's machines,
// so the seed's policies query over 1,000 policies took 12-20 ms. Most of
// that is generality the policy list does not need: every field of a
// Policy and of the objects inside it is a plain struct field, with no
// resolver, no arguments and no directives of its own.
//
// So the policies root field has a list writer: compilePolicyList turns the
// operation's selection under the field into a plan once per request —
// gqlgen's own CollectFields, so fragments, aliases, @skip and @include
// mean exactly what they mean to gqlgen — and the plan writes each policy's
// selected fields straight to the response, with gqlgen's scalar
// marshalling, in the executor's output format. Whatever the plan cannot
// promise to write as the executor would (a value the executor reports as
// an error, such as a zero time or an infinite float; a selection it does
// not know) sends the request down gqlgen's path instead. The equivalence
// is tested side by side on many operations (listwriter_test.go).

// objectPlan writes the selected fields of one T, in order.
type objectPlan[T any] []fieldWriter[T]

type fieldWriter[T any] struct {
	alias string
	write func(w io.Writer, v *T)
	// ok reports whether write can write v as gqlgen would; nil is always.
	ok func(v *T) bool
}

func (p objectPlan[T]) canWrite(v *T) bool {
	if v == nil {
		return false // every object in the plan is non-null in the schema
	}
	for i := range p {
		if p[i].ok != nil && !p[i].ok(v) {
			return false
		}
	}
	return true
}

func (p objectPlan[T]) write(w io.Writer, v *T) {
	_, _ = io.WriteString(w, "{")
	for i := range p {
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		graphql.MarshalString(p[i].alias).MarshalGQL(w)
		_, _ = io.WriteString(w, ":")
		p[i].write(w, v)
	}
	_, _ = io.WriteString(w, "}")
}

// collect is gqlgen's field collection for objects of typeName, with the
// fields that share an alias merged as the executor merges them; ok is
// false for a selection the plans do not handle.
func collect(opCtx *graphql.OperationContext, sel ast.SelectionSet, typeName string) ([]graphql.CollectedField, bool) {
	fields := graphql.CollectFields(opCtx, sel, []string{typeName})
	for _, f := range fields {
		if len(f.Arguments) > 0 || len(f.Deferrables) > 0 {
			return nil, false
		}
	}
	return fields, true
}

// compileObject compiles the selection of an object of typeName: field
// gives each collected field's writer, or false for one the plans do not
// handle. __typename is handled here.
func compileObject[T any](opCtx *graphql.OperationContext, sel ast.SelectionSet, typeName string,
	field func(f graphql.CollectedField) (fieldWriter[T], bool)) (objectPlan[T], bool) {
	fields, ok := collect(opCtx, sel, typeName)
	if !ok {
		return nil, false
	}
	plan := make(objectPlan[T], 0, len(fields))
	for _, f := range fields {
		if f.Name == "__typename" {
			plan = append(plan, fieldWriter[T]{alias: f.Alias, write: typename[T](typeName)})
			continue
		}
		fw, ok := field(f)
		if !ok {
			return nil, false
		}
		fw.alias = f.Alias
		plan = append(plan, fw)
	}
	return plan, true
}

// object is the writer of field f of a T, an object U that get returns and
// compile compiles f's selection of.
func object[T, U any](opCtx *graphql.OperationContext, f graphql.CollectedField,
	compile func(*graphql.OperationContext, ast.SelectionSet) (objectPlan[U], bool), get func(*T) *U) (fieldWriter[T], bool) {
	sub, ok := compile(opCtx, f.Selections)
	if !ok {
		return fieldWriter[T]{}, false
	}
	return fieldWriter[T]{
		write: func(w io.Writer, v *T) { sub.write(w, get(v)) },
		ok:    func(v *T) bool { return sub.canWrite(get(v)) },
	}, true
}

func typename[T any](name string) func(io.Writer, *T) {
	return func(w io.Writer, _ *T) { graphql.MarshalString(name).MarshalGQL(w) }
}

func writeString(w io.Writer, s string) { graphql.MarshalString(s).MarshalGQL(w) }

func writeOptString(w io.Writer, s *string) {
	if s == nil {
		_, _ = io.WriteString(w, "null")
		return
	}
	writeString(w, *s)
}

func writeInt(w io.Writer, n int64) {
	var buf [20]byte
	_, _ = w.Write(strconv.AppendInt(buf[:0], n, 10))
}

func writeBool(w io.Writer, b bool) {
	if b {
		_, _ = io.WriteString(w, "true")
	} else {
		_, _ = io.WriteString(w, "false")
	}
}

// writeTime writes a non-zero time as gqlgen's Time scalar does.
func writeTime(w io.Writer, t time.Time) { graphql.MarshalTime(t).MarshalGQL(w) }

// writeFloat writes a finite float as gqlgen's Float scalar does.
func writeFloat(w io.Writer, f float64) { _, _ = fmt.Fprintf(w, "%g", f) }

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

func compilePolicy(opCtx *graphql.OperationContext, sel ast.SelectionSet) (objectPlan[model.Policy], bool) {
	return compileObject(opCtx, sel, "Policy", func(f graphql.CollectedField) (fw fieldWriter[model.Policy], ok bool) {
		switch f.Name {
		case "id":
			fw.write = func(w io.Writer, p *model.Policy) { writeString(w, p.ID) }
		case "name":
			fw.write = func(w io.Writer, p *model.Policy) { writeString(w, p.Name) }
		case "description":
			fw.write = func(w io.Writer, p *model.Policy) { writeString(w, p.Description) }
		case "priority":
			fw.write = func(w io.Writer, p *model.Policy) { writeInt(w, int64(p.Priority)) }
		case "enabled":
			fw.write = func(w io.Writer, p *model.Policy) { writeBool(w, p.Enabled) }
		case "packets_matched":
			fw.write = func(w io.Writer, p *model.Policy) { writeInt(w, p.PacketsMatched) }
		case "bytes_matched":
			fw.write = func(w io.Writer, p *model.Policy) { writeInt(w, p.BytesMatched) }
		case "active_flows":
			fw.write = func(w io.Writer, p *model.Policy) { writeInt(w, p.ActiveFlows) }
		case "createdAt":
			fw.write = func(w io.Writer, p *model.Policy) { writeTime(w, p.CreatedAt) }
			fw.ok = func(p *model.Policy) bool { return !p.CreatedAt.IsZero() }
		case "updatedAt":
			fw.write = func(w io.Writer, p *model.Policy) { writeTime(w, p.UpdatedAt) }
			fw.ok = func(p *model.Policy) bool { return !p.UpdatedAt.IsZero() }
		case "matchCriteria":
			return object(opCtx, f, compileMatch, func(p *model.Policy) *model.MatchCriteria { return p.MatchCriteria })
		case "actions":
			return object(opCtx, f, compileActions, func(p *model.Policy) *model.PolicyActions { return p.Actions })
		default:
			return fw, false
		}
		return fw, true
	})
}

func compileMatch(opCtx *graphql.OperationContext, sel ast.SelectionSet) (objectPlan[model.MatchCriteria], bool) {
	return compileObject(opCtx, sel, "MatchCriteria", func(f graphql.CollectedField) (fw fieldWriter[model.MatchCriteria], ok bool) {
		switch f.Name {
		case "protocol":
			fw.write = func(w io.Writer, m *model.MatchCriteria) { writeOptString(w, m.Protocol) }
		case "sourceIp":
			fw.write = func(w io.Writer, m *model.MatchCriteria) { writeOptString(w, m.SourceIP) }
		case "destIp":
			fw.write = func(w io.Writer, m *model.MatchCriteria) { writeOptString(w, m.DestIP) }
		case "sourcePort":
			fw.write = func(w io.Writer, m *model.MatchCriteria) { writeOptString(w, m.SourcePort) }
		case "destPort":
			fw.write = func(w io.Writer, m *model.MatchCriteria) { writeOptString(w, m.DestPort) }
		default:
			return fw, false
		}
		return fw, true
	})
}

func compileActions(opCtx *graphql.OperationContext, sel ast.SelectionSet) (objectPlan[model.PolicyActions], bool) {
	return compileObject(opCtx, sel, "PolicyActions", func(f graphql.CollectedField) (fw fieldWriter[model.PolicyActions], ok bool) {
		switch f.Name {
		case "kind":
			fw.write = func(w io.Writer, a *model.PolicyActions) { a.Kind.MarshalGQL(w) }
			fw.ok = func(a *model.PolicyActions) bool { return a.Kind.IsValid() }
		case "setPath":
			fw.write = func(w io.Writer, a *model.PolicyActions) { writeOptString(w, a.SetPath) }
		case "drop":
			fw.write = func(w io.Writer, a *model.PolicyActions) { writeBool(w, a.Drop) }
		case "preference":
			fw.write = func(w io.Writer, a *model.PolicyActions) {
				if a.Preference == nil {
					_, _ = io.WriteString(w, "null")
					return
				}
				a.Preference.MarshalGQL(w)
			}
			fw.ok = func(a *model.PolicyActions) bool { return a.Preference == nil || a.Preference.IsValid() }
		case "link":
			fw.write = func(w io.Writer, a *model.PolicyActions) { writeOptString(w, a.Link) }
		case "sla":
			return object(opCtx, f, compileSla, func(a *model.PolicyActions) *model.Sla { return a.Sla })
		default:
			return fw, false
		}
		return fw, true
	})
}

func compileSla(opCtx *graphql.OperationContext, sel ast.SelectionSet) (objectPlan[model.Sla], bool) {
	return compileObject(opCtx, sel, "Sla", func(f graphql.CollectedField) (fw fieldWriter[model.Sla], ok bool) {
		var get func(*model.Sla) float64
		switch f.Name {
		case "maxLatencyMs":
			get = func(s *model.Sla) float64 { return s.MaxLatencyMs }
		case "maxJitterMs":
			get = func(s *model.Sla) float64 { return s.MaxJitterMs }
		case "maxLossPct":
			get = func(s *model.Sla) float64 { return s.MaxLossPct }
		default:
			return fw, false
		}
		fw.write = func(w io.Writer, s *model.Sla) { writeFloat(w, get(s)) }
		fw.ok = func(s *model.Sla) bool { return finite(get(s)) }
		return fw, true
	})
}

// policyList is a written list of policies: the graphql.Marshaler the
// policies root field returns on the list writer's path.
type policyList struct {
	plan objectPlan[model.Policy]
	ps   []*model.Policy
}

func (l policyList) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "[")
	for i, p := range l.ps {
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		l.plan.write(w, p)
	}
	_, _ = io.WriteString(w, "]")
}

// writePolicies answers the policies root field with the list writer, or
// returns nil when the request must take gqlgen's path: the field is
// another, its arguments or selection are not the plain kind, the
// resolver fails (gqlgen then reports the error as it does), or a value
// is one gqlgen would report as an error.
func (a *API) writePolicies(ctx context.Context) graphql.Marshaler {
	rfc := graphql.GetRootFieldContext(ctx)
	if a.exec == nil || rfc == nil || rfc.Object != "policies" || rfc.Field.ObjectDefinition == nil ||
		rfc.Field.ObjectDefinition.Name != "Query" || len(rfc.Field.Directives) > 0 {
		return nil
	}
	opCtx := graphql.GetOperationContext(ctx)
	plan, ok := compilePolicy(opCtx, rfc.Field.Selections)
	if !ok {
		return nil
	}
	ec := newExecutionContext(opCtx, a.exec, nil)
	args, err := ec.field_Query_policies_args(ctx, rfc.Field.ArgumentMap(opCtx.Variables))
	if err != nil {
		return nil
	}
	filter, _ := args["filter"].(*model.PolicyFilter)
	page, _ := args["page"].(*model.PageInput)
	ps, err := (&Resolver{a}).Query().Policies(ctx, filter, page)
	if err != nil {
		return nil
	}
	for _, p := range ps {
		if !plan.canWrite(p) {
			return nil
		}
	}
	return policyList{plan: plan, ps: ps}
}
