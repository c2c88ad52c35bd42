package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// APIKey is a long-lived credential: a user's key for scripts, or a site's
// credential for its edge (role edge, SiteID set). Only a hash of the
// secret is stored; Prefix finds the row.
type APIKey struct {
	ID         string
	Prefix     string
	SecretHash string
	Name       string
	UserID     string // "" for a site credential
	SiteID     string // "" for a user's key
	Role       sdwan.Role
	CreatedAt  time.Time
	LastUsed   *time.Time
	RevokedAt  *time.Time
}

const apiKeyCols = `id, prefix, secret_hash, name, user_id, site_id, role, created_at, last_used, revoked_at`

func scanAPIKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var user, site sql.NullString
	var created int64
	var last, revoked sql.NullInt64
	err := sc.Scan(&k.ID, &k.Prefix, &k.SecretHash, &k.Name, &user, &site, &k.Role, &created, &last, &revoked)
	k.UserID, k.SiteID = user.String, site.String
	k.CreatedAt, k.LastUsed, k.RevokedAt = fromMS(created), fromNullMS(last), fromNullMS(revoked)
	return k, err
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateAPIKey inserts a key.
func (q Q) CreateAPIKey(ctx context.Context, k *APIKey) error {
	if (k.UserID == "") == (k.SiteID == "") {
		return &sdwan.FieldError{Field: "apiKey", Reason: "must belong to exactly one user or one site"}
	}
	if k.ID == "" {
		k.ID = uuid.Must(uuid.NewV7()).String()
	}
	k.CreatedAt = q.now.UTC().Truncate(time.Millisecond)
	_, err := q.q.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,NULL,NULL)`,
		k.ID, k.Prefix, k.SecretHash, k.Name, nullString(k.UserID), nullString(k.SiteID), k.Role, ms(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create api key: %w", mapErr(err))
	}
	return nil
}

// APIKeyByPrefix finds a key by its public prefix.
func (q Q) APIKeyByPrefix(ctx context.Context, prefix string) (APIKey, error) {
	k, err := scanAPIKey(q.q.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE prefix=$1`, prefix))
	if err != nil {
		return k, fmt.Errorf("store: api key %s: %w", prefix, mapErr(err))
	}
	return k, nil
}

// ListAPIKeys lists a user's keys (userID set), a site's credentials
// (siteID set), or every key.
func (q Q) ListAPIKeys(ctx context.Context, userID, siteID string) ([]APIKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys
		WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR site_id = $2) ORDER BY created_at, id`, userID, siteID)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", mapErr(err))
	}
	return collect(rows, scanAPIKey)
}

// RevokeAPIKey marks a key revoked.
func (q Q) RevokeAPIKey(ctx context.Context, id string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE api_keys SET revoked_at=$2 WHERE id=$1 AND revoked_at IS NULL`, id, ms(q.now))
	if err != nil {
		return fmt.Errorf("store: revoke api key %s: %w", id, mapErr(err))
	}
	return affected(res, "active api key", id)
}

// TouchAPIKey records a key's use.
func (q Q) TouchAPIKey(ctx context.Context, id string) error {
	_, err := q.q.ExecContext(ctx, `UPDATE api_keys SET last_used=$2 WHERE id=$1`, id, ms(q.now))
	return mapErr(err)
}
