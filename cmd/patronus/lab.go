package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/lab"
	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/spf13/cobra"
)

// labFlags are the flags shared by lab and demo.
type labFlags struct {
	listen     string
	data       string
	intervalMs int
	maxRTTMs   float64
	seed       uint64
	traffic    bool
	netns      bool // lab only: site LANs in network namespaces
}

func (f *labFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.listen, "listen", envOr("PATRONUS_LISTEN", "127.0.0.1:8080"), "controller address (env PATRONUS_LISTEN)")
	cmd.Flags().StringVar(&f.data, "data", os.Getenv("PATRONUS_DATA"), "keep the lab's database in this directory (default: a temporary one, removed on exit)")
	cmd.Flags().IntVar(&f.intervalMs, "probe-interval", 0, "probe interval in milliseconds (default 100)")
	cmd.Flags().Float64Var(&f.maxRTTMs, "degraded-latency", 150, "round-trip latency in ms above which a path is Degraded (0: no latency bound; loss above 20% always degrades)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "seed for the emulated links' randomness (default: random)")
	cmd.Flags().BoolVar(&f.traffic, "traffic", cmd.Name() == "demo", "run background traffic: a voice-like UDP stream site-1 -> site-2 and a TCP transfer every 20 s, under their own policies")
}

// runLab builds a lab, prints how to reach it and runs it until
// interrupted.
func runLab(cmd *cobra.Command, f labFlags, sites, links int, sc *wanem.Scenario) error {
	ctx := cmd.Context()
	l, err := lab.New(ctx, lab.Config{
		Sites: sites, Links: links, DataDir: f.data, Listen: f.listen, Logger: logger(cmd),
		AdminPassword: os.Getenv("PATRONUS_ADMIN_PASSWORD"), Probe: edgeapi.ProbeSettings{IntervalMs: f.intervalMs, MaxLatencyMs: f.maxRTTMs},
		Seed: f.seed, Scenario: sc, Version: version, Background: f.traffic, NetNS: f.netns,
	})
	if err != nil {
		return err
	}
	defer l.Close()
	printBanner(cmd.OutOrStdout(), l, sc)
	return l.Run(ctx)
}

