-- Integer surrogate keys for sites, endpoints and paths.
--
-- The foreign keys between sites, endpoints, paths and the paths' metrics
-- and events now run over integers: each of these tables gets a pk column
-- (the rowid on SQLite) and keeps its UUID in id, unique, for the API and
-- the domain. Comparing 36-character text keys was a third of the time of
-- deleting a site with thousands of paths. Statistics and credentials still
-- refer to a site by its UUID.
--
-- There is no Down: Patronus only migrates up.
--
-- SQLite cannot change a table's key in place, so the tables on the chain
-- and those that refer to a site are rebuilt, in the migration's one
-- transaction and with foreign keys enforced: each old table is renamed
-- aside (which points the foreign keys of the other old tables at the
-- renamed one), a new table is created and filled, and the old tables are
-- dropped children first, so that no cascade reaches a new table. The copy
-- keeps every id, and the AUTOINCREMENT counters are carried over so that
-- no id is handed out twice.

-- +goose Up
ALTER TABLE sdwan_sites RENAME TO old_sdwan_sites;
ALTER TABLE sdwan_endpoints RENAME TO old_sdwan_endpoints;
ALTER TABLE sdwan_paths RENAME TO old_sdwan_paths;
ALTER TABLE sdwan_path_metrics RENAME TO old_sdwan_path_metrics;
ALTER TABLE sdwan_path_events RENAME TO old_sdwan_path_events;
ALTER TABLE sdwan_policy_stats RENAME TO old_sdwan_policy_stats;
ALTER TABLE api_keys RENAME TO old_api_keys;

CREATE TABLE sdwan_sites (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    public_key  TEXT NOT NULL DEFAULT '',
    prefixes    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
INSERT INTO sdwan_sites (id, name, description, status, public_key, prefixes, created_at, updated_at, deleted_at)
SELECT id, name, description, status, public_key, prefixes, created_at, updated_at, deleted_at FROM old_sdwan_sites ORDER BY id;

CREATE TABLE sdwan_endpoints (
    pk             INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    site_pk        INTEGER NOT NULL REFERENCES sdwan_sites (pk) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    interface      TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    cost_per_gb    DOUBLE PRECISION NOT NULL DEFAULT 0,
    bandwidth_mbps DOUBLE PRECISION NOT NULL DEFAULT 0,
    reachable      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (site_pk, name)
);
INSERT INTO sdwan_endpoints (id, site_pk, name, address, interface, kind, cost_per_gb, bandwidth_mbps, reachable, created_at, updated_at)
SELECT e.id, s.pk, e.name, e.address, e.interface, e.kind, e.cost_per_gb, e.bandwidth_mbps, e.reachable, e.created_at, e.updated_at
FROM old_sdwan_endpoints e JOIN sdwan_sites s ON s.id = e.site_id ORDER BY e.id;

CREATE TABLE sdwan_paths (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    src_site_pk     INTEGER NOT NULL REFERENCES sdwan_sites (pk) ON DELETE CASCADE,
    src_endpoint_pk INTEGER NOT NULL REFERENCES sdwan_endpoints (pk) ON DELETE CASCADE,
    dst_site_pk     INTEGER NOT NULL REFERENCES sdwan_sites (pk) ON DELETE CASCADE,
    dst_endpoint_pk INTEGER NOT NULL REFERENCES sdwan_endpoints (pk) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (src_endpoint_pk, dst_endpoint_pk)
);
INSERT INTO sdwan_paths (id, src_site_pk, src_endpoint_pk, dst_site_pk, dst_endpoint_pk, status, created_at, updated_at)
SELECT p.id, ss.pk, se.pk, ds.pk, de.pk, p.status, p.created_at, p.updated_at
FROM old_sdwan_paths p
JOIN sdwan_sites ss ON ss.id = p.src_site_id JOIN sdwan_endpoints se ON se.id = p.src_endpoint_id
JOIN sdwan_sites ds ON ds.id = p.dst_site_id JOIN sdwan_endpoints de ON de.id = p.dst_endpoint_id
ORDER BY p.id;

CREATE TABLE sdwan_path_metrics (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    path_pk         INTEGER NOT NULL REFERENCES sdwan_paths (pk) ON DELETE CASCADE,
    measured_at     BIGINT NOT NULL,
    latency_ms      DOUBLE PRECISION NOT NULL,
    jitter_ms       DOUBLE PRECISION NOT NULL,
    packet_loss_pct DOUBLE PRECISION NOT NULL,
    bandwidth_mbps  DOUBLE PRECISION NOT NULL,
    mtu             INTEGER NOT NULL,
    score           INTEGER NOT NULL
);
INSERT INTO sdwan_path_metrics (id, path_pk, measured_at, latency_ms, jitter_ms, packet_loss_pct, bandwidth_mbps, mtu, score)
SELECT m.id, p.pk, m.measured_at, m.latency_ms, m.jitter_ms, m.packet_loss_pct, m.bandwidth_mbps, m.mtu, m.score
FROM old_sdwan_path_metrics m JOIN sdwan_paths p ON p.id = m.path_id ORDER BY m.id;

-- Health and failover events of a path: state changes, on-demand checks,
-- manual and automatic failovers.
CREATE TABLE sdwan_path_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    path_pk     INTEGER NOT NULL REFERENCES sdwan_paths (pk) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT ''
);
INSERT INTO sdwan_path_events (id, path_pk, at, kind, from_status, to_status, reason)
SELECT e.id, p.pk, e.at, e.kind, e.from_status, e.to_status, e.reason
FROM old_sdwan_path_events e JOIN sdwan_paths p ON p.id = e.path_id ORDER BY e.id;

