package dataplane

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"
)

// lateErrTUN is a site device whose reads, once it is closed, fail with
// an error other than os.ErrClosed, as the kernel TUN's do when its
// netlink listener reports its own shutdown ("netlink socket closed")
// before the reader sees the closed file.
type lateErrTUN struct {
	tun.Device
	closed chan struct{}
}

func (d *lateErrTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	<-d.closed
	return 0, errors.New("netlink socket closed")
}

func (d *lateErrTUN) Close() error {
	close(d.closed)
	return d.Device.Close()
}

// TestCloseWithLateDeviceError checks that Close returns when the site
// device's last read fails with something other than os.ErrClosed: the
// reader must see that the engine is closing rather than retry, and must
// not need a lock that Close holds while it waits for the reader.
func TestCloseWithLateDeviceError(t *testing.T) {
	checkLeaks(t)
	dev, _, err := netstack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("10.1.0.1")}, nil, 1420)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(&lateErrTUN{Device: dev, closed: make(chan struct{})}, Options{Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Close() }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, os.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: it waits for the reader while holding the lock the reader needs")
	}
}
