package model

// The API's enums, written by hand rather than generated so that the
// hand-written object types in model.go can use them before gqlgen has run.
// Each value is the GraphQL name; Lower gives the domain's lower-case form.

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// enumOf unmarshals a GraphQL enum value, checking it against the allowed
// values.
func enumOf[T ~string](v any, name string, all []T) (T, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", name)
	}
	for _, a := range all {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("%q is not a valid %s", s, name)
}

func writeEnum(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

// Role is who a caller is, by what they may do.
type Role string

// Role values.
const (
	RoleViewer   Role = "VIEWER"
	RoleOperator Role = "OPERATOR"
	RoleAdmin    Role = "ADMIN"
	RoleEdge     Role = "EDGE"
)

// AllRole lists every Role.
var AllRole = []Role{RoleViewer, RoleOperator, RoleAdmin, RoleEdge}

// IsValid reports whether e is one of the values.
func (e Role) IsValid() bool {
	for _, v := range AllRole {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e Role) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e Role) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *Role) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "Role", AllRole)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e Role) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// Severity is how much an entry or alert matters.
type Severity string

// Severity values.
const (
	SeverityInfo     Severity = "INFO"
	SeverityWarning  Severity = "WARNING"
	SeverityCritical Severity = "CRITICAL"
)

// AllSeverity lists every Severity.
var AllSeverity = []Severity{SeverityInfo, SeverityWarning, SeverityCritical}

// IsValid reports whether e is one of the values.
func (e Severity) IsValid() bool {
	for _, v := range AllSeverity {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e Severity) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e Severity) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *Severity) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "Severity", AllSeverity)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e Severity) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// SiteStatus is a site's state.
type SiteStatus string

// SiteStatus values.
const (
	SiteStatusActive   SiteStatus = "ACTIVE"
	SiteStatusInactive SiteStatus = "INACTIVE"
	SiteStatusDegraded SiteStatus = "DEGRADED"
)

// AllSiteStatus lists every SiteStatus.
var AllSiteStatus = []SiteStatus{SiteStatusActive, SiteStatusInactive, SiteStatusDegraded}

// IsValid reports whether e is one of the values.
func (e SiteStatus) IsValid() bool {
	for _, v := range AllSiteStatus {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e SiteStatus) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e SiteStatus) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *SiteStatus) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "SiteStatus", AllSiteStatus)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e SiteStatus) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// LinkKind is a WAN link's technology.
type LinkKind string

// LinkKind values.
const (
	LinkKindFibre     LinkKind = "FIBRE"
	LinkKindBroadband LinkKind = "BROADBAND"
	LinkKindLte       LinkKind = "LTE"
	LinkKindOther     LinkKind = "OTHER"
)

// AllLinkKind lists every LinkKind.
var AllLinkKind = []LinkKind{LinkKindFibre, LinkKindBroadband, LinkKindLte, LinkKindOther}

// IsValid reports whether e is one of the values.
func (e LinkKind) IsValid() bool {
	for _, v := range AllLinkKind {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e LinkKind) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e LinkKind) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *LinkKind) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "LinkKind", AllLinkKind)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e LinkKind) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// PathStatus is a path's state.
type PathStatus string

// PathStatus values.
const (
	PathStatusUp       PathStatus = "UP"
	PathStatusDegraded PathStatus = "DEGRADED"
	PathStatusDown     PathStatus = "DOWN"
)

// AllPathStatus lists every PathStatus.
var AllPathStatus = []PathStatus{PathStatusUp, PathStatusDegraded, PathStatusDown}

// IsValid reports whether e is one of the values.
func (e PathStatus) IsValid() bool {
	for _, v := range AllPathStatus {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e PathStatus) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e PathStatus) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *PathStatus) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "PathStatus", AllPathStatus)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e PathStatus) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// ActionKind is what a policy does with matched traffic.
type ActionKind string

// ActionKind values.
const (
	ActionKindSteer ActionKind = "STEER"
	ActionKindDrop  ActionKind = "DROP"
)

// AllActionKind lists every ActionKind.
var AllActionKind = []ActionKind{ActionKindSteer, ActionKindDrop}

// IsValid reports whether e is one of the values.
func (e ActionKind) IsValid() bool {
	for _, v := range AllActionKind {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e ActionKind) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e ActionKind) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *ActionKind) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "ActionKind", AllActionKind)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e ActionKind) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// PathPreference is how a steering policy picks a path.
type PathPreference string

// PathPreference values.
const (
	PathPreferenceBestQuality PathPreference = "BEST_QUALITY"
	PathPreferenceLowestCost  PathPreference = "LOWEST_COST"
	PathPreferenceLink        PathPreference = "LINK"
)

// AllPathPreference lists every PathPreference.
var AllPathPreference = []PathPreference{PathPreferenceBestQuality, PathPreferenceLowestCost, PathPreferenceLink}

// IsValid reports whether e is one of the values.
func (e PathPreference) IsValid() bool {
	for _, v := range AllPathPreference {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e PathPreference) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e PathPreference) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *PathPreference) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "PathPreference", AllPathPreference)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e PathPreference) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }

// EventKind is what happened, in an event.
type EventKind string

// EventKind values.
const (
	EventKindSiteCreated     EventKind = "SITE_CREATED"
	EventKindSiteUpdated     EventKind = "SITE_UPDATED"
	EventKindSiteDeleted     EventKind = "SITE_DELETED"
	EventKindSiteSoftDeleted EventKind = "SITE_SOFT_DELETED"
	EventKindSiteRestored    EventKind = "SITE_RESTORED"
	EventKindEndpointChanged EventKind = "ENDPOINT_CHANGED"
	EventKindPathChanged     EventKind = "PATH_CHANGED"
	EventKindPathState       EventKind = "PATH_STATE"
	EventKindPathMetrics     EventKind = "PATH_METRICS"
	EventKindPathFailover    EventKind = "PATH_FAILOVER"
	EventKindPolicyChanged   EventKind = "POLICY_CHANGED"
	EventKindPolicyDeleted   EventKind = "POLICY_DELETED"
	EventKindAudit           EventKind = "AUDIT"
	EventKindAlert           EventKind = "ALERT"
	EventKindCacheCleared    EventKind = "CACHE_CLEARED"
	EventKindUserChanged     EventKind = "USER_CHANGED"
)

// AllEventKind lists every EventKind.
var AllEventKind = []EventKind{EventKindSiteCreated, EventKindSiteUpdated, EventKindSiteDeleted, EventKindSiteSoftDeleted, EventKindSiteRestored, EventKindEndpointChanged, EventKindPathChanged, EventKindPathState, EventKindPathMetrics, EventKindPathFailover, EventKindPolicyChanged, EventKindPolicyDeleted, EventKindAudit, EventKindAlert, EventKindCacheCleared, EventKindUserChanged}

// IsValid reports whether e is one of the values.
func (e EventKind) IsValid() bool {
	for _, v := range AllEventKind {
		if v == e {
			return true
		}
	}
	return false
}

// String returns the GraphQL name.
func (e EventKind) String() string { return string(e) }

// Lower returns the domain's lower-case form.
func (e EventKind) Lower() string { return strings.ToLower(string(e)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (e *EventKind) UnmarshalGQL(v any) (err error) {
	*e, err = enumOf(v, "EventKind", AllEventKind)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (e EventKind) MarshalGQL(w io.Writer) { writeEnum(w, string(e)) }
