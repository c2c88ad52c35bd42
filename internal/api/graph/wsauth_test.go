package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket/wsjson"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestSubscriptionEndsOnRevocation: a subscription connection is closed as
// soon as its credential stops being honoured, and only then: an edit to
// another user leaves it streaming.
func TestSubscriptionEndsOnRevocation(t *testing.T) {
	h := newHarness(t)
	admin := h.user("admin", sdwan.RoleAdmin)
	var key struct {
		CreateApiKey struct{ Key string } `json:"createApiKey"`
	}
	h.mustDo(admin, `mutation { createApiKey(name: "watcher", role: VIEWER) { key } }`, nil, &key)
	var keys struct {
		ApiKeys []struct{ ID, Name string } `json:"apiKeys"`
	}
	h.mustDo(admin, `{ apiKeys { id name } }`, nil, &keys)
	if len(keys.ApiKeys) != 1 {
		t.Fatalf("got keys %+v", keys.ApiKeys)
	}

	for _, tc := range []struct {
		name   string        // also names the test's users and sites
		cred   func() string // signs in; runs first
		revoke func(t *testing.T)
	}{
		{"role-change", func() string { return h.user("demoted", sdwan.RoleOperator) }, func(t *testing.T) {
			h.mustDo(admin, `mutation($u: ID!) { updateUserRole(userId: $u, role: VIEWER) { id } }`, map[string]any{"u": h.userID("demoted")}, nil)
		}},
		{"logout", func() string { return h.user("leaver", sdwan.RoleViewer) }, func(t *testing.T) {
			h.mustDo(h.login("leaver"), `mutation { logout { success } }`, nil, nil)
		}},
		{"deactivation", func() string { return h.user("gone", sdwan.RoleViewer) }, func(t *testing.T) {
			h.mustDo(admin, `mutation($u: ID!) { deactivateUser(userId: $u) }`, map[string]any{"u": h.userID("gone")}, nil)
		}},
		{"key-revoked", func() string { return key.CreateApiKey.Key }, func(t *testing.T) {
			h.mustDo(admin, `mutation($k: ID!) { revokeApiKey(id: $k) { success } }`, map[string]any{"k": keys.ApiKeys[0].ID}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := h.subscribeSites(ctx, t, map[string]any{"token": tc.cred()})
			// Live, and not disturbed by a change to somebody else.
			h.user("bystander-"+tc.name, sdwan.RoleViewer)
			h.mustDo(admin, `mutation($u: ID!) { updateUserRole(userId: $u, role: OPERATOR) { id } }`,
				map[string]any{"u": h.userID("bystander-" + tc.name)}, nil)
			h.awaitSite(t, admin, got, "before-"+tc.name)

			tc.revoke(t)
			for m := range got {
				if m.Type == "next" {
					continue // an event published before the revocation
				}
				t.Fatalf("got %+v, want the connection closed", m)
			}
			if ctx.Err() != nil {
				t.Fatal("the connection was not closed after the revocation")
			}
		})
	}
}

// TestWatchCredentialExpiry: a connection signed in with an access token
// ends when the token expires, not before.
func TestWatchCredentialExpiry(t *testing.T) {
	h := newHarness(t)
	synctest.Test(t, func(t *testing.T) {
		expires := time.Now().Add(auth.AccessTTL)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &caller{p: auth.Principal{Kind: "user", UserID: "u1", Role: sdwan.RoleViewer, Expires: expires}}
		watched := h.api.watchCredential(ctx, c)
		time.Sleep(auth.AccessTTL - time.Second)
		synctest.Wait()
		if watched.Err() != nil {
			t.Fatal("connection ended before its token expired")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if watched.Err() == nil {
			t.Fatal("connection outlived its token")
		}
	})
}

// subscribeSites opens a siteUpdates subscription with the connection_init
// payload and returns its messages; the channel closes when the
// connection does.
func (h *harness) subscribeSites(ctx context.Context, t *testing.T, payload any) <-chan wsMessage {
	t.Helper()
	c, ack := dialGraphQLWS(ctx, t, h.srv.URL, payload)
	t.Cleanup(func() { c.CloseNow() })
	if ack.Type != "connection_ack" {
		t.Fatalf("init answered %+v, want connection_ack", ack)
	}
	sub, _ := json.Marshal(map[string]any{"query": `subscription { siteUpdates { id name status } }`})
	if err := wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
		t.Fatal(err)
	}
	got := make(chan wsMessage, 64)
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
	return got
}

// awaitSite creates sites named prefix-N until one arrives on got, so the
// caller knows the subscription is live, and returns that message.
func (h *harness) awaitSite(t *testing.T, admin string, got <-chan wsMessage, prefix string) wsMessage {
	t.Helper()
	for i := range 100 {
		h.mustDo(admin, `mutation($n: String!) { createSite(input: {name: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("%s-%d", prefix, i)}, nil)
		select {
		case m, ok := <-got:
			if !ok {
				t.Fatal("connection closed while it should be live")
			}
			if m.Type != "next" {
				t.Fatalf("got %+v, want a next message", m)
			}
			return m
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no siteUpdates event arrived")
	return wsMessage{}
}

// userID looks a user up by name.
func (h *harness) userID(name string) string {
	h.t.Helper()
	u, err := h.st.Read().UserByName(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}