func printBanner(w io.Writer, l *lab.Lab, sc *wanem.Scenario) {
	fmt.Fprintf(w, "\nPatronus lab: %d sites x %d links, %d paths, every link emulated on loopback.\n\n",
		len(l.Sites()), len(l.LinkNames())/len(l.Sites()), l.PathCount())
	fmt.Fprintf(w, "  dashboard   %s/\n", l.URL())
	fmt.Fprintf(w, "  GraphQL     %s/graphql\n", l.URL())
	if l.Admin.Password != "" {
		fmt.Fprintf(w, "  sign in     user %s, password %s\n", l.Admin.User, l.Admin.Password)
	} else {
		fmt.Fprintf(w, "  sign in     user %s (existing user: its password is unchanged)\n", l.Admin.User)
	}
	fmt.Fprintf(w, "  API key     %s\n", l.Admin.APIKey)
	if ns := l.Namespace(l.Sites()[0]); ns != "" {
		last := l.Sites()[len(l.Sites())-1]
		fmt.Fprintf(w, "  site LANs   network namespaces %s … %s, each with a TUN at 10.N.0.1/24\n", ns, l.Namespace(last))
	}
	if sc != nil {
		fmt.Fprintf(w, "  scenario    %s (%d steps", sc.Name, len(sc.Steps))
		if sc.Repeat > 0 {
			fmt.Fprintf(w, ", repeats every %v", sc.Repeat)
		}
		fmt.Fprintln(w, ")")
	}
	fmt.Fprintf(w, "\nIn another terminal:\n\n")
	fmt.Fprintf(w, "  export PATRONUS_URL=%s PATRONUS_TOKEN=%s\n", l.URL(), l.Admin.APIKey)
	fmt.Fprintf(w, "  patronus path list\n")
	fmt.Fprintf(w, "  patronus lab impair %s --delay 40ms --jitter 5ms --loss 2%%\n", l.LinkNames()[0])
	fmt.Fprintf(w, "  patronus lab impair %s --down\n", l.LinkNames()[0])
	fmt.Fprintf(w, "  patronus lab traffic --from site-1 --to site-2 --duration 10s --cut %s --cut-at 3s\n", l.LinkNames()[0])
	if ns := l.Namespace(l.Sites()[0]); ns != "" {
		fmt.Fprintf(w, "  ip netns exec %s ping 10.2.0.1\n", ns)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Links: %s\nPress Ctrl-C to stop.\n\n", strings.Join(l.LinkNames(), " "))
}

func newLabCmd() *cobra.Command {
	var f labFlags
	var sites, links int
	var scenario string
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a controller and N sites with K emulated WAN links each, on this machine",
		Long: `Run a whole SD-WAN on this machine, without root: a controller, N sites named
site-1…site-N each with an edge and K WAN links named wan1…wanK, and a userspace
WAN emulator on loopback UDP between them whose delay, jitter, loss, rate and
up/down state can change while it runs, from 'patronus lab impair' or a
scenario file (JSON or YAML; see internal/lab/wanem for the format).

Every pair of links of different sites gets a path, monitored by the edges.
Each site's LAN, 10.N.0.0/24 with a host at 10.N.0.1, is a userspace network
stack carried by its edge; with --netns (root) it is a Linux network namespace,
patronus-<lab id>-site-N, holding a kernel TUN that the edge carries and gives
the site's address and routes to the other sites' prefixes, so that any program
run with 'ip netns exec' reaches the other sites through the data plane. The
namespaces are removed when the lab stops. The WAN stays emulated either way.
The admin password is PATRONUS_ADMIN_PASSWORD when set, else generated and
printed, with an API key for the other commands.`,
		Example: `  patronus lab --sites 3 --links 2 --listen 127.0.0.1:8080
  patronus lab --sites 4 --links 2 --scenario failover.json
  sudo patronus lab --sites 2 --netns`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sc *wanem.Scenario
			if scenario != "" {
				b, err := os.ReadFile(scenario)
				if err != nil {
					return err
				}
				if sc, err = wanem.ParseScenario(b); err != nil {
					return fmt.Errorf("%s: %w", scenario, err)
				}
			}
			return runLab(cmd, f, sites, links, sc)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&sites, "sites", 3, "number of sites (2-100)")
	cmd.Flags().IntVar(&links, "links", 2, "WAN links per site (1-16)")
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario file to play (JSON or YAML)")
	cmd.Flags().BoolVar(&f.netns, "netns", false, "make each site's LAN a network namespace with a kernel TUN (root; Linux)")
	cmd.AddCommand(newLabImpairCmd(), newLabTrafficCmd())
	return cmd
}

func newLabImpairCmd() *cobra.Command {
	var af apiFlags
	var delay, jitter, loss, rate, dir string
	var down, up, reset bool
	cmd := &cobra.Command{
		Use:   "impair SITE/LINK",
		Short: "Change a running lab's emulated link",
		Long: `Change the impairment of one emulated link of a running lab. Only the given
settings change; the others stay as they are (--reset starts from a clean
link). Delay and jitter are one-way, per direction; loss is per direction, so
loss on both directions of a link fails a round trip about twice as often.
Needs the operator role.`,
		Example: `  patronus lab impair site-1/wan1 --delay 40ms --jitter 5ms --loss 2%
  patronus lab impair site-2/wan2 --rate 2mbit --dir in
  patronus lab impair site-1/wan1 --down
  patronus lab impair site-1/wan1 --reset`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if down && up {
				return errors.New("--down and --up contradict each other")
			}
			// The wanem Change's JSON form takes the CLI's units, so the
			// flags go through its parser and get its error messages.
			set := map[string]any{}
			for k, v := range map[string]string{"delay": delay, "jitter": jitter, "loss": loss, "rate": rate} {
				if v != "" {
					set[k] = v
				}
			}
			if down {
				set["down"] = true
			}
			if up {
				set["down"] = false
			}
			if reset {
				set["reset"] = true
			}
			if len(set) == 0 {
				return errors.New("nothing to change: give --delay, --jitter, --loss, --rate, --down, --up or --reset")
			}
			req, err := impairRequest(dir, set)
			if err != nil {
				return err
			}
			if _, err := af.client(); err != nil { // checks --output
				return err
			}
			c := &lab.Client{Base: af.controller, Token: apiToken(af)}
			st, err := c.Impair(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			t := &table{header: []string{"LINK", "ADDRESS", "OUT", "IN"}}
			t.add(st.Name, st.Address, st.Out, st.In)
			return af.print(cmd.OutOrStdout(), t, st)
		},
	}
	af.register(cmd)
	cmd.Flags().StringVar(&delay, "delay", "", "one-way delay, such as 40ms")
	cmd.Flags().StringVar(&jitter, "jitter", "", "jitter (RFC 3550), such as 5ms")
	cmd.Flags().StringVar(&loss, "loss", "", "random loss, such as 2%")
	cmd.Flags().StringVar(&rate, "rate", "", "rate limit, such as 10mbit (0 for none)")
	cmd.Flags().StringVar(&dir, "dir", "both", "direction: both, out (leaving the site) or in")
	cmd.Flags().BoolVar(&down, "down", false, "take the link down")
	cmd.Flags().BoolVar(&up, "up", false, "bring the link back up")
	cmd.Flags().BoolVar(&reset, "reset", false, "clear every impairment first")
	return cmd
}

