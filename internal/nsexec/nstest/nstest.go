//go:build linux

// Package nstest is what the tests that need root share: the
// -run-root-tests flag that turns them on, a skip for machines that cannot
// run them, commands that must succeed, and running code inside a test's
// network namespace.
package nstest

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/patronus-sdwan/patronus/internal/nsexec"
)

// runRootTests turns on the tests that need root: TUN devices and
// network namespaces. Importing this package registers the flag in the
// test binary.
var runRootTests = flag.Bool("run-root-tests", false, "run the tests that need root: TUN devices in network namespaces")

// RootOnly skips t unless -run-root-tests is given, the process is root
// and the tools are installed (ip always).
func RootOnly(t testing.TB, tools ...string) {
	t.Helper()
	if !*runRootTests {
		t.Skip("needs -run-root-tests")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}

// Run runs a command that must succeed and returns its output.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// InNetns runs f on a thread switched into the namespace named ns, so the
// sockets and TUN devices f creates belong to it.
func InNetns(t testing.TB, ns string, f func() error) {
	t.Helper()
	if err := nsexec.DoNamed(ns, f); err != nil {
		t.Fatalf("in netns %s: %v", ns, err)
	}
}
