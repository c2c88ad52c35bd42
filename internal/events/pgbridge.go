package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultChannel is the PostgreSQL NOTIFY channel replicas share.
const DefaultChannel = "patronus_events"

// maxNotifyPayload is PostgreSQL's limit on a NOTIFY payload (8000 bytes
// by default, less a margin). Events carry IDs and a short summary, so a
// longer one means an oversized summary, which is cut.
const maxNotifyPayload = 7900

// PGBridge carries events between controller replicas that share one
// PostgreSQL database: every event published on this replica's bus is sent
// with pg_notify, and every notification from another replica is delivered
// to local subscribers. It keeps its own connection for LISTEN (a pooled
// connection could not stay in LISTEN mode) and reconnects with backoff
// when it drops; events published while it is down are not forwarded, and
// notifications sent meanwhile are lost, which subscribers tolerate because
// events only say what changed and the store has the state.
type PGBridge struct {
	url     string
	channel string
	bus     *Bus
	log     *slog.Logger

	out  chan Event // local events waiting to be sent
	mu   sync.Mutex
	lost uint64 // local events dropped because out was full
}

// PGBridgeConfig configures a PGBridge.
type PGBridgeConfig struct {
	// URL is the PostgreSQL connection string (the store's).
	URL string
	// Channel is the NOTIFY channel; empty means DefaultChannel. Replicas
	// that share events must use the same one.
	Channel string
	Bus     *Bus
	Logger  *slog.Logger
}

// NewPGBridge returns a bridge; Run starts it.
func NewPGBridge(cfg PGBridgeConfig) (*PGBridge, error) {
	if cfg.URL == "" || cfg.Bus == nil {
		return nil, errors.New("events: a PostgreSQL bridge needs a URL and a bus")
	}
	b := &PGBridge{url: cfg.URL, channel: cfg.Channel, bus: cfg.Bus, log: cfg.Logger,
		out: make(chan Event, 1024)}
	if b.channel == "" {
		b.channel = DefaultChannel
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	// Publish must never block on the database: the hook only queues.
	cfg.Bus.OnPublish(func(e Event) {
		select {
		case b.out <- e:
		default:
			b.mu.Lock()
			b.lost++
			b.mu.Unlock()
		}
	})
	return b, nil
}

// Lost reports how many local events were not forwarded because the
// sender fell behind.
func (b *PGBridge) Lost() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lost
}

// Run listens and forwards until ctx ends, reconnecting on failure.
func (b *PGBridge) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.forever(ctx, "listen", b.listen) }()
	go func() { defer wg.Done(); b.forever(ctx, "notify", b.send) }()
	wg.Wait()
}

// forever runs fn again after each failure, with capped exponential
// backoff, until ctx ends.
func (b *PGBridge) forever(ctx context.Context, what string, fn func(context.Context) error) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := fn(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = 100 * time.Millisecond // it worked for a while
		}
		b.log.Warn("events: postgres bridge disconnected; reconnecting", "side", what, "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// listen holds a connection in LISTEN and delivers other replicas' events.
func (b *PGBridge) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			b.log.Warn("events: unreadable notification", "err", err)
			continue
		}
		if e.Origin == b.bus.Origin() {
			continue // our own, already delivered locally
		}
		b.bus.Deliver(e)
	}
}

// send forwards queued local events with pg_notify on its own connection.
func (b *PGBridge) send(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-b.out:
			payload, err := encode(e)
			if err != nil {
				b.log.Warn("events: cannot encode event", "kind", e.Kind, "err", err)
				continue
			}
			if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", b.channel, payload); err != nil {
				b.mu.Lock()
				b.lost++
				b.mu.Unlock()
				return fmt.Errorf("notify: %w", err)
			}
		}
	}
}

// encode marshals e for NOTIFY, cutting an oversized summary.
func encode(e Event) (string, error) {
	p, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	if len(p) > maxNotifyPayload {
		over := len(p) - maxNotifyPayload + len("…")
		if over >= len(e.Summary) {
			return "", fmt.Errorf("event of %d bytes is too large to notify", len(p))
		}
		e.Summary = strings.ToValidUTF8(e.Summary[:len(e.Summary)-over], "") + "…"
		if p, err = json.Marshal(e); err != nil {
			return "", err
		}
	}
	return string(p), nil
}
