-- +goose Up
-- Every edge traffic report a controller replica accepted. Each replica
-- applies each logged report once (an edge's reports in sequence order),
-- so all replicas, and a restarted one, keep the same live totals. The
-- statistics job folds them into sdwan_traffic_state and prunes them.
CREATE TABLE sdwan_traffic_reports (
    report_id   BIGSERIAL PRIMARY KEY,
    edge        TEXT NOT NULL,
    epoch       BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    body        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (edge, epoch, seq)
);
CREATE INDEX sdwan_traffic_reports_received_at ON sdwan_traffic_reports (received_at);

-- The live totals and each edge's last applied report, as of the reports
-- folded into it: a replica starts from it and applies the logged reports
-- past each edge's mark.
CREATE TABLE sdwan_traffic_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE sdwan_traffic_state;
DROP TABLE sdwan_traffic_reports;
