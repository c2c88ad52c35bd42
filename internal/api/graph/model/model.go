// Package model holds the GraphQL API's object types. The hand-written
// types here are bound by gqlgen (autobind) so that their fields resolve
// as plain struct reads, without a resolver call per field: a list of a
// thousand policies is marshalled, not resolved field by field. Enums and
// inputs are generated into models_gen.go.
package model

import "time"

// Site is a site as the API shows it.
type Site struct {
	ID          string
	Name        string
	Description string
	Status      SiteStatus
	PublicKey   *string
	Prefixes    []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
	PurgeAfter  *time.Time
}

// Endpoint is a WAN link of a site.
type Endpoint struct {
	ID            string
	SiteID        string
	Name          string
	Address       string
	Interface     string
	Kind          LinkKind
	CostPerGb     float64
	BandwidthMbps float64
	Reachable     bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Path is a path between two sites' links.
type Path struct {
	ID            string
	Status        PathStatus
	SrcSiteID     string
	SrcEndpointID string
	DstSiteID     string
	DstEndpointID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PathMetrics is one measurement of a path, with the seed's field names.
type PathMetrics struct {
	PathID        string
	LatencyMs     float64
	JitterMs      float64
	PacketLossPct float64
	BandwidthMbps float64
	Mtu           int
	MeasuredAt    time.Time
	Score         int
}

// Policy is a routing policy with its live traffic figures.
type Policy struct {
	ID             string
	PolicyID       int64 `json:"-"`
	Name           string
	Description    string
	Priority       int
	Enabled        bool
	PacketsMatched int64
	BytesMatched   int64
	ActiveFlows    int64
	MatchCriteria  *MatchCriteria
	Actions        *PolicyActions
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// MatchCriteria is what a policy matches; nil fields match anything.
type MatchCriteria struct {
	Protocol   *string
	SourceIP   *string
	DestIP     *string
	SourcePort *string
	DestPort   *string
}

// PolicyActions is what a policy does with what it matches.
type PolicyActions struct {
	Kind       ActionKind
	SetPath    *string
	Drop       bool
	Preference *PathPreference
	Link       *string
	Sla        *Sla
}

// Sla bounds a path's quality; zero means no bound.
type Sla struct {
	MaxLatencyMs float64
	MaxJitterMs  float64
	MaxLossPct   float64
}

// PolicyEvent is a policy change with the policy's live figures.
type PolicyEvent struct {
	Kind      EventKind
	PolicyID  string
	Timestamp time.Time
	Summary   string
	Packets   int64
	Bytes     int64
}

// RoutingDecision is the path traffic between two sites takes now.
type RoutingDecision struct {
	PolicyID       *string
	SrcSiteID      string
	DstSiteID      string
	SelectedPathID string `json:"-"`
	Reason         string
	DecidedAt      time.Time
	Cached         bool
}
