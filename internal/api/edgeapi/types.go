package edgeapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Config is a site's desired configuration: everything its edge needs to
// probe its paths and answer its peers' probes. Version identifies the
// content (a hash of everything else), so that an edge that already runs
// it can say so and the controller need not resend it.
type Config struct {
	Version string `json:"version"`
	Site    Site   `json:"site"`
	// Links are the site's own WAN links: the sockets the edge opens.
	Links []Link `json:"links"`
	// Peers are the other live sites with their links and public keys.
	Peers []Peer `json:"peers"`
	// Paths are the paths that start at this site: the edge probes them.
	Paths []Path `json:"paths"`
	// Answer are the paths that end at this site: the edge answers their
	// probes on the destination link.
	Answer []Responder `json:"answer"`
	// Policies are the enabled routing policies in evaluation order.
	Policies []sdwan.Policy `json:"policies"`
	// Probe tunes every path's monitor.
	Probe ProbeSettings `json:"probe"`
}

// Site names the site a configuration is for, or a peer.
type Site struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	PublicKey string         `json:"publicKey,omitempty"`
	Prefixes  []netip.Prefix `json:"prefixes,omitempty"`
}

// Link is a WAN link (an endpoint) of a site.
type Link struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Address   netip.AddrPort `json:"address"`
	Interface string         `json:"interface,omitempty"`
	Kind      string         `json:"kind,omitempty"`
	// CostPerGB is what traffic on the link costs, for the lowest-cost
	// preference.
	CostPerGB float64 `json:"costPerGb,omitempty"`
}

// Peer is another site with its links.
type Peer struct {
	Site
	Links []Link `json:"links"`
}

// Path is a path this site probes: from one of its links to a peer's link.
type Path struct {
	ID string `json:"id"`
	// Session is the probe session id, unique per link socket, that both
	// ends use for the path's packets.
	Session uint32 `json:"session"`
	// Key authenticates the path's probes (base64 in JSON).
	Key       []byte         `json:"key"`
	SrcLinkID string         `json:"srcLinkId"`
	SrcLink   string         `json:"srcLink"`
	DstSiteID string         `json:"dstSiteId"`
	DstSite   string         `json:"dstSite"`
	DstLinkID string         `json:"dstLinkId"`
	DstLink   string         `json:"dstLink"`
	Remote    netip.AddrPort `json:"remote"`
}

// Responder is a path that ends at this site, whose probes the edge
// answers on the destination link.
type Responder struct {
	PathID  string `json:"pathId"`
	Session uint32 `json:"session"`
	Key     []byte `json:"key"`
	LinkID  string `json:"linkId"`
	SrcSite string `json:"srcSite"`
}

// ProbeSettings tunes the path monitor; zero fields take the monitor's
// defaults (100 ms interval, multiplier 3, 10 good probes and 2 s
// hold-down to recover, Degraded above 20% loss).
type ProbeSettings struct {
	IntervalMs    int     `json:"intervalMs,omitempty"`
	Multiplier    int     `json:"multiplier,omitempty"`
	RecoverProbes int     `json:"recoverProbes,omitempty"`
	HoldDownMs    int     `json:"holdDownMs,omitempty"`
	Window        int     `json:"window,omitempty"`
	MaxLatencyMs  float64 `json:"maxLatencyMs,omitempty"`
	MaxJitterMs   float64 `json:"maxJitterMs,omitempty"`
	MaxLossPct    float64 `json:"maxLossPct,omitempty"`
}

// Seal sets c.Version to the hash of the rest of c and returns it.
func (c *Config) Seal() string {
	c.Version = ""
	b, err := json.Marshal(c)
	if err != nil {
		// Every field marshals; a failure here is a programming error.
		panic(fmt.Sprintf("edgeapi: marshal config: %v", err))
	}
	sum := sha256.Sum256(b)
	c.Version = hex.EncodeToString(sum[:12])
	return c.Version
}

// Metrics is one measurement of a path as the edge reports it: the seed's
// metric names, plus the monitor's state and counters.
type Metrics struct {
	PathID        string    `json:"pathId"`
	State         string    `json:"state"` // up, degraded or down
	LatencyMs     float64   `json:"latency_ms"`
	JitterMs      float64   `json:"jitter_ms"`
	PacketLossPct float64   `json:"packet_loss_pct"`
	P50Ms         float64   `json:"p50_ms"`
	P95Ms         float64   `json:"p95_ms"`
	MOS           float64   `json:"mos"`
	Score         int       `json:"score"`
	Sent          uint64    `json:"sent"`
	Received      uint64    `json:"received"`
	Lost          uint64    `json:"lost"`
	MeasuredAt    time.Time `json:"measured_at"`
}