// impairRequest builds the request from the flags through the Change's
// JSON parser, so a bad value is refused here with the field's name.
func impairRequest(dir string, set map[string]any) (lab.ImpairRequest, error) {
	if _, err := wanem.ParseDirections(dir); err != nil {
		return lab.ImpairRequest{}, fmt.Errorf("--dir: %w", err)
	}
	b, err := jsonMarshal(set)
	if err != nil {
		return lab.ImpairRequest{}, err
	}
	var c wanem.Change
	if err := c.UnmarshalJSON(b); err != nil {
		return lab.ImpairRequest{}, fmt.Errorf("--%w", err)
	}
	if err := c.Validate(); err != nil {
		return lab.ImpairRequest{}, fmt.Errorf("--%w", err)
	}
	return lab.ImpairRequest{Dir: dir, Set: c}, nil
}

// apiToken is the token the API flags name: --token, else PATRONUS_TOKEN.
func apiToken(af apiFlags) string {
	if af.token != "" {
		return af.token
	}
	return os.Getenv("PATRONUS_TOKEN")
}

func newLabTrafficCmd() *cobra.Command {
	var af apiFlags
	var req lab.TrafficRequest
	var duration, cutAt time.Duration
	var tcp bool
	cmd := &cobra.Command{
		Use:   "traffic",
		Short: "Run traffic between two sites of a running lab through the data plane",
		Long: `Run traffic from one site's LAN to another's through the edges' WireGuard
tunnels, and print what it measured: a constant-rate UDP stream (default 50
datagrams/s of 160 bytes, like a voice call: loss, the longest gap,
reordering) or, with --tcp, a bulk TCP transfer (throughput). --cut takes a
link down partway through and back up at the end, to measure the failover
gap the stream sees. The traffic counts against the policies that match it,
as packets_matched and bytes_matched show. Needs the operator role.`,
		Example: `  patronus lab traffic --from site-1 --to site-2 --duration 10s
  patronus lab traffic --from site-1 --to site-2 --cut site-1/wan1 --cut-at 3s
  patronus lab traffic --from site-2 --to site-3 --tcp --duration 5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := af.client(); err != nil { // checks --output
				return err
			}
			req.Kind = "udp"
			if tcp {
				req.Kind = "tcp"
			}
			req.DurationMs = int(duration / time.Millisecond)
			req.CutAtMs = int(cutAt / time.Millisecond)
			c := &lab.Client{Base: af.controller, Token: apiToken(af)}
			res, err := c.Traffic(cmd.Context(), req)
			if err != nil {
				return err
			}
			if af.output == "json" {
				return af.print(cmd.OutOrStdout(), nil, res)
			}
			lab.WriteTraffic(cmd.OutOrStdout(), req, res)
			return nil
		},
	}
	af.register(cmd)
	cmd.Flags().StringVar(&req.From, "from", "site-1", "sending site")
	cmd.Flags().StringVar(&req.To, "to", "site-2", "receiving site")
	cmd.Flags().Uint16Var(&req.Port, "port", 0, "destination port (default 6001 for UDP, 5001 for TCP)")
	cmd.Flags().BoolVar(&tcp, "tcp", false, "a bulk TCP transfer instead of a UDP stream")
	cmd.Flags().IntVar(&req.Rate, "rate", 50, "UDP datagrams a second")
	cmd.Flags().IntVar(&req.Payload, "payload", 160, "UDP payload bytes per datagram")
	cmd.Flags().DurationVar(&duration, "duration", 5*time.Second, "how long the traffic runs")
	cmd.Flags().StringVar(&req.Cut, "cut", "", "link to cut during the run, such as site-1/wan1")
	cmd.Flags().DurationVar(&cutAt, "cut-at", 2*time.Second, "when to cut the link, from the start")
	return cmd
}
