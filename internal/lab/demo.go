package lab

import (
	_ "embed"

	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
)

//go:embed demo.scenario.json
var demoScenario []byte

// Demo topology: the three sites and two links per site that the demo
// scenario plays on.
const (
	DemoSites = 3
	DemoLinks = 2
)

// DemoScenario returns the demo's timeline, which loops every three
// minutes: site-1/wan1 degrades (loss rising to 30%), fails and comes
// back; site-2/wan2 turns slow and bursty-lossy, then recovers; site-3/wan1
// fails for 15 s. Each link starts with a delay and jitter typical of its
// kind (wan1 fibre-like, wan2 broadband or LTE-like).
func DemoScenario() *wanem.Scenario {
	sc, err := wanem.ParseScenario(demoScenario)
	if err != nil {
		panic("lab: the embedded demo scenario is invalid: " + err.Error())
	}
	return sc
}
