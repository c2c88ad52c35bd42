package control

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestEdgeAskRelay: with two replicas on one store and their buses
// bridged (as the PostgreSQL bridge does), a check and a failover asked of
// the replica the edge is not connected to reach the edge through the
// other, and the answers come back whichever replica the edge posts them
// to; a site with no edge on any replica is told so.
func TestEdgeAskRelay(t *testing.T) {
	w := newEdgeWorld(t, EdgeHubConfig{CheckTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	busB := events.NewBus(nil, "replica-b")
	w.svc.bus.OnPublish(busB.Deliver)
	busB.OnPublish(w.svc.bus.Deliver)
	svcB, err := New(ctx, w.svc.Store(), busB, nil, nil, DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	hubB, err := NewEdgeHub(ctx, svcB, EdgeHubConfig{CheckTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	for _, h := range []*EdgeHub{w.hub, hubB} {
		sub := h.subscribeRelay(ctx) // listening before anything is asked
		go func() {
			h.serveRelay(sub)
			done <- struct{}{}
		}()
	}
	defer func() { cancel(); <-done; <-done }()

	// Site a's edge streams from replica A.
	msgs, err := w.hub.Stream(ctx, w.edgeA, "")
	if err != nil {
		t.Fatal(err)
	}
	<-msgs // the config
	edgeErr := make(chan error, 1)
	go func() {
		edgeErr <- func() error {
			m := <-msgs
			if m.Type != edgeapi.MsgCheck || m.Check.PathID != w.ab.ID {
				return errors.New("edge got " + m.Type + ", want a check of a->b")
			}
			// The edge posts its answer to replica A.
			if err := w.hub.CompleteCheck(ctx, w.edgeA, edgeapi.CheckResult{ID: m.Check.ID, PathID: w.ab.ID, Sent: 10, Received: 10,
				Metrics: edgeapi.Metrics{PathID: w.ab.ID, State: "up", LatencyMs: 4.5, Score: 90, MeasuredAt: time.Now()}}); err != nil {
				return err
			}
			m = <-msgs
			if m.Type != edgeapi.MsgFailover || m.Failover.PathID != w.ab.ID || m.Failover.Reason != "maintenance" {
				return errors.New("edge got " + m.Type + ", want the failover of a->b")
			}
			// This answer reaches replica B, the one that asked.
			return hubB.CompleteCheck(ctx, w.edgeA, edgeapi.CheckResult{ID: m.Failover.ID, PathID: w.ab.ID})
		}()
	}()

	m, err := hubB.CheckPathHealth(ctx, w.ab)
	if err != nil {
		t.Fatalf("check through replica B: %v", err)
	}
	if m.LatencyMs != 4.5 || m.PathID != w.ab.ID {
		t.Errorf("check = %+v", m)
	}
	if err := hubB.Failover(ctx, w.ab, "", "maintenance"); err != nil {
		t.Fatalf("failover through replica B: %v", err)
	}
	if err := <-edgeErr; err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, err = hubB.CheckPathHealth(ctx, w.ba)
	if !errors.Is(err, sdwan.ErrUnavailable) || !strings.Contains(err.Error(), "no edge connected for site b") {
		t.Fatalf("check with no edge anywhere: %v", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("a check with no edge anywhere took %v to fail", waited)
	}
}
