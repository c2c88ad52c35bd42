//go:build linux

package nsexec

import (
	"errors"
	"os"
	"testing"

	"github.com/vishvananda/netns"
)

// TestDoReturns runs code in a new namespace (root only) and checks that
// the code saw that namespace and that the caller's thread never left its
// own; without root it checks that an error from f comes back.
func TestDoReturns(t *testing.T) {
	want := errors.New("from f")
	if err := Locked(func() error { return want }); !errors.Is(err, want) {
		t.Fatalf("Locked returned %v, want f's error", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("making a namespace needs root")
	}
	before, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	var inside netns.NsHandle
	err = Locked(func() (err error) {
		inside, err = netns.New() // switches this thread into it
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if inside.Equal(before) {
		t.Fatal("netns.New gave the caller's namespace")
	}
	var seen netns.NsHandle
	if err := Do(inside, func() (err error) { seen, err = netns.Get(); return err }); err != nil {
		t.Fatal(err)
	}
	defer seen.Close()
	if !seen.Equal(inside) {
		t.Error("f did not run in the namespace")
	}
	after, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if !after.Equal(before) {
		t.Error("the calling thread changed namespace")
	}
}
