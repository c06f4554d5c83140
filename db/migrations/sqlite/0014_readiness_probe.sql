-- One row that /readyz writes to prove the database takes writes (issue 13): an UPDATE that is
-- committed, so a read-only file, a full disk or size limit, or a lost server shows there first.
-- Nothing reads it. pad holds a few pages' worth of bytes on each probe, so the write needs room.
CREATE TABLE readiness_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TIMESTAMP NOT NULL,
    pad        BLOB
);
INSERT INTO readiness_probe (id, checked_at) VALUES (1, CURRENT_TIMESTAMP);
