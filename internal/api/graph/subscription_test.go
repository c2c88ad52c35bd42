package graph

import (
	"context"
	"encoding/json"
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
			got := h.subscribeSites(ctx, t, tc.payload)
			m := h.awaitSite(t, admin, got, "ws-"+tc.name)
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
