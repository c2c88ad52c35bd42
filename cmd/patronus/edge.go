package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"

	"github.com/patronus-sdwan/patronus/internal/edge/agent"
	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
	"github.com/patronus-sdwan/patronus/internal/edge/route"
	"github.com/spf13/cobra"
)

func newEdgeCmd() *cobra.Command {
	var controllerURL, credential, stateDir, tunName string
	var noDataPlane bool
	cmd := &cobra.Command{
		Use:   "edge",
		Short: "Run a site's edge agent: follow the controller and monitor every path",
		Long: `Run the edge agent of one site. It signs in with the site's credential, fetches
its desired configuration (its WAN links, its peers, their paths, the policies),
opens a UDP socket on each link's address, probes every path and answers the
peers' probes, and reports metrics every second and state changes at once. It
follows the controller's changes as they happen; when the controller is
unreachable it keeps running on its last configuration and reconnects with
backoff.

The data plane carries the site's traffic over one WireGuard tunnel per path,
steered by the policies, and reports per-policy traffic every second. The
site's WireGuard private key is made at first start and kept in --state; only
its public key is sent to the controller. Packets come from a kernel TUN
device with --tun NAME (root), else from a userspace network stack holding the
site's first address. The edge brings the TUN up and gives it the site's
address (the first host of its first prefix) and a route to each prefix of
each peer (marked proto 112, 'ip route show proto 112'), adds and removes
routes as the controller's configuration changes, never touches routes it did
not add, and removes its own when it stops. --no-dataplane runs the path
monitor alone.

Issue the credential with 'patronus site token SITE-ID'.`,
		Example: `  PATRONUS_SITE_CREDENTIAL=pse_… patronus edge --controller http://controller:8080 --state /var/lib/patronus
  PATRONUS_SITE_CREDENTIAL=pse_… patronus edge --state /var/lib/patronus --tun ptn0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if credential == "" {
				return errors.New("no site credential: pass --credential or set PATRONUS_SITE_CREDENTIAL (issue one with 'patronus site token SITE-ID')")
			}
			log := logger(cmd)
			cfg := agent.Config{Controller: controllerURL, Credential: credential, Logger: log}
			if !noDataPlane {
				if stateDir == "" {
					return errors.New("no state directory for the WireGuard key: pass --state DIR (or --no-dataplane)")
				}
				key, err := loadOrMakeKey(filepath.Join(stateDir, "wireguard.key"))
				if err != nil {
					return err
				}
				log.Info("site WireGuard key", "public_key", key.PublicKey().String())
				cfg.DataPlane = &agent.DataPlane{PrivateKey: key, Device: siteDevice(tunName, log)}
				if tunName != "" {
					cfg.DataPlane.Routes = route.New(route.Netlink(nil, tunName),
						route.Options{Logger: log.With("tun", tunName), MTU: tunMTU})
				}
			}
			a, err := agent.New(cfg)
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&controllerURL, "controller", envOr("PATRONUS_URL", "http://127.0.0.1:8080"), "controller URL (env PATRONUS_URL)")
	cmd.Flags().StringVar(&credential, "credential", os.Getenv("PATRONUS_SITE_CREDENTIAL"), "site credential pse_… (env PATRONUS_SITE_CREDENTIAL)")
	cmd.Flags().StringVar(&stateDir, "state", os.Getenv("PATRONUS_EDGE_STATE"), "directory keeping the site's WireGuard private key (env PATRONUS_EDGE_STATE)")
	cmd.Flags().StringVar(&tunName, "tun", "", "carry the site's traffic on this kernel TUN device (root); default a userspace network stack")
	cmd.Flags().BoolVar(&noDataPlane, "no-dataplane", false, "run the path monitor alone, carrying no traffic")
	return cmd
}

// loadOrMakeKey reads the private key at path, or makes one and writes it
// there (0600) at first start.
func loadOrMakeKey(path string) (dataplane.Key, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := dataplane.ParseKey(strings.TrimSpace(string(b)))
		if err != nil || k.IsZero() {
			return dataplane.Key{}, fmt.Errorf("%s: not a WireGuard private key: %v", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return dataplane.Key{}, err
	}
	k, err := dataplane.GeneratePrivateKey()
	if err != nil {
		return dataplane.Key{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return dataplane.Key{}, err
	}
	// O_EXCL: two edges started at once on one directory must not each
	// write a key and run with different ones.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return dataplane.Key{}, fmt.Errorf("write the WireGuard key: %w", err)
	}
	if _, err := f.WriteString(k.String() + "\n"); err != nil {
		f.Close()
		return dataplane.Key{}, err
	}
	return k, f.Close()
}

// tunMTU is the site device's MTU: WireGuard's default inner MTU.
const tunMTU = 1420

// siteDevice opens the site device once the controller has said the
// site's prefixes: the kernel TUN named, or a netstack at the first
// prefix's first address.
func siteDevice(tunName string, log *slog.Logger) func([]netip.Prefix) (tun.Device, error) {
	return func(prefixes []netip.Prefix) (tun.Device, error) {
		if tunName != "" {
			dev, err := tun.CreateTUN(tunName, tunMTU)
			if err != nil {
				return nil, fmt.Errorf("create TUN %s (needs root): %w", tunName, err)
			}
			log.Info("site TUN device created; the edge gives it the site's address and routes to the peers' prefixes",
				"tun", tunName, "address", agent.SiteAddress(prefixes))
			return dev, nil
		}
		if len(prefixes) == 0 {
			return nil, errors.New("the controller assigned this site no prefix, so the userspace network stack has no address; assign one or use --tun")
		}
		host := agent.SiteAddress(prefixes).Addr()
		dev, _, err := netstack.CreateNetTUN([]netip.Addr{host}, nil, tunMTU)
		if err != nil {
			return nil, err
		}
		log.Info("site network stack in userspace", "address", host)
		return dev, nil
	}
}
