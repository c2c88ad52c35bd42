package cache

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind, in particular the
// shared cache's subscription listener.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
