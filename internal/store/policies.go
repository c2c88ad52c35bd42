package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

const policyCols = `policy_id, name, description, priority, enabled, src_prefixes, dst_prefixes, protocol, src_ports, dst_ports,
	action, preference, link, max_latency_ms, max_jitter_ms, max_loss_pct, created_at, updated_at`

func scanPolicy(sc interface{ Scan(...any) error }) (sdwan.Policy, error) {
	var p sdwan.Policy
	var src, dst, sports, dports string
	var proto int
	var created, updated int64
	err := sc.Scan(&p.ID, &p.Name, &p.Description, &p.Priority, &p.Enabled, &src, &dst, &proto, &sports, &dports,
		&p.Action.Kind, &p.Action.Preference, &p.Action.Link, &p.Action.SLA.MaxLatencyMs, &p.Action.SLA.MaxJitterMs, &p.Action.SLA.MaxLossPct,
		&created, &updated)
	if err != nil {
		return p, err
	}
	// The stored text was produced by the Format functions from validated
	// values, so parsing it again cannot fail short of tampering; a row that
	// does fail is reported rather than silently widened to "any".
	m, err := sdwan.ParseMatch(sdwan.MatchSpec{SourceIP: src, DestIP: dst, Protocol: fmt.Sprint(proto), SourcePort: sports, DestPort: dports})
	if err != nil {
		return p, fmt.Errorf("stored match of policy %d is corrupt: %w", p.ID, err)
	}
	p.Match = m
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

func policyArgs(p *sdwan.Policy) []any {
	return []any{p.Name, p.Description, p.Priority, p.Enabled,
		sdwan.FormatPrefixes(p.Match.SrcPrefixes), sdwan.FormatPrefixes(p.Match.DstPrefixes), int(p.Match.Protocol),
		sdwan.FormatPortRanges(p.Match.SrcPorts), sdwan.FormatPortRanges(p.Match.DstPorts),
		p.Action.Kind, p.Action.Preference, p.Action.Link, p.Action.SLA.MaxLatencyMs, p.Action.SLA.MaxJitterMs, p.Action.SLA.MaxLossPct}
}

// CreatePolicy validates and inserts a policy, filling in its ID.
func (q Q) CreatePolicy(ctx context.Context, p *sdwan.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := q.now.UTC().Truncate(time.Millisecond)
	p.CreatedAt, p.UpdatedAt = now, now
	args := append(policyArgs(p), ms(now), ms(now))
	err := q.q.QueryRowContext(ctx, `INSERT INTO sdwan_policies (`+policyCols[len("policy_id, "):]+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING policy_id`, args...).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("store: create policy %q: %w", p.Name, mapErr(err))
	}
	return nil
}

// UpdatePolicy validates and writes a policy.
func (q Q) UpdatePolicy(ctx context.Context, p *sdwan.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = q.now.UTC().Truncate(time.Millisecond)
	args := append([]any{p.ID}, append(policyArgs(p), ms(p.UpdatedAt))...)
	res, err := q.q.ExecContext(ctx, `UPDATE sdwan_policies SET name=$2, description=$3, priority=$4, enabled=$5,
		src_prefixes=$6, dst_prefixes=$7, protocol=$8, src_ports=$9, dst_ports=$10, action=$11, preference=$12, link=$13,
		max_latency_ms=$14, max_jitter_ms=$15, max_loss_pct=$16, updated_at=$17 WHERE policy_id=$1`, args...)
	if err != nil {
		return fmt.Errorf("store: update policy %d: %w", p.ID, mapErr(err))
	}
	return affected(res, "policy", fmt.Sprint(p.ID))
}

// ReorderPolicies gives the listed policies new priorities in one step. The
// priorities are unique, so it first moves the affected rows out of the
// way (negative priorities) and then sets the final values.
func (q Q) ReorderPolicies(ctx context.Context, priorities map[int64]int) error {
	for id := range priorities {
		res, err := q.q.ExecContext(ctx, `UPDATE sdwan_policies SET priority = -1 - policy_id WHERE policy_id=$1`, id)
		if err != nil {
			return fmt.Errorf("store: reorder policies: %w", mapErr(err))
		}
		if err := affected(res, "policy", fmt.Sprint(id)); err != nil {
			return err
		}
	}
	for id, prio := range priorities {
		if prio < 0 || prio > sdwan.MaxPriority {
			return &sdwan.FieldError{Field: "policy.priority", Value: fmt.Sprint(prio), Reason: "is out of range 0-1000000"}
		}
		if _, err := q.q.ExecContext(ctx, `UPDATE sdwan_policies SET priority=$2, updated_at=$3 WHERE policy_id=$1`, id, prio, ms(q.now)); err != nil {
			return fmt.Errorf("store: reorder policies: %w", mapErr(err))
		}
	}
	return nil
}

// Policy returns a policy by ID.
func (q Q) Policy(ctx context.Context, id int64) (sdwan.Policy, error) {
	p, err := scanPolicy(q.q.QueryRowContext(ctx, `SELECT `+policyCols+` FROM sdwan_policies WHERE policy_id=$1`, id))
	if err != nil {
		return p, fmt.Errorf("store: policy %d: %w", id, mapErr(err))
	}
	return p, nil
}

// PolicyFilter narrows ListPolicies.
type PolicyFilter struct {
	Enabled      *bool
	NameContains string
}

// ListPolicies returns policies in evaluation order (ascending priority).
func (q Q) ListPolicies(ctx context.Context, f PolicyFilter, pg Page) ([]sdwan.Policy, int, error) {
	var where []string
	var args []any
	if f.Enabled != nil {
		args = append(args, *f.Enabled)
		where = append(where, fmt.Sprintf("enabled = $%d", len(args)))
	}
	if f.NameContains != "" {
		args = append(args, "%"+escapeLike(f.NameContains)+"%")
		where = append(where, fmt.Sprintf(`name LIKE $%d ESCAPE '\'`, len(args)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	return listPage(ctx, q, "policies", policyCols, " FROM sdwan_policies"+cond, "priority", args, pg, scanPolicy)
}

// DeletePolicy removes a policy and its statistics.
func (q Q) DeletePolicy(ctx context.Context, id int64) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_policies WHERE policy_id=$1`, id)
	if err != nil {
		return fmt.Errorf("store: delete policy %d: %w", id, mapErr(err))
	}
	return affected(res, "policy", fmt.Sprint(id))
}
