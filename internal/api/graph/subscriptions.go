package graph

import (
	"context"

	"github.com/patronus-sdwan/patronus/internal/events"
)

// subscriptionBuffer is how many events a subscriber may fall behind
// before the bus drops events for it rather than stall the writer.
const subscriptionBuffer = 256

// stream turns the bus's events that pass filter into a subscription's
// channel of API objects. conv reads the object an event names (events
// carry IDs, not objects, so what a subscriber sees is committed state,
// whichever replica wrote it) and may skip an event. The channel closes
// when ctx ends, which gqlgen does when the client stops the
// subscription or disconnects.
func stream[T any](ctx context.Context, a *API, filter func(events.Event) bool, conv func(context.Context, events.Event) (*T, bool)) <-chan *T {
	sub := a.bus.Subscribe(ctx, subscriptionBuffer, filter)
	out := make(chan *T, 1)
	go func() {
		defer close(out)
		for e := range sub.C() {
			v, ok := conv(ctx, e)
			if !ok {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
