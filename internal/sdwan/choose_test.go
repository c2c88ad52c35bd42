package sdwan

import "testing"

func TestChoosePath(t *testing.T) {
	ps := []PathChoice{
		{ID: "a", Link: "wan1", CostPerGB: 5, Status: PathUp, Metrics: PathMetrics{Score: 90, LatencyMs: 20}},
		{ID: "b", Link: "wan2", CostPerGB: 1, Status: PathUp, Metrics: PathMetrics{Score: 70, LatencyMs: 40}},
		{ID: "c", Link: "wan2", CostPerGB: 1, Status: PathUp, Metrics: PathMetrics{Score: 80, LatencyMs: 30}},
		{ID: "d", Link: "wan1", CostPerGB: 5, Status: PathDegraded, Metrics: PathMetrics{Score: 90, LatencyMs: 20}},
	}
	tests := []struct {
		name   string
		action Action
		ps     []PathChoice
		want   string
	}{
		{"best quality, Up wins the tie", Action{Preference: PreferQuality}, ps, "a"},
		{"lowest cost, then quality", Action{Preference: PreferCost}, ps, "c"},
		{"named link, best of its paths", Action{Preference: PreferLink, Link: "wan2"}, ps, "c"},
		{"named link absent: best quality", Action{Preference: PreferLink, Link: "lte"}, ps, "a"},
		{"lower latency on equal score", Action{}, []PathChoice{{ID: "x", Metrics: PathMetrics{Score: 50, LatencyMs: 9}}, {ID: "y", Metrics: PathMetrics{Score: 50, LatencyMs: 3}}}, "y"},
		{"lowest ID last", Action{}, []PathChoice{{ID: "y"}, {ID: "x"}}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := ChoosePath(tt.action, tt.ps, func(p *PathChoice) PathChoice { return *p })
			if !ok || tt.ps[i].ID != tt.want {
				t.Errorf("ChoosePath = %d (%v), want %s", i, ok, tt.want)
			}
		})
	}
	if _, ok := ChoosePath(Action{}, []PathChoice(nil), func(p *PathChoice) PathChoice { return *p }); ok {
		t.Error("ChoosePath of no paths reported a choice")
	}
}
