-- Rows as a database at migration 00001 holds them, written through the
-- 00001 schema in SQL both engines accept; TestMigrateUpKeepsData loads
-- this and migrates to the latest version. Site b is soft-deleted. The
-- third path event is deleted again, so the events' counter stands past
-- the highest id left.
INSERT INTO users (id, name, role, password_hash, active, token_epoch, created_at, updated_at)
VALUES ('0190a000-0000-7000-8000-0000000000u1', 'alice', 'admin', 'hash', TRUE, 0, 1700000000000, 1700000000000);

INSERT INTO sdwan_sites (id, name, description, status, public_key, prefixes, created_at, updated_at, deleted_at) VALUES
('0190a000-0000-7000-8000-0000000000a0', 'a', 'first', 'active', 'pk-a', '10.1.0.0/16,10.2.0.0/16', 1700000000000, 1700000001000, NULL),
('0190a000-0000-7000-8000-0000000000b0', 'b', '', 'inactive', '', '', 1700000000000, 1700000002000, 1700000003000),
('0190a000-0000-7000-8000-0000000000c0', 'c', '', 'active', '', '10.3.0.0/16', 1700000000000, 1700000000000, NULL);

INSERT INTO sdwan_endpoints (id, site_id, name, address, interface, kind, cost_per_gb, bandwidth_mbps, reachable, created_at, updated_at) VALUES
('0190a000-0000-7000-8000-0000000000a1', '0190a000-0000-7000-8000-0000000000a0', 'wan1', '192.0.2.1:51820', 'eth0', 'fibre', 0.5, 1000, TRUE, 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-0000000000a2', '0190a000-0000-7000-8000-0000000000a0', 'wan2', '192.0.2.2:51820', 'eth1', 'lte', 8, 50, FALSE, 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-0000000000b1', '0190a000-0000-7000-8000-0000000000b0', 'wan1', '198.51.100.1:51820', '', 'fibre', 0, 0, TRUE, 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-0000000000c1', '0190a000-0000-7000-8000-0000000000c0', 'wan1', '203.0.113.1:51820', '', 'fibre', 0, 0, TRUE, 1700000000000, 1700000000000);

INSERT INTO sdwan_paths (id, src_site_id, src_endpoint_id, dst_site_id, dst_endpoint_id, status, created_at, updated_at) VALUES
('0190a000-0000-7000-8000-000000000ab1', '0190a000-0000-7000-8000-0000000000a0', '0190a000-0000-7000-8000-0000000000a1', '0190a000-0000-7000-8000-0000000000b0', '0190a000-0000-7000-8000-0000000000b1', 'up', 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-000000000ab2', '0190a000-0000-7000-8000-0000000000a0', '0190a000-0000-7000-8000-0000000000a2', '0190a000-0000-7000-8000-0000000000b0', '0190a000-0000-7000-8000-0000000000b1', 'degraded', 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-000000000ba1', '0190a000-0000-7000-8000-0000000000b0', '0190a000-0000-7000-8000-0000000000b1', '0190a000-0000-7000-8000-0000000000a0', '0190a000-0000-7000-8000-0000000000a1', 'down', 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-000000000ac1', '0190a000-0000-7000-8000-0000000000a0', '0190a000-0000-7000-8000-0000000000a1', '0190a000-0000-7000-8000-0000000000c0', '0190a000-0000-7000-8000-0000000000c1', 'up', 1700000000000, 1700000000000),
('0190a000-0000-7000-8000-000000000cb1', '0190a000-0000-7000-8000-0000000000c0', '0190a000-0000-7000-8000-0000000000c1', '0190a000-0000-7000-8000-0000000000b0', '0190a000-0000-7000-8000-0000000000b1', 'up', 1700000000000, 1700000000000);

INSERT INTO sdwan_path_metrics (path_id, measured_at, latency_ms, jitter_ms, packet_loss_pct, bandwidth_mbps, mtu, score) VALUES
('0190a000-0000-7000-8000-000000000ab1', 1700000010000, 12.5, 1.5, 0, 940, 1420, 97),
('0190a000-0000-7000-8000-000000000ab1', 1700000020000, 14, 2, 0.5, 930, 1420, 95),
('0190a000-0000-7000-8000-000000000ba1', 1700000010000, 80, 9, 4, 20, 1380, 40),
('0190a000-0000-7000-8000-000000000cb1', 1700000010000, 30, 3, 0, 500, 1420, 90);

INSERT INTO sdwan_path_events (path_id, at, kind, from_status, to_status, reason) VALUES
('0190a000-0000-7000-8000-000000000ab1', 1700000010000, 'state', 'down', 'up', 'probes answered'),
('0190a000-0000-7000-8000-000000000ab2', 1700000010000, 'failover', 'up', 'degraded', 'loss above 2%'),
('0190a000-0000-7000-8000-000000000ab2', 1700000020000, 'health_check', '', '', 'gone again');
DELETE FROM sdwan_path_events WHERE reason = 'gone again';

INSERT INTO sdwan_policies (name, description, priority, enabled, action, created_at, updated_at)
VALUES ('voice', '', 10, TRUE, 'steer', 1700000000000, 1700000000000);
INSERT INTO sdwan_policy_stats (policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows, resolution) VALUES
((SELECT policy_id FROM sdwan_policies WHERE name = 'voice'), '0190a000-0000-7000-8000-0000000000a0', 1700000000000, 10, 1000, 2, 0),
((SELECT policy_id FROM sdwan_policies WHERE name = 'voice'), NULL, 1700000000000, 30, 3000, 5, 0);

INSERT INTO api_keys (id, prefix, secret_hash, name, user_id, site_id, role, created_at, last_used, revoked_at) VALUES
('0190a000-0000-7000-8000-0000000000k1', 'site-a', 'h1', 'edge', NULL, '0190a000-0000-7000-8000-0000000000a0', 'edge', 1700000000000, NULL, NULL),
('0190a000-0000-7000-8000-0000000000k2', 'alice1', 'h2', 'cli', '0190a000-0000-7000-8000-0000000000u1', NULL, 'admin', 1700000000000, 1700000005000, NULL);

INSERT INTO audit_log (at, actor, action, target_type, target_id, summary, severity)
VALUES (1700000000000, 'alice', 'site.create', 'site', '0190a000-0000-7000-8000-0000000000a0', 'created site a', 'info');
