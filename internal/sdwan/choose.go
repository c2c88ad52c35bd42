package sdwan

// PathChoice is a path as ChoosePath weighs it.
type PathChoice struct {
	ID        string
	Link      string // the local WAN link the path leaves from, such as "wan1"
	CostPerGB float64
	Status    PathStatus
	Metrics   PathMetrics
}

// ChoosePath picks, among paths already found eligible for the action (up
// or degraded, within its SLA), the one its preference wants, and returns
// its index: best quality is the highest score, then the lowest latency,
// then Up over Degraded, then the lowest ID; lowest cost is the cheapest
// link, then quality; a named link is the best of that link's paths, or the
// best quality path when the link has none. view reads a path of the
// caller's own type, so neither the edge's data plane nor the API's routing
// preview copies its paths to ask, and both choose the same way.
func ChoosePath[T any](a Action, ps []T, view func(*T) PathChoice) (int, bool) {
	best, onLink := -1, false
	var bv PathChoice
	for i := range ps {
		v := view(&ps[i])
		if a.Preference == PreferLink {
			on := v.Link == a.Link
			switch {
			case onLink && !on:
				continue
			case on && !onLink:
				best, bv, onLink = i, v, true
				continue
			}
		}
		if best < 0 || preferred(a.Preference, v, bv) {
			best, bv = i, v
		}
	}
	return best, best >= 0
}

// preferred reports whether x is to be chosen over y.
func preferred(pref Preference, x, y PathChoice) bool {
	if pref == PreferCost && x.CostPerGB != y.CostPerGB {
		return x.CostPerGB < y.CostPerGB
	}
	if x.Metrics.Score != y.Metrics.Score {
		return x.Metrics.Score > y.Metrics.Score
	}
	if x.Metrics.LatencyMs != y.Metrics.LatencyMs {
		return x.Metrics.LatencyMs < y.Metrics.LatencyMs
	}
	if x.Status != y.Status {
		return x.Status == PathUp
	}
	return x.ID < y.ID
}
