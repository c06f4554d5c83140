-- One row that /readyz writes to prove the database takes writes (issue 13): an UPDATE that is
-- committed, so a read-only server (a standby, default_transaction_read_only), a full disk or a
-- lost server shows there first. Nothing reads it.
CREATE TABLE readiness_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TIMESTAMPTZ NOT NULL,
    pad        BYTEA
);
INSERT INTO readiness_probe (id, checked_at) VALUES (1, CURRENT_TIMESTAMP);
