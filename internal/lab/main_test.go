package lab

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// long runs the scenarios at full length (default intervals, 10,000
// probes at 100 ms, 500 paths for the scale figure).
var long = flag.Bool("lab.long", false, "run the lab scenarios at full length")

// runRootTests runs the tests that need root (TestRoot…): sites' LANs in
// network namespaces with kernel TUNs.
var runRootTests = flag.Bool("run-root-tests", false, "run the tests that need root: TUN devices in network namespaces")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
