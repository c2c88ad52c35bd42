package lab

import (
	"context"
	"testing"
	"time"
)

// TestDataPlaneTraffic carries TCP and UDP between two sites' netstacks
// through the edges' WireGuard tunnels, set up from the controller.
func TestDataPlaneTraffic(t *testing.T) {
	l := startLab(t, Config{Sites: 2, Links: 2, Seed: 3})
	allUp(t, l, 20*time.Second)
	res, err := l.TCPBulk(context.Background(), "site-1", "site-2", 5001, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("TCP: %v", res)
	s, err := l.StartUDP("site-1", "site-2", 6001, 50, 160)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	r := s.Stop(200 * time.Millisecond)
	t.Logf("UDP: %v", r)
}
