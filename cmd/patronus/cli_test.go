package main

import (
	"regexp"
	"strings"
	"testing"
)

var (
	uuidRE   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	keyRE    = regexp.MustCompile(`pat_[a-z0-9]+_[A-Z0-9]+`)
	prefixRE = regexp.MustCompile(`\bpat_[a-z0-9]{10}\b`)
)

// normalise replaces what changes from run to run (IDs, times, keys) so CLI
// output can be compared with golden files; tabwriter padding is squeezed
// because IDs of other lengths shift the columns.
func normalise(s string) string {
	s = uuidRE.ReplaceAllString(s, "<id>")
	s = timeRE.ReplaceAllString(s, "<time>")
	s = keyRE.ReplaceAllString(s, "<key>")
	s = prefixRE.ReplaceAllString(s, "<prefix>")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// TestCLIOverTheAPI drives the resource commands against a real controller
// and compares their table output with golden files.
func TestCLIOverTheAPI(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := run(t, "cli-test-password\n", "user", "add", "admin", "--role", "admin", "--data", dir); err != nil {
		t.Fatalf("user add: %v: %s", err, stderr)
	}
	c := startController(t, "--data", dir)
	url := "http://" + c.addr
	token, stderr, err := run(t, "cli-test-password\n", "login", "admin", "--controller", url)
	if err != nil {
		t.Fatalf("login: %v: %s", err, stderr)
	}
	t.Setenv("PATRONUS_TOKEN", strings.TrimSpace(token))
	t.Setenv("PATRONUS_URL", url)
	cli := func(args ...string) string {
		t.Helper()
		out, stderr, err := run(t, "", args...)
		if err != nil {
			t.Fatalf("patronus %s: %v: %s", strings.Join(args, " "), err, stderr)
		}
		return out
	}
	var transcript strings.Builder
	step := func(args ...string) string {
		out := cli(args...)
		transcript.WriteString("$ patronus " + strings.Join(args, " ") + "\n" + out + "\n")
		return out
	}
	step("site", "create", "hq", "--description", "head office")
	step("site", "create", "branch-1", "--prefix", "10.2.0.0/24")
	step("site", "list")
	hq := uuidRE.FindString(cli("site", "list", "--name", "hq"))
	br := uuidRE.FindString(cli("site", "list", "--name", "branch-1"))
	step("site", "prefixes", hq, "10.1.0.0/24", "2001:db8:1::/48")
	step("endpoint", "create", "wan1", "--site", hq, "--address", "192.0.2.1:51820", "--kind", "fibre", "--bandwidth", "1000", "--cost", "0.02")
	step("endpoint", "create", "wan1", "--site", br, "--address", "198.51.100.1:51820", "--kind", "lte", "--cost", "1.5")
	step("endpoint", "list")
	step("policy", "create", "voice", "--priority", "10", "--protocol", "udp", "--dport", "5060-5061,16384-32767", "--max-latency", "150", "--max-loss", "1")
	step("policy", "create", "block-telnet", "--priority", "5", "--protocol", "tcp", "--dport", "23", "--action", "drop")
	step("policy", "list")
	step("policy", "disable", "2")
	step("site", "get", br)
	step("site", "delete", br)
	step("site", "list", "--deleted")
	step("site", "restore", br)
	step("apikey", "create", "ci", "--role", "viewer")
	step("apikey", "list")
	golden(t, "cli-transcript.txt", normalise(transcript.String()))

	// JSON output is the API's own data.
	if out := cli("policy", "get", "1", "-o", "json"); !strings.Contains(out, `"packets_matched": 0`) || !strings.Contains(out, `"destPort": "5060-5061,16384-32767"`) {
		t.Errorf("policy get -o json = %s", out)
	}
	// Errors name the field and say what to do.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "create", "bad", "--priority", "11", "--protocol", "tcp", "--dport", "70000"}, `bad input: policy.match.destPort: "70000" is out of range 1-65535`},
		{[]string{"site", "create", "hq"}, "conflict: a site with that name exists"},
		{[]string{"site", "create", "x", "--prefix", "10.0.0.1/8"}, `bad input: site.prefixes[0]: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?`},
		{[]string{"site", "list", "--token", "nonsense"}, "unauthenticated"},
		{[]string{"site", "list", "-o", "yaml"}, `--output "yaml": want table or json`},
	} {
		_, stderr, err := run(t, "", tt.args...)
		if err == nil || !strings.Contains(stderr, tt.want) {
			t.Errorf("patronus %v: err %v, stderr %q; want %q", tt.args, err, stderr, tt.want)
		}
	}
	// A viewer key can read but not write.
	viewerKey := keyRE.FindString(cli("apikey", "create", "reader", "--role", "viewer"))
	if _, stderr, err := run(t, "", "site", "create", "x", "--token", viewerKey); err == nil || !strings.Contains(stderr, "forbidden") {
		t.Errorf("viewer key created a site: %v %s", err, stderr)
	}
	if _, stderr, err := run(t, "", "site", "list", "--token", viewerKey); err != nil {
		t.Errorf("viewer key could not list sites: %v %s", err, stderr)
	}
	// The export streams CSV with a header.
	out := cli("stats", "export", "--from", "1h", "--format", "csv")
	if !strings.HasPrefix(out, "timestamp,policy_id,site_id,packets_matched,bytes_matched,active_flows\n") {
		t.Errorf("stats export = %q", out)
	}
}
