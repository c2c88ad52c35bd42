package events

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBusDeliversFiltersAndCloses(t *testing.T) {
	b := NewBus(nil, "r1")
	ctx, cancel := context.WithCancel(context.Background())
	all := b.Subscribe(ctx, 8, nil)
	sites := b.Subscribe(ctx, 8, Kinds(SiteCreated))
	var hooked []Event
	b.OnPublish(func(e Event) { hooked = append(hooked, e) })

	b.Publish(Event{Kind: SiteCreated, SiteID: "s1"})
	b.Publish(Event{Kind: PolicyChanged, PolicyID: 7})
	b.Deliver(Event{Kind: SiteCreated, SiteID: "s2", Origin: "r2"}) // from another replica

	if got := len(all.C()); got != 3 {
		t.Errorf("all got %d events, want 3", got)
	}
	if got := len(sites.C()); got != 2 {
		t.Errorf("filtered got %d events, want 2", got)
	}
	if e := <-all.C(); e.Origin != "r1" || e.At.IsZero() {
		t.Errorf("local event not stamped: %+v", e)
	}
	if len(hooked) != 2 {
		t.Errorf("publish hook saw %d events, want the 2 local ones", len(hooked))
	}
	cancel()
	for range all.C() { // drains, then ends because the channel closes
	}
	for range sites.C() {
	}
}

func TestSlowSubscriberDropsInsteadOfBlocking(t *testing.T) {
	b := NewBus(nil, "r1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := b.Subscribe(ctx, 2, nil)
	for range 5 {
		b.Publish(Event{Kind: Alert})
	}
	if s.Dropped() != 3 || b.Dropped() != 3 {
		t.Errorf("dropped = %d (bus %d), want 3", s.Dropped(), b.Dropped())
	}
}
