package route

import "flag"

var runRootTests = flag.Bool("run-root-tests", false, "run the tests that need root: TUN devices in network namespaces")
