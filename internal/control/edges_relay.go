package control

import (
	"context"
	"encoding/json"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/events"
)

// relayAcceptWait bounds how long a replica waits for another to take a
// check or failover for an edge it does not have, before it says no edge
// of the site is connected anywhere. Replicas answer within milliseconds
// (one NOTIFY each way); a second allows for a busy database.
const relayAcceptWait = time.Second

// An edge streams from one replica, but operators may ask any replica to
// check a path or fail it over. A replica without a stream from the
// site's edge relays the ask over the event bus (PostgreSQL NOTIFY between
// replicas): the replica holding a stream passes it to its edge and says
// so, and the edge's answer, posted to whichever replica the edge reaches,
// travels back the same way to the replica that waits for it.

// relayAsk publishes m for the replica that has the site's edge and
// reports whether one took it within relayAcceptWait. pc must be
// registered under id.
func (h *EdgeHub) relayAsk(ctx context.Context, siteID, id string, m edgeapi.Message, pc *pendingCheck) bool {
	payload, err := json.Marshal(m)
	if err != nil {
		h.log.Error("relay an edge ask", "err", err)
		return false
	}
	h.svc.bus.Publish(events.Event{Kind: events.EdgeAsk, SiteID: siteID, Summary: id, Payload: payload})
	wait := time.NewTimer(min(relayAcceptWait, h.cfg.CheckTimeout))
	defer wait.Stop()
	select {
	case <-pc.accepted:
		return true
	case <-wait.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// relayAnswer passes an edge's answer to a check this replica did not ask
// to the replica that did.
func (h *EdgeHub) relayAnswer(siteID string, r edgeapi.CheckResult) {
	payload, err := json.Marshal(r)
	if err != nil {
		h.log.Error("relay an edge answer", "err", err)
		return
	}
	h.svc.bus.Publish(events.Event{Kind: events.EdgeAnswer, SiteID: siteID, Summary: r.ID, Payload: payload})
}

// RunRelay serves the other replicas' relayed asks and answers until ctx
// ends.
func (h *EdgeHub) RunRelay(ctx context.Context) { h.serveRelay(h.subscribeRelay(ctx)) }

// subscribeRelay subscribes to the other replicas' relayed asks and
// answers until ctx ends.
func (h *EdgeHub) subscribeRelay(ctx context.Context) *events.Subscription {
	origin := h.svc.bus.Origin()
	return h.svc.bus.Subscribe(ctx, 256, func(e events.Event) bool {
		return e.Origin != origin && (e.Kind == events.EdgeAsk || e.Kind == events.EdgeAccepted || e.Kind == events.EdgeAnswer)
	})
}

// serveRelay serves what sub brings until it ends.
func (h *EdgeHub) serveRelay(sub *events.Subscription) {
	for e := range sub.C() {
		switch e.Kind {
		case events.EdgeAsk:
			h.takeRelayedAsk(e)
		case events.EdgeAccepted:
			h.mu.Lock()
			if pc := h.checks[e.Summary]; pc != nil && pc.siteID == e.SiteID {
				pc.accept()
			}
			h.mu.Unlock()
		case events.EdgeAnswer:
			var r edgeapi.CheckResult
			if err := json.Unmarshal(e.Payload, &r); err != nil || r.ID != e.Summary {
				h.log.Warn("unreadable relayed edge answer", "id", e.Summary, "err", err)
				continue
			}
			_, _ = h.deliver(e.SiteID, r) // a stray or a forgery: nobody here waits for it
		}
	}
}

// takeRelayedAsk passes another replica's ask to this replica's newest
// stream from the site's edge, if it has one, and tells the asker.
func (h *EdgeHub) takeRelayedAsk(e events.Event) {
	var m edgeapi.Message
	if err := json.Unmarshal(e.Payload, &m); err != nil || (m.Type != edgeapi.MsgCheck && m.Type != edgeapi.MsgFailover) {
		h.log.Warn("unreadable relayed edge ask", "id", e.Summary, "err", err)
		return
	}
	h.mu.Lock()
	cs := h.conns[e.SiteID]
	var conn *edgeConn
	if len(cs) > 0 {
		conn = cs[len(cs)-1]
	}
	h.mu.Unlock()
	if conn == nil {
		return
	}
	select {
	case conn.asks <- m:
	default:
		h.log.Warn("edge too busy for a relayed ask", "site", e.SiteID, "id", e.Summary)
		return
	}
	h.svc.bus.Publish(events.Event{Kind: events.EdgeAccepted, SiteID: e.SiteID, Summary: e.Summary})
}
