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
-- PostgreSQL adds the columns in place, fills them from the text keys,
-- then drops the text keys with the constraints and indexes over them.

-- +goose Up
ALTER TABLE sdwan_sites ADD COLUMN pk BIGSERIAL;
ALTER TABLE sdwan_endpoints ADD COLUMN pk BIGSERIAL;
ALTER TABLE sdwan_paths ADD COLUMN pk BIGSERIAL;

ALTER TABLE sdwan_endpoints ADD COLUMN site_pk BIGINT;
UPDATE sdwan_endpoints e SET site_pk = s.pk FROM sdwan_sites s WHERE s.id = e.site_id;

ALTER TABLE sdwan_paths ADD COLUMN src_site_pk BIGINT, ADD COLUMN src_endpoint_pk BIGINT,
    ADD COLUMN dst_site_pk BIGINT, ADD COLUMN dst_endpoint_pk BIGINT;
UPDATE sdwan_paths p SET src_site_pk = ss.pk, src_endpoint_pk = se.pk, dst_site_pk = ds.pk, dst_endpoint_pk = de.pk
FROM sdwan_sites ss, sdwan_endpoints se, sdwan_sites ds, sdwan_endpoints de
WHERE ss.id = p.src_site_id AND se.id = p.src_endpoint_id AND ds.id = p.dst_site_id AND de.id = p.dst_endpoint_id;

ALTER TABLE sdwan_path_metrics ADD COLUMN path_pk BIGINT;
UPDATE sdwan_path_metrics m SET path_pk = p.pk FROM sdwan_paths p WHERE p.id = m.path_id;

ALTER TABLE sdwan_path_events ADD COLUMN path_pk BIGINT;
UPDATE sdwan_path_events e SET path_pk = p.pk FROM sdwan_paths p WHERE p.id = e.path_id;

ALTER TABLE sdwan_path_metrics DROP COLUMN path_id;
ALTER TABLE sdwan_path_events DROP COLUMN path_id;
ALTER TABLE sdwan_paths DROP COLUMN src_site_id, DROP COLUMN src_endpoint_id, DROP COLUMN dst_site_id, DROP COLUMN dst_endpoint_id;
ALTER TABLE sdwan_endpoints DROP COLUMN site_id;
ALTER TABLE sdwan_policy_stats DROP CONSTRAINT sdwan_policy_stats_site_id_fkey;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_site_id_fkey;

ALTER TABLE sdwan_sites DROP CONSTRAINT sdwan_sites_pkey;
ALTER TABLE sdwan_sites ADD PRIMARY KEY (pk), ADD UNIQUE (id);

ALTER TABLE sdwan_endpoints DROP CONSTRAINT sdwan_endpoints_pkey;
ALTER TABLE sdwan_endpoints ADD PRIMARY KEY (pk), ADD UNIQUE (id),
    ALTER COLUMN site_pk SET NOT NULL,
    ADD FOREIGN KEY (site_pk) REFERENCES sdwan_sites (pk) ON DELETE CASCADE,
    ADD UNIQUE (site_pk, name);

ALTER TABLE sdwan_paths DROP CONSTRAINT sdwan_paths_pkey;
ALTER TABLE sdwan_paths ADD PRIMARY KEY (pk), ADD UNIQUE (id),
    ALTER COLUMN src_site_pk SET NOT NULL, ALTER COLUMN src_endpoint_pk SET NOT NULL,
    ALTER COLUMN dst_site_pk SET NOT NULL, ALTER COLUMN dst_endpoint_pk SET NOT NULL,
    ADD FOREIGN KEY (src_site_pk) REFERENCES sdwan_sites (pk) ON DELETE CASCADE,
    ADD FOREIGN KEY (src_endpoint_pk) REFERENCES sdwan_endpoints (pk) ON DELETE CASCADE,
    ADD FOREIGN KEY (dst_site_pk) REFERENCES sdwan_sites (pk) ON DELETE CASCADE,
    ADD FOREIGN KEY (dst_endpoint_pk) REFERENCES sdwan_endpoints (pk) ON DELETE CASCADE,
    ADD UNIQUE (src_endpoint_pk, dst_endpoint_pk);

ALTER TABLE sdwan_path_metrics ALTER COLUMN path_pk SET NOT NULL,
    ADD FOREIGN KEY (path_pk) REFERENCES sdwan_paths (pk) ON DELETE CASCADE;
ALTER TABLE sdwan_path_events ALTER COLUMN path_pk SET NOT NULL,
    ADD FOREIGN KEY (path_pk) REFERENCES sdwan_paths (pk) ON DELETE CASCADE;
ALTER TABLE sdwan_policy_stats ADD FOREIGN KEY (site_id) REFERENCES sdwan_sites (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD FOREIGN KEY (site_id) REFERENCES sdwan_sites (id) ON DELETE CASCADE;

CREATE INDEX sdwan_paths_src_site ON sdwan_paths (src_site_pk);
CREATE INDEX sdwan_paths_dst_site ON sdwan_paths (dst_site_pk);
CREATE INDEX sdwan_paths_dst_endpoint ON sdwan_paths (dst_endpoint_pk);
CREATE INDEX sdwan_path_metrics_path_time ON sdwan_path_metrics (path_pk, measured_at);
CREATE INDEX sdwan_path_events_path_time ON sdwan_path_events (path_pk, at);
