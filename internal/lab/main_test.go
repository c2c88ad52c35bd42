package lab

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// long runs the scenarios at full length (default intervals, 10,000
// probes at 100 ms, 500 paths for the scale figure).
var long = flag.Bool("lab.long", false, "run the lab scenarios at full length")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
