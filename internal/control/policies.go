package control

import (
	"context"
	"fmt"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// CreatePolicy adds a routing policy (operator).
func (s *Service) CreatePolicy(ctx context.Context, p auth.Principal, pol *sdwan.Policy) error {
	_, err := s.write(ctx, p, sdwan.RoleOperator, func(q store.Q) (change, error) {
		if err := q.CreatePolicy(ctx, pol); err != nil {
			return change{}, err
		}
		return policyChange("policy.create", "created", pol), nil
	})
	return err
}

// UpdatePolicy rewrites a policy (operator); apply edits the current value.
func (s *Service) UpdatePolicy(ctx context.Context, p auth.Principal, id int64, apply func(*sdwan.Policy) error) (sdwan.Policy, error) {
	var pol sdwan.Policy
	_, err := s.write(ctx, p, sdwan.RoleOperator, func(q store.Q) (change, error) {
		var err error
		if pol, err = q.Policy(ctx, id); err != nil {
			return change{}, err
		}
		if err := apply(&pol); err != nil {
			return change{}, err
		}
		if err := q.UpdatePolicy(ctx, &pol); err != nil {
			return change{}, err
		}
		return policyChange("policy.update", "updated", &pol), nil
	})
	return pol, err
}

// TogglePolicy enables or disables a policy (operator).
func (s *Service) TogglePolicy(ctx context.Context, p auth.Principal, id int64, enabled bool) (sdwan.Policy, error) {
	return s.UpdatePolicy(ctx, p, id, func(pol *sdwan.Policy) error {
		pol.Enabled = enabled
		return nil
	})
}

// ReorderPolicies sets new priorities for several policies at once
// (operator).
func (s *Service) ReorderPolicies(ctx context.Context, p auth.Principal, prio map[int64]int) error {
	_, err := s.write(ctx, p, sdwan.RoleOperator, func(q store.Q) (change, error) {
		if err := q.ReorderPolicies(ctx, prio); err != nil {
			return change{}, err
		}
		ch := change{
			audit:   sdwan.AuditEntry{Action: "policy.reorder", TargetType: "policy", Summary: fmt.Sprintf("reordered %d policies: %v", len(prio), prio)},
			routing: true,
		}
		for id := range prio {
			ch.events = append(ch.events, events.Event{Kind: events.PolicyChanged, PolicyID: id})
		}
		return ch, nil
	})
	return err
}

// DeletePolicy removes a policy and its statistics (operator).
func (s *Service) DeletePolicy(ctx context.Context, p auth.Principal, id int64) (int64, error) {
	return s.write(ctx, p, sdwan.RoleOperator, func(q store.Q) (change, error) {
		pol, err := q.Policy(ctx, id)
		if err != nil {
			return change{}, err
		}
		if err := q.DeletePolicy(ctx, id); err != nil {
			return change{}, err
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "policy.delete", TargetType: "policy", TargetID: fmt.Sprint(id), Severity: sdwan.SeverityWarning, Summary: "deleted policy " + pol.Name},
			events:  []events.Event{{Kind: events.PolicyDeleted, PolicyID: id, Summary: pol.Name}},
			routing: true,
		}, nil
	})
}

func policyChange(action, verb string, pol *sdwan.Policy) change {
	state := "enabled"
	if !pol.Enabled {
		state = "disabled"
	}
	return change{
		audit: sdwan.AuditEntry{Action: action, TargetType: "policy", TargetID: fmt.Sprint(pol.ID),
			Summary: fmt.Sprintf("%s policy %s (priority %d, %s, %s)", verb, pol.Name, pol.Priority, pol.Action.Kind, state)},
		events:  []events.Event{{Kind: events.PolicyChanged, PolicyID: pol.ID, Summary: pol.Name}},
		routing: true,
	}
}