// PathMetrics converts m to the domain type the store keeps.
func (m Metrics) PathMetrics() sdwan.PathMetrics {
	return sdwan.PathMetrics{
		PathID: m.PathID, LatencyMs: m.LatencyMs, JitterMs: m.JitterMs,
		PacketLossPct: m.PacketLossPct, Score: m.Score, MeasuredAt: m.MeasuredAt,
	}
}

// MaxBatch bounds the entries of one report, so that a request body stays
// small whatever the edge sends.
const MaxBatch = 10_000

// MetricsBatch is what an edge posts every second.
type MetricsBatch struct {
	Metrics []Metrics `json:"metrics"`
}

// StateChange is one transition of a path's state, reported at once.
type StateChange struct {
	PathID string    `json:"pathId"`
	From   string    `json:"from,omitempty"` // empty when resynchronising
	To     string    `json:"to"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// StateBatch carries state changes in the order they happened.
type StateBatch struct {
	Changes []StateChange `json:"changes"`
}

// Check asks an edge for an immediate burst of probes on one path.
type Check struct {
	ID        string `json:"id"`
	PathID    string `json:"pathId"`
	Probes    int    `json:"probes"`
	TimeoutMs int    `json:"timeoutMs"`
}

// Failover asks an edge to move the flows on a path to target (another
// path's ID), or to the best eligible path when Target is empty.
type Failover struct {
	ID     string `json:"id"`
	PathID string `json:"pathId"`
	Target string `json:"target,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// CheckResult is an edge's answer to a Check (what the burst measured) or
// to a Failover (only ID and Error), or why it could not be done.
type CheckResult struct {
	ID       string  `json:"id"`
	PathID   string  `json:"pathId"`
	Error    string  `json:"error,omitempty"`
	Sent     int     `json:"sent"`
	Received int     `json:"received"`
	Metrics  Metrics `json:"metrics"`
}

// Message kinds on the stream.
const (
	MsgConfig   = "config"
	MsgCheck    = "check"
	MsgFailover = "failover"
	MsgPing     = "ping"
)

// Message is one line of the stream.
type Message struct {
	Type     string    `json:"type"`
	Config   *Config   `json:"config,omitempty"`
	Check    *Check    `json:"check,omitempty"`
	Failover *Failover `json:"failover,omitempty"`
}

// ErrBadMessage reports a stream line that is not a valid Message.
var ErrBadMessage = errors.New("edgeapi: bad message")

// DecodeMessage parses and checks one stream line.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	switch m.Type {
	case MsgConfig:
		if m.Config == nil || m.Config.Version == "" {
			return Message{}, fmt.Errorf("%w: config message without a versioned config", ErrBadMessage)
		}
	case MsgCheck:
		if m.Check == nil || m.Check.ID == "" || m.Check.PathID == "" {
			return Message{}, fmt.Errorf("%w: check message without a check id and path", ErrBadMessage)
		}
		if m.Check.Probes < 1 || m.Check.Probes > 1000 {
			return Message{}, fmt.Errorf("%w: check asks for %d probes, want 1 to 1000", ErrBadMessage, m.Check.Probes)
		}
	case MsgFailover:
		if m.Failover == nil || m.Failover.ID == "" || m.Failover.PathID == "" {
			return Message{}, fmt.Errorf("%w: failover message without an id and path", ErrBadMessage)
		}
	case MsgPing:
	default:
		return Message{}, fmt.Errorf("%w: unknown type %q", ErrBadMessage, m.Type)
	}
	return m, nil
}

// Validate checks a report's size and that every entry names a path.
func (b *MetricsBatch) Validate() error {
	if len(b.Metrics) > MaxBatch {
		return &sdwan.FieldError{Field: "metrics", Value: fmt.Sprint(len(b.Metrics)), Reason: fmt.Sprintf("is more than %d entries", MaxBatch)}
	}
	for i, m := range b.Metrics {
		pm := m.PathMetrics()
		if err := pm.Validate(); err != nil {
			return sdwan.Prefixed(fmt.Sprintf("metrics[%d]", i), err)
		}
		if _, err := sdwan.ParsePathStatus(fmt.Sprintf("metrics[%d].state", i), m.State); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a state report.
func (b *StateBatch) Validate() error {
	if len(b.Changes) > MaxBatch {
		return &sdwan.FieldError{Field: "changes", Value: fmt.Sprint(len(b.Changes)), Reason: fmt.Sprintf("is more than %d entries", MaxBatch)}
	}
	for i, c := range b.Changes {
		if c.PathID == "" {
			return &sdwan.FieldError{Field: fmt.Sprintf("changes[%d].pathId", i), Reason: "is required"}
		}
		if _, err := sdwan.ParsePathStatus(fmt.Sprintf("changes[%d].to", i), c.To); err != nil {
			return err
		}
		if len(c.Reason) > 512 {
			return &sdwan.FieldError{Field: fmt.Sprintf("changes[%d].reason", i), Reason: "is longer than 512 characters"}
		}
	}
	return nil
}
