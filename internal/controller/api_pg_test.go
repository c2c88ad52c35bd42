package controller

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// TestEventsCrossReplicas runs two real controller processes on one
// PostgreSQL database and shows a mutation on one reaching a GraphQL
// subscriber on the other, through the LISTEN/NOTIFY bridge, and traffic
// an edge reports to either counting once in both.
func TestEventsCrossReplicas(t *testing.T) {
	base := os.Getenv("PATRONUS_TEST_POSTGRES")
	if base == "" {
		t.Skip("set PATRONUS_TEST_POSTGRES=postgres://… to run the two-replica test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dbURL := freshSchema(t, base)

	bin := filepath.Join(t.TempDir(), "patronus")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/patronus-sdwan/patronus/cmd/patronus")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	add := exec.CommandContext(ctx, bin, "user", "add", "admin", "--role", "admin", "--db", dbURL)
	add.Stdin = strings.NewReader("replica-test-password\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	a, b := startController(ctx, t, bin, dbURL), startController(ctx, t, bin, dbURL)

	token := login(ctx, t, b, "admin", "replica-test-password")

	// Subscribe on replica A.
	c, resp, err := websocket.Dial(ctx, "ws://"+a+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	defer c.CloseNow()
	type msg struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	if err := wsjson.Write(ctx, c, msg{Type: "connection_init", Payload: init}); err != nil {
		t.Fatal(err)
	}
	var ack msg
	if err := wsjson.Read(ctx, c, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("init: %+v %v", ack, err)
	}
	sub, _ := json.Marshal(map[string]string{"query": `subscription { siteUpdates { id name } }`})
	if err := wsjson.Write(ctx, c, msg{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
		t.Fatal(err)
	}
	got := make(chan msg, 16)
	go func() {
		defer close(got)
		for {
			var m msg
			if err := wsjson.Read(ctx, c, &m); err != nil {
				return
			}
			got <- m
		}
	}()

	// Create sites on replica B until one is seen on A (the subscription
	// and the bridge start asynchronously).
	for i := range 100 {
		name := fmt.Sprintf("replica-site-%d", i)
		gql(ctx, t, b, token, `mutation($n: String!) { createSite(input: {name: $n}) { id } }`, map[string]any{"n": name})
		select {
		case m, ok := <-got:
			if !ok {
				t.Fatal("subscription closed")
			}
			if m.Type != "next" || !strings.Contains(string(m.Payload), "replica-site-") {
				t.Fatalf("got %+v, want a site event", m)
			}
			trafficCrossesReplicas(ctx, t, a, b, token)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("no event crossed from replica B to a subscriber on replica A")
}

// trafficCrossesReplicas has an edge report to replica A, re-send that
// report to B as an edge that lost A's answer would, and report again to
// B; both replicas must then show the sum of the two reports.
func trafficCrossesReplicas(ctx context.Context, t *testing.T, a, b, token string) {
	t.Helper()
	var created struct {
		CreateSite   struct{ ID string }  `json:"createSite"`
		CreatePolicy struct{ ID string }  `json:"createPolicy"`
		Credential   struct{ Key string } `json:"issueSiteCredential"`
	}
	must(t, json.Unmarshal(gql(ctx, t, b, token, `mutation { createSite(input: {name: "traffic-site"}) { id } createPolicy(input: {name: "voice", priority: 1}) { id } }`, nil), &created))
	must(t, json.Unmarshal(gql(ctx, t, b, token, `mutation($s: ID!) { issueSiteCredential(siteId: $s) { key } }`, map[string]any{"s": created.CreateSite.ID}), &created))
	var policyID int64
	must(t, json.Unmarshal([]byte(created.CreatePolicy.ID), &policyID))

	report := func(addr string, seq, packets uint64, wantApplied bool) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"edge": "edge", "site": created.CreateSite.ID, "epoch": 1, "seq": seq, "time": time.Now(),
			"deltas": []map[string]any{{"policyId": policyID, "packets": packets, "bytes": packets * 100, "activeFlows": 1}}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/edge/stats", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+created.Credential.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ack struct{ Applied bool }
		if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil || resp.StatusCode != http.StatusOK || ack.Applied != wantApplied {
			t.Fatalf("report %d to %s: status %d, %+v, %v; want applied %v", seq, addr, resp.StatusCode, ack, err, wantApplied)
		}
	}
	report(a, 1, 10, true)
	report(b, 1, 10, false)
	report(b, 2, 5, true)
	for _, addr := range []string{a, b} {
		for {
			var out struct {
				Policy struct {
					Packets int64 `json:"packets_matched"`
					Bytes   int64 `json:"bytes_matched"`
				} `json:"policy"`
			}
			must(t, json.Unmarshal(gql(ctx, t, addr, token, `query($id: ID!) { policy(id: $id) { packets_matched bytes_matched } }`, map[string]any{"id": created.CreatePolicy.ID}), &out))
			if out.Policy.Packets == 15 && out.Policy.Bytes == 1500 {
				break
			}
			if out.Policy.Packets > 15 || ctx.Err() != nil {
				t.Fatalf("replica %s counts %+v, want 15 packets and 1500 bytes", addr, out.Policy)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// freshSchema creates a schema for this test and returns a URL whose
// search_path selects it; the schema is dropped afterwards.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := "patronus_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// startController runs the binary on a free loopback port and waits until
// it is ready; it is interrupted when the test ends.
func startController(ctx context.Context, t *testing.T, bin, dbURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "controller", "--db", dbURL, "--listen", addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("controller %s log:\n%s", addr, logs.String())
		}
	})
	for ctx.Err() == nil {
		resp, err := http.Get("http://" + addr + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("controller on %s did not become ready:\n%s", addr, logs.String())
	return ""
}

func gql(ctx context.Context, t *testing.T, addr, token, query string, vars map[string]any) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("%s: %+v", query, out.Errors)
	}
	return out.Data
}

func login(ctx context.Context, t *testing.T, addr, user, password string) string {
	t.Helper()
	var out struct {
		Login struct{ Token string } `json:"login"`
	}
	data := gql(ctx, t, addr, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`, map[string]any{"u": user, "p": password})
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out.Login.Token
}
