package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

const userCols = `id, name, role, password_hash, active, token_epoch, created_at, updated_at, last_login`

func scanUser(sc interface{ Scan(...any) error }) (sdwan.User, error) {
	var u sdwan.User
	var created, updated int64
	var last sql.NullInt64
	err := sc.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Active, &u.TokenEpoch, &created, &updated, &last)
	u.CreatedAt, u.UpdatedAt, u.LastLogin = fromMS(created), fromMS(updated), fromNullMS(last)
	return u, err
}

// CreateUser validates and inserts a user; PasswordHash must already be set.
func (q Q) CreateUser(ctx context.Context, u *sdwan.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return &sdwan.FieldError{Field: "user.password", Reason: "is required"}
	}
	if u.ID == "" {
		u.ID = uuid.Must(uuid.NewV7()).String()
	}
	now := q.now.UTC().Truncate(time.Millisecond)
	u.CreatedAt, u.UpdatedAt, u.Active = now, now, true
	_, err := q.q.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,NULL)`,
		u.ID, u.Name, u.Role, u.PasswordHash, u.Active, u.TokenEpoch, ms(now), ms(now))
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.Name, mapErr(err))
	}
	return nil
}

// UpdateUser writes a user's role, hash, active flag and token epoch.
func (q Q) UpdateUser(ctx context.Context, u *sdwan.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	u.UpdatedAt = q.now.UTC().Truncate(time.Millisecond)
	res, err := q.q.ExecContext(ctx, `UPDATE users SET role=$2, password_hash=$3, active=$4, token_epoch=$5, updated_at=$6, last_login=$7 WHERE id=$1`,
		u.ID, u.Role, u.PasswordHash, u.Active, u.TokenEpoch, ms(u.UpdatedAt), nullMS(u.LastLogin))
	if err != nil {
		return fmt.Errorf("store: update user %s: %w", u.ID, mapErr(err))
	}
	return affected(res, "user", u.ID)
}

// User returns a user by ID.
func (q Q) User(ctx context.Context, id string) (sdwan.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id=$1`, id))
	if err != nil {
		return u, fmt.Errorf("store: user %s: %w", id, mapErr(err))
	}
	return u, nil
}

// UserByName returns a user by name.
func (q Q) UserByName(ctx context.Context, name string) (sdwan.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name=$1`, name))
	if err != nil {
		return u, fmt.Errorf("store: user %q: %w", name, mapErr(err))
	}
	return u, nil
}

// ListUsers returns every user by name.
func (q Q) ListUsers(ctx context.Context) ([]sdwan.User, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", mapErr(err))
	}
	return collect(rows, scanUser)
}

// Setting reads a value from the settings table.
func (q Q) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := q.q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key=$1`, key).Scan(&v); err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, mapErr(err))
	}
	return v, nil
}

// SetSettingIfAbsent stores a value unless the key has one, and returns the
// value that is in force, so replicas that race at first start agree.
func (q Q) SetSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	if _, err := q.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", fmt.Errorf("store: set setting %s: %w", key, mapErr(err))
	}
	return q.Setting(ctx, key)
}
