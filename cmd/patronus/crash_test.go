package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/client"
)

// TestCrashMidWriteLosesNothingAcknowledged runs the real binary on SQLite,
// writes sites with a WAN link each over the API from several clients, kills
// the controller with SIGKILL in the middle of it, restarts it and checks
// that the database is intact (integrity_check, foreign_key_check), that
// every write the API acknowledged is there, and that every site has its
// audit entry: nothing half-written.
func TestCrashMidWriteLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the controller")
	}
	dir := t.TempDir()
	if _, stderr, err := run(t, "crash-test-password\n", "user", "add", "admin", "--role", "admin", "--data", dir); err != nil {
		t.Fatalf("user add: %v: %s", err, stderr)
	}
	c := startController(t, "--data", dir)
	ctx := context.Background()
	api, err := client.New("http://"+c.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := login(ctx, api, "admin", "crash-test-password")
	if err != nil {
		t.Fatal(err)
	}
	api.Token = sess.Login.Token

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("crash-%d-%05d", w, i)
				var out struct{ CreateSite struct{ ID string } }
				err := api.Do(ctx, `mutation($n: String!) { createSite(input: {name: $n}) { id } }`, map[string]any{"n": name}, &out)
				if err != nil {
					return // the controller is gone
				}
				err = api.Do(ctx, `mutation($s: ID!, $a: String!) { createEndpoint(input: {siteId: $s, name: "wan1", address: $a}) { id } }`,
					map[string]any{"s": out.CreateSite.ID, "a": fmt.Sprintf("127.0.0.1:%d", 10000+w*10000+i%10000)}, nil)
				if err != nil {
					return
				}
				mu.Lock()
				acked[name] = true
				mu.Unlock()
			}
		})
	}
	// Let the writers get going, then kill the controller mid-stream.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("no write was acknowledged before the kill:\n%s", c.logs)
	}

	// The restarted controller comes up ready on the same data.
	c2 := startController(t, "--data", dir)
	if code, body := c2.get(t, "/health/ready"); code != 200 {
		t.Fatalf("ready after restart = %d %s", code, body)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "patronus.db")+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check = %q, %v", integrity, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, parent string
		var rowid, fkid sql.NullInt64
		_ = rows.Scan(&table, &rowid, &parent, &fkid)
		t.Errorf("foreign key violation: %s row %v -> %s", table, rowid, parent)
	}
	rows.Close()
	present := map[string]bool{}
	rows, err = db.Query("SELECT name FROM sdwan_sites")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		present[n] = true
	}
	rows.Close()
	for name := range acked {
		if !present[name] {
			t.Errorf("acknowledged site %s is missing after the crash", name)
		}
	}
	// Every site has exactly one creation audit entry, written in its
	// transaction; no site exists without one and no entry without its site.
	var orphans int
	err = db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM sdwan_sites s WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'site.create' AND a.target_id = s.id)) +
		(SELECT COUNT(*) FROM audit_log a WHERE a.action = 'site.create' AND NOT EXISTS (SELECT 1 FROM sdwan_sites s WHERE s.id = a.target_id))`).Scan(&orphans)
	if err != nil || orphans != 0 {
		t.Errorf("sites and their audit entries disagree in %d places (%v)", orphans, err)
	}
	t.Logf("acknowledged %d sites with a link each before SIGKILL; %d sites present after restart", len(acked), len(present))
}
