package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialGraphQLWS connects with the graphql-transport-ws protocol and sends
// connection_init with payload; it returns the connection and the server's
// answer to the init.
func dialGraphQLWS(ctx context.Context, t *testing.T, url string, payload any) (*websocket.Conn, wsMessage) {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1)+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	p, _ := json.Marshal(payload)
	if err := wsjson.Write(ctx, c, wsMessage{Type: "connection_init", Payload: p}); err != nil {
		t.Fatal(err)
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, c, &ack); err != nil {
		return c, wsMessage{Type: "closed: " + err.Error()}
	}
	return c, ack
}

// TestSubscriptionSiteUpdates subscribes over a real WebSocket and sees a
// site created through the API arrive as an event.
func TestSubscriptionSiteUpdates(t *testing.T) {
	h := newHarness(t)
	admin := h.user("admin", sdwan.RoleAdmin)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name    string
		payload map[string]any
	}{
		{"authorization", map[string]any{"Authorization": "Bearer " + admin}},
		{"token", map[string]any{"token": admin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ack := dialGraphQLWS(ctx, t, h.srv.URL, tc.payload)
			defer c.CloseNow()
			if ack.Type != "connection_ack" {
				t.Fatalf("init answered %+v, want connection_ack", ack)
			}
			sub, _ := json.Marshal(map[string]any{"query": `subscription { siteUpdates { id name status } }`})
			if err := wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
				t.Fatal(err)
			}
			got := make(chan wsMessage, 16)
			go func() {
				defer close(got)
				for {
					var m wsMessage
					if err := wsjson.Read(ctx, c, &m); err != nil {
						return
					}
					got <- m
				}
			}()
			// The subscription starts asynchronously; create sites until one
			// arrives, so the test does not depend on timing.
			for i := range 100 {
				name := fmt.Sprintf("ws-%s-%d", tc.name, i)
				h.mustDo(admin, `mutation($n: String!) { createSite(input: {name: $n}) { id } }`, map[string]any{"n": name}, nil)
				select {
				case m, ok := <-got:
					if !ok {
						t.Fatal("connection closed before an event arrived")
					}
					if m.Type != "next" {
						t.Fatalf("got %+v, want a next message", m)
					}
					var p struct {
						Data struct {
							SiteUpdates struct{ Name, Status string } `json:"siteUpdates"`
						} `json:"data"`
					}
					if err := json.Unmarshal(m.Payload, &p); err != nil {
						t.Fatal(err)
					}
					if !strings.HasPrefix(p.Data.SiteUpdates.Name, "ws-"+tc.name) || p.Data.SiteUpdates.Status != "ACTIVE" {
						t.Fatalf("event %+v is not a created site", p.Data.SiteUpdates)
					}
					_ = wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "complete"})
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
			t.Fatal("no siteUpdates event arrived")
		})
	}
}

// TestSubscriptionNeedsCredentials: a WebSocket without valid credentials
// is refused at connection_init.
func TestSubscriptionNeedsCredentials(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, payload := range map[string]any{
		"none":    map[string]any{},
		"invalid": map[string]any{"Authorization": "Bearer not-a-token"},
	} {
		t.Run(name, func(t *testing.T) {
			c, ack := dialGraphQLWS(ctx, t, h.srv.URL, payload)
			defer c.CloseNow()
			if ack.Type == "connection_ack" {
				t.Fatalf("connection without valid credentials was accepted")
			}
		})
	}
}
