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
	if res.Bytes == 0 {
		t.Error("TCP delivered no bytes")
	}
	s, err := l.StartUDP("site-1", "site-2", 6001, 50, 160)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	r := s.Stop(200 * time.Millisecond)
	t.Logf("UDP: %v", r)
	if r.Received == 0 || r.Duplicates != 0 {
		t.Errorf("UDP: received %d of %d datagrams, %d duplicated; want some and none duplicated", r.Received, r.Sent, r.Duplicates)
	}
}
