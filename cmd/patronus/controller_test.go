package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestControllerServesHealthReadyAndMetrics(t *testing.T) {
	engines := map[string][]string{"sqlite": {"--data", t.TempDir()}}
	if pg := pgURL(t); pg != "" {
		engines["postgres"] = []string{"--db", pg}
	}
	for name, args := range engines {
		t.Run(name, func(t *testing.T) {
			c := startController(t, args...)
			if code, body := c.get(t, "/health"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
				t.Errorf("/health = %d %s", code, body)
			}
			code, body := c.get(t, "/health/ready")
			if code != 200 || !strings.Contains(body, `"name":"store","ok":true`) || !strings.Contains(body, `"name":"migrations","ok":true`) {
				t.Errorf("/health/ready = %d %s", code, body)
			}
			if code, body := c.get(t, "/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, `go_sql_max_open_connections{db_name="store"}`) {
				t.Errorf("/metrics = %d, missing expected series", code)
			}
			// SIGTERM shuts it down cleanly.
			if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-c.done:
				if err != nil {
					t.Errorf("controller exited with %v after SIGTERM:\n%s", err, c.logs)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("controller did not stop within 15s of SIGTERM")
			}
		})
	}
}

// TestReadyFailsWhenMigrationsAreNotCurrent takes the schema's migration
// record away under a running controller, as a half-finished restore or a
// hand-edited database would: /health still answers, /health/ready must
// not.
func TestReadyFailsWhenMigrationsAreNotCurrent(t *testing.T) {
	dir := t.TempDir()
	c := startController(t, "--data", dir)
	if code, _ := c.get(t, "/health/ready"); code != 200 {
		t.Fatalf("ready before the change: %d", code)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "patronus.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM goose_db_version WHERE version_id > 0"); err != nil {
		t.Fatal(err)
	}
	code, body := c.get(t, "/health/ready")
	if code != 503 || !strings.Contains(body, `"name":"migrations","ok":false`) || !strings.Contains(body, "run patronus migrate") {
		t.Errorf("/health/ready = %d %s; want 503 naming the migrations check", code, body)
	}
	if code, _ := c.get(t, "/health"); code != 200 {
		t.Errorf("/health = %d; liveness must not depend on the store", code)
	}
}

func TestUserAddAndMigrate(t *testing.T) {
	dir := t.TempDir()
	out, _, err := run(t, "", "migrate", "status", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "migrate-status-fresh.txt", out)
	out, _, err = run(t, "", "migrate", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "migrate-up.txt", out)
	out, _, err = run(t, "a-long-password\n", "user", "add", "alice", "--role", "admin", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "user-add.txt", out)

	tests := []struct {
		name, stdin string
		args        []string
		wantErr     string
	}{
		{"duplicate", "a-long-password\n", []string{"user", "add", "alice", "--role", "admin"}, "conflict: a user with that name exists"},
		{"bad role", "a-long-password\n", []string{"user", "add", "bob", "--role", "root"}, `--role: "root" must be admin, operator or viewer`},
		{"no password", "", []string{"user", "add", "bob", "--role", "viewer"}, "no password on standard input"},
		{"short password", "short\n", []string{"user", "add", "bob", "--role", "viewer"}, "user.password: must be at least 8 characters"},
		{"bad name", "a-long-password\n", []string{"user", "add", "Bob Smith", "--role", "viewer"}, `user.name: "Bob Smith" must be`},
		{"bad action", "", []string{"migrate", "sideways"}, `unknown migrate action "sideways"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := run(t, tt.stdin, append(tt.args, "--data", dir)...)
			if err == nil || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("err = %v, stderr = %q; want failure containing %q", err, stderr, tt.wantErr)
			}
		})
	}
}

func TestHelpGolden(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"controller", "--help"}, {"user", "add", "--help"}, {"migrate", "--help"}} {
		name := "help-" + strings.Join(args[:len(args)-1], "-") + ".txt"
		if len(args) == 1 {
			name = "help.txt"
		}
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, "", args...)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, out)
		})
	}
}
