package graph

import (
	"context"
	"sync/atomic"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
)

// policyViews is the API form of one of the service's policy lists, index
// for index, without the live totals. Converting a policy formats its
// match and builds its nested objects; doing that once per list change
// rather than once per request leaves a request one copy per policy.
type policyViews struct {
	list  *control.PolicyList
	views []model.Policy
}

// viewsOf returns the views of l, converting it the first time it is seen.
// Two requests that race on a new list both convert it; either result
// serves.
func viewsOf(cur *atomic.Pointer[policyViews], l *control.PolicyList) []model.Policy {
	if v := cur.Load(); v != nil && v.list == l {
		return v.views
	}
	views := make([]model.Policy, len(l.Policies))
	for i := range l.Policies {
		views[i] = policyView(&l.Policies[i])
	}
	cur.Store(&policyViews{list: l, views: views})
	return views
}

// listPolicies answers the policies query from the service's in-memory
// list: those whose enabled flag matches (nil: all), in evaluation order,
// in the window page asks for, each with its live totals as of now.
func (a *API) listPolicies(ctx context.Context, p auth.Principal, enabled *bool, page *model.PageInput) ([]*model.Policy, error) {
	pg, all, err := pageOf(page)
	if err != nil {
		return nil, err
	}
	l, err := a.svc.Policies(ctx, p)
	if err != nil {
		return nil, err
	}
	views := viewsOf(&a.policyViews, l)
	limit := pg.Limit
	if all {
		limit = maxListRows
	}
	skip := pg.Offset
	vals := make([]model.Policy, 0, min(len(views), limit))
	for i := range views {
		if len(vals) == limit {
			break
		}
		if enabled != nil && views[i].Enabled != *enabled {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		vals = append(vals, views[i])
	}
	out := make([]*model.Policy, len(vals))
	for i := range vals {
		setTotals(&vals[i], a.stats.PolicyTotals(vals[i].PolicyID))
		out[i] = &vals[i]
	}
	return out, nil
}
