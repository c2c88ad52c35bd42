-- +goose Up
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sdwan_sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    public_key  TEXT NOT NULL DEFAULT '',
    prefixes    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX sdwan_sites_deleted_at ON sdwan_sites (deleted_at);

CREATE TABLE sdwan_endpoints (
    id             TEXT PRIMARY KEY,
    site_id        TEXT NOT NULL REFERENCES sdwan_sites (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    interface      TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    cost_per_gb    DOUBLE PRECISION NOT NULL DEFAULT 0,
    bandwidth_mbps DOUBLE PRECISION NOT NULL DEFAULT 0,
    reachable      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE sdwan_paths (
    id              TEXT PRIMARY KEY,
    src_site_id     TEXT NOT NULL REFERENCES sdwan_sites (id) ON DELETE CASCADE,
    src_endpoint_id TEXT NOT NULL REFERENCES sdwan_endpoints (id) ON DELETE CASCADE,
    dst_site_id     TEXT NOT NULL REFERENCES sdwan_sites (id) ON DELETE CASCADE,
    dst_endpoint_id TEXT NOT NULL REFERENCES sdwan_endpoints (id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (src_endpoint_id, dst_endpoint_id)
);
CREATE INDEX sdwan_paths_src_site ON sdwan_paths (src_site_id);
CREATE INDEX sdwan_paths_dst_site ON sdwan_paths (dst_site_id);
CREATE INDEX sdwan_paths_dst_endpoint ON sdwan_paths (dst_endpoint_id);

CREATE TABLE sdwan_path_metrics (
    id              BIGSERIAL PRIMARY KEY,
    path_id         TEXT NOT NULL REFERENCES sdwan_paths (id) ON DELETE CASCADE,
    measured_at     BIGINT NOT NULL,
    latency_ms      DOUBLE PRECISION NOT NULL,
    jitter_ms       DOUBLE PRECISION NOT NULL,
    packet_loss_pct DOUBLE PRECISION NOT NULL,
    bandwidth_mbps  DOUBLE PRECISION NOT NULL,
    mtu             INTEGER NOT NULL,
    score           INTEGER NOT NULL
);
CREATE INDEX sdwan_path_metrics_path_time ON sdwan_path_metrics (path_id, measured_at);

-- Health and failover events of a path: state changes, on-demand checks,
-- manual and automatic failovers.
CREATE TABLE sdwan_path_events (
    id          BIGSERIAL PRIMARY KEY,
    path_id     TEXT NOT NULL REFERENCES sdwan_paths (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sdwan_path_events_path_time ON sdwan_path_events (path_id, at);

CREATE TABLE sdwan_policies (
    policy_id      BIGSERIAL PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    description    TEXT NOT NULL DEFAULT '',
    priority       INTEGER NOT NULL UNIQUE,
    enabled        BOOLEAN NOT NULL,
    src_prefixes   TEXT NOT NULL DEFAULT '',
    dst_prefixes   TEXT NOT NULL DEFAULT '',
    protocol       INTEGER NOT NULL DEFAULT 0,
    src_ports      TEXT NOT NULL DEFAULT '',
    dst_ports      TEXT NOT NULL DEFAULT '',
    action         TEXT NOT NULL,
    preference     TEXT NOT NULL DEFAULT '',
    link           TEXT NOT NULL DEFAULT '',
    max_latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_jitter_ms  DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_loss_pct   DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- The seed's table, plus the site the traffic was counted at (NULL for the
-- sum over all sites) and the resolution of the row in seconds (0 for a raw
-- snapshot, 3600 for an hourly roll-up).
CREATE TABLE sdwan_policy_stats (
    stat_id         BIGSERIAL PRIMARY KEY,
    policy_id       BIGINT NOT NULL REFERENCES sdwan_policies (policy_id) ON DELETE CASCADE,
    site_id         TEXT REFERENCES sdwan_sites (id) ON DELETE CASCADE,
    timestamp       BIGINT NOT NULL,
    packets_matched BIGINT NOT NULL,
    bytes_matched   BIGINT NOT NULL,
    active_flows    BIGINT NOT NULL,
    resolution      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sdwan_policy_stats_policy_time ON sdwan_policy_stats (policy_id, timestamp);
CREATE INDEX sdwan_policy_stats_site_time ON sdwan_policy_stats (site_id, timestamp);
CREATE INDEX sdwan_policy_stats_time ON sdwan_policy_stats (timestamp);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    token_epoch   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_login    BIGINT
);

-- API keys and site credentials: only a SHA-256 of the secret is kept,
-- found by a short public prefix.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    prefix      TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    site_id     TEXT REFERENCES sdwan_sites (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_used   BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE INDEX api_keys_site ON api_keys (site_id);

-- The audit log has no foreign keys: it must outlive what it describes.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    summary     TEXT NOT NULL,
    severity    TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE sdwan_policy_stats;
DROP TABLE sdwan_policies;
DROP TABLE sdwan_path_events;
DROP TABLE sdwan_path_metrics;
DROP TABLE sdwan_paths;
DROP TABLE sdwan_endpoints;
DROP TABLE sdwan_sites;
DROP TABLE settings;
