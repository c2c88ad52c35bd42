package dataplane

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/device"
)

// tunnel is one path's WireGuard device: its own handshake, keys and
// counters, bound to one local link and talking to one remote endpoint.
type tunnel struct {
	id     string
	link   *link
	remote netip.AddrPort
	bind   *pathBind
	tun    *pathTun
	dev    *device.Device
	stats  *pathCounters
	log    *slog.Logger

	// applied is the configuration last written with IpcSet.
	applied tunnelConfig
	// keepaliveLater turns the keepalive on after start-up; see configure.
	keepaliveLater *time.Timer
}

// keepaliveDelay is how long the side of a path with the higher public key
// waits before turning its persistent keepalive on.
const keepaliveDelay = 2 * time.Second

// tunnelConfig is what a tunnel's device is configured with.
type tunnelConfig struct {
	private   Key
	peer      Key
	remote    netip.AddrPort
	allowed   string // prefixes, comma-separated, in a canonical order
	keepalive time.Duration
}

func newTunnel(id, name string, l *link, remote netip.AddrPort, mtu int, io pathIO, log *slog.Logger) *tunnel {
	st := &pathCounters{}
	t := &tunnel{id: id, link: l, remote: remote, stats: st, log: log}
	t.bind = newPathBind(l)
	t.tun = newPathTun(name, mtu, io, st)
	t.dev = device.NewDevice(t.tun, t.bind, wgLogger(log, id))
	l.setBind(remote, t.bind)
	return t
}

// wgLogger adapts slog to WireGuard's logger. WireGuard's verbose lines
// (every handshake, every keepalive) go to Debug.
func wgLogger(log *slog.Logger, path string) *device.Logger {
	return &device.Logger{
		Verbosef: func(format string, args ...any) {
			log.Debug(fmt.Sprintf(format, args...), "path", path)
		},
		Errorf: func(format string, args ...any) {
			log.Warn(fmt.Sprintf(format, args...), "path", path)
		},
	}
}

// configure brings the device to cfg with as small a change as WireGuard's
// configuration protocol allows: changing the allowed IPs or the endpoint
// keeps the session; only a new peer key replaces the peer.
func (t *tunnel) configure(cfg tunnelConfig) error {
	if cfg == t.applied {
		return nil
	}
	if t.keepaliveLater != nil {
		t.keepaliveLater.Stop()
		t.keepaliveLater = nil
	}
	// A device sends a keepalive, and so a handshake initiation, as soon
	// as it comes up with a persistent keepalive. If both ends of a path
	// come up together, their initiations cross, each side's state is
	// overwritten by the other's initiation, both responses are refused,
	// and WireGuard only retries five seconds later. So at start-up only
	// the end with the lower public key keeps alive at once; the other
	// turns its keepalive on once that handshake has had time to finish.
	keepalive := cfg.keepalive
	if t.applied == (tunnelConfig{}) && keepalive > 0 {
		pub := cfg.private.PublicKey()
		if bytes.Compare(pub[:], cfg.peer[:]) > 0 {
			keepalive = 0
			set := fmt.Sprintf("public_key=%s\npersistent_keepalive_interval=%d\n", cfg.peer.hex(), int(cfg.keepalive/time.Second))
			t.keepaliveLater = time.AfterFunc(keepaliveDelay, func() {
				if err := t.dev.IpcSet(set); err != nil {
					t.log.Debug("dataplane: turn keepalive on", "path", t.id, "err", err)
				}
			})
		}
	}
	var b strings.Builder
	if cfg.private != t.applied.private {
		fmt.Fprintf(&b, "private_key=%s\n", cfg.private.hex())
	}
	if cfg.peer != t.applied.peer {
		b.WriteString("replace_peers=true\n")
	}
	fmt.Fprintf(&b, "public_key=%s\n", cfg.peer.hex())
	fmt.Fprintf(&b, "endpoint=%s\n", cfg.remote)
	fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", int(keepalive/time.Second))
	b.WriteString("replace_allowed_ips=true\n")
	if cfg.allowed != "" {
		for p := range strings.SplitSeq(cfg.allowed, ",") {
			fmt.Fprintf(&b, "allowed_ip=%s\n", p)
		}
	}
	if err := t.dev.IpcSet(b.String()); err != nil {
		return fmt.Errorf("dataplane: configure path %s: %w", t.id, err)
	}
	if t.applied == (tunnelConfig{}) {
		if err := t.dev.Up(); err != nil {
			return fmt.Errorf("dataplane: bring up path %s: %w", t.id, err)
		}
	}
	t.applied = cfg
	return nil
}

// unhook detaches the tunnel from its link and stops its timer, ahead of
// closing its device.
func (t *tunnel) unhook() {
	if t.keepaliveLater != nil {
		t.keepaliveLater.Stop()
	}
	if (*t.link.binds.Load())[t.remote] == t.bind {
		t.link.setBind(t.remote, nil)
	}
}

// prefixList renders prefixes canonically, for comparison and IpcSet.
func prefixList(ps []netip.Prefix) string {
	s := make([]string, 0, len(ps))
	for _, p := range ps {
		s = append(s, p.Masked().String())
	}
	return strings.Join(s, ",")
}
