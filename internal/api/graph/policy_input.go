package graph

import (
	"errors"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// policyEdit is the part of a policy's create or update input that needs
// parsing; nil fields leave the policy as it is.
type policyEdit struct {
	match      *model.MatchInput
	action     *model.ActionKind
	preference *model.PathPreference
	link       *string
	sla        *model.SLAInput
}

// applyPolicy applies an edit, parsing the match with the domain's
// parsers so a bad port or prefix comes back naming its field.
func applyPolicy(p *sdwan.Policy, e policyEdit) error {
	if e.match != nil {
		m, err := sdwan.ParseMatch(sdwan.MatchSpec{
			SourceIP: deref(e.match.SourceIP), DestIP: deref(e.match.DestIP), Protocol: deref(e.match.Protocol),
			SourcePort: deref(e.match.SourcePort), DestPort: deref(e.match.DestPort),
		})
		if err != nil {
			return sdwan.Prefixed("policy", err)
		}
		p.Match = m
	}
	if e.action != nil {
		p.Action.Kind = sdwan.ActionKind(e.action.Lower())
	}
	if e.preference != nil {
		p.Action.Preference = sdwan.Preference(e.preference.Lower())
		if p.Action.Preference != sdwan.PreferLink && e.link == nil {
			p.Action.Link = ""
		}
	}
	if e.link != nil {
		p.Action.Link = *e.link
	}
	if e.sla != nil {
		if e.sla.MaxLatencyMs != nil {
			p.Action.SLA.MaxLatencyMs = *e.sla.MaxLatencyMs
		}
		if e.sla.MaxJitterMs != nil {
			p.Action.SLA.MaxJitterMs = *e.sla.MaxJitterMs
		}
		if e.sla.MaxLossPct != nil {
			p.Action.SLA.MaxLossPct = *e.sla.MaxLossPct
		}
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, sdwan.ErrNotFound) }