-- Unchanged but for the rebuild: the site by its UUID, NULL for the sum
-- over all sites.
CREATE TABLE sdwan_policy_stats (
    stat_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_id       BIGINT NOT NULL REFERENCES sdwan_policies (policy_id) ON DELETE CASCADE,
    site_id         TEXT REFERENCES sdwan_sites (id) ON DELETE CASCADE,
    timestamp       BIGINT NOT NULL,
    packets_matched BIGINT NOT NULL,
    bytes_matched   BIGINT NOT NULL,
    active_flows    BIGINT NOT NULL,
    resolution      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sdwan_policy_stats (stat_id, policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows, resolution)
SELECT stat_id, policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows, resolution FROM old_sdwan_policy_stats ORDER BY stat_id;

-- Unchanged but for the rebuild.
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
INSERT INTO api_keys (id, prefix, secret_hash, name, user_id, site_id, role, created_at, last_used, revoked_at)
SELECT id, prefix, secret_hash, name, user_id, site_id, role, created_at, last_used, revoked_at FROM old_api_keys;

DELETE FROM sqlite_sequence WHERE name IN ('sdwan_path_metrics', 'sdwan_path_events', 'sdwan_policy_stats');
INSERT INTO sqlite_sequence (name, seq) SELECT substr(name, 5), seq FROM sqlite_sequence
WHERE name IN ('old_sdwan_path_metrics', 'old_sdwan_path_events', 'old_sdwan_policy_stats');

DROP TABLE old_sdwan_path_metrics;
DROP TABLE old_sdwan_path_events;
DROP TABLE old_sdwan_paths;
DROP TABLE old_sdwan_endpoints;
DROP TABLE old_sdwan_policy_stats;
DROP TABLE old_api_keys;
DROP TABLE old_sdwan_sites;

CREATE INDEX sdwan_sites_deleted_at ON sdwan_sites (deleted_at);
CREATE INDEX sdwan_paths_src_site ON sdwan_paths (src_site_pk);
CREATE INDEX sdwan_paths_dst_site ON sdwan_paths (dst_site_pk);
CREATE INDEX sdwan_paths_dst_endpoint ON sdwan_paths (dst_endpoint_pk);
CREATE INDEX sdwan_path_metrics_path_time ON sdwan_path_metrics (path_pk, measured_at);
CREATE INDEX sdwan_path_events_path_time ON sdwan_path_events (path_pk, at);
CREATE INDEX sdwan_policy_stats_policy_time ON sdwan_policy_stats (policy_id, timestamp);
CREATE INDEX sdwan_policy_stats_site_time ON sdwan_policy_stats (site_id, timestamp);
CREATE INDEX sdwan_policy_stats_time ON sdwan_policy_stats (timestamp);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE INDEX api_keys_site ON api_keys (site_id);
