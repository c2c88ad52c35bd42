package sdwan

import (
	"strings"
	"time"
)

// Role is what a user may do. Each role includes the rights of those before
// it: a viewer reads; an operator also changes policies and paths, clears
// caches, checks path health and fails over; an admin also manages sites,
// users and API keys. The edge role belongs to site credentials and lets an
// edge read its configuration and report telemetry for its own site only.
type Role string

// Roles.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
	RoleEdge     Role = "edge"
)

// ParseRole parses a user role (edge is not a user role).
func ParseRole(field, s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	switch r {
	case RoleViewer, RoleOperator, RoleAdmin:
		return r, nil
	}
	return "", fieldErr(field, s, "must be admin, operator or viewer")
}

// rank orders the human roles; the edge role is outside the ladder.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r includes the rights of want.
func (r Role) AtLeast(want Role) bool {
	if want == RoleEdge {
		return r == RoleEdge
	}
	return r.rank() >= want.rank() && want.rank() > 0
}

// User is a person or script that signs in to the controller.
type User struct {
	ID           string
	Name         string
	Role         Role
	PasswordHash string // argon2id PHC string; never leaves the store layer
	Active       bool
	// TokenEpoch grows whenever the user's tokens must stop working
	// (logout everywhere, password or role change, deactivation).
	TokenEpoch int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastLogin  *time.Time
}

// Validate checks the user's fields.
func (u *User) Validate() error {
	if err := ValidateName("user.name", u.Name); err != nil {
		return err
	}
	if _, err := ParseRole("user.role", string(u.Role)); err != nil {
		return err
	}
	return nil
}

// ValidatePassword checks a new password's strength: long enough to resist
// guessing, short enough not to be a denial-of-service on the hash.
func ValidatePassword(field, pw string) error {
	switch {
	case len(pw) < 8:
		return fieldErr(field, "", "must be at least 8 characters")
	case len(pw) > 256:
		return fieldErr(field, "", "must be at most 256 characters")
	}
	return nil
}

// Severity grades audit entries and alerts.
type Severity string

// Severities.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// AuditEntry records one change: who did what to which object, and when.
// It is written in the same transaction as the change.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string // user name, "apikey:<prefix>", "site:<name>" or "system"
	Action     string // e.g. "site.delete"
	TargetType string // e.g. "site"
	TargetID   string
	Summary    string // what changed, for a person
	Severity   Severity
}
