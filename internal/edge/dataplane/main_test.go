package dataplane

import (
	"testing"

	"go.uber.org/goleak"
)

// checkLeaks fails t if goroutines it started outlive it. WireGuard's
// devices and the links' readers must all end when closed.
func checkLeaks(t testing.TB) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}
