package sdwan

import (
	"encoding/base64"
	"net/netip"
	"regexp"
	"time"
)

// SiteStatus is the operational status of a site.
type SiteStatus string

// Site statuses.
const (
	SiteActive   SiteStatus = "active"
	SiteInactive SiteStatus = "inactive"
	SiteDegraded SiteStatus = "degraded"
)

// Valid reports whether s is one of the known statuses.
func (s SiteStatus) Valid() bool {
	switch s {
	case SiteActive, SiteInactive, SiteDegraded:
		return true
	}
	return false
}

// Site is a location joined to the overlay: a branch, a data centre, a cloud
// region. Its WAN links are Endpoints.
type Site struct {
	ID          string // UUID
	Name        string // unique, a DNS-label-like name such as "site-1"
	Description string
	Status      SiteStatus
	// PublicKey is the site's WireGuard public key (base64). Its private key
	// never leaves the edge.
	PublicKey string
	// Prefixes are the site's LAN prefixes, routed to it over the overlay.
	Prefixes  []netip.Prefix
	CreatedAt time.Time
	UpdatedAt time.Time
	// DeletedAt is set while the site is soft-deleted and restorable.
	DeletedAt *time.Time
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`)

// ValidateName checks a resource name: 1-63 lower-case letters, digits,
// dots, dashes or underscores, starting and ending with a letter or digit.
func ValidateName(field, name string) error {
	if name == "" {
		return fieldErr(field, "", "is required")
	}
	if !nameRE.MatchString(name) {
		return fieldErr(field, name, "must be 1-63 lower-case letters, digits, '.', '-' or '_', starting and ending with a letter or digit")
	}
	return nil
}

// ValidateWireGuardKey checks a base64 WireGuard key (32 bytes). An empty
// key is allowed: a site gets its key when its edge first enrols.
func ValidateWireGuardKey(field, key string) error {
	if key == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(b) != 32 {
		return fieldErr(field, key, "is not a base64 WireGuard key of 32 bytes")
	}
	return nil
}

// Validate checks the site's fields, naming the first bad one.
func (s *Site) Validate() error {
	if err := ValidateName("site.name", s.Name); err != nil {
		return err
	}
	if len(s.Description) > 1024 {
		return fieldErr("site.description", "", "is longer than 1024 characters")
	}
	if s.Status == "" {
		s.Status = SiteActive
	}
	if !s.Status.Valid() {
		return fieldErr("site.status", string(s.Status), "must be one of active, inactive, degraded")
	}
	if err := ValidateWireGuardKey("site.publicKey", s.PublicKey); err != nil {
		return err
	}
	for _, p := range s.Prefixes {
		if !p.IsValid() || p != p.Masked() {
			return fieldErr("site.prefixes", p.String(), "is not a valid network prefix (host bits must be zero)")
		}
	}
	return nil
}
