-- Councils are tenants: every driver, renewal and evidence record belongs to one.
CREATE TABLE councils (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    contact_email TEXT NOT NULL DEFAULT ''
);

-- The ten district and borough councils of Hertfordshire are reference data, not demo data.
INSERT INTO councils (slug, name) VALUES
    ('broxbourne', 'Broxbourne Borough Council'),
    ('dacorum', 'Dacorum Borough Council'),
    ('east-hertfordshire', 'East Hertfordshire District Council'),
    ('hertsmere', 'Hertsmere Borough Council'),
    ('north-hertfordshire', 'North Hertfordshire District Council'),
    ('st-albans', 'St Albans City and District Council'),
    ('stevenage', 'Stevenage Borough Council'),
    ('three-rivers', 'Three Rivers District Council'),
    ('watford', 'Watford Borough Council'),
    ('welwyn-hatfield', 'Welwyn Hatfield Borough Council');

-- A council's register of licensed drivers. Licence numbers are issued by each council,
-- so they are unique within a council, not across the county.
CREATE TABLE drivers (
    id             INTEGER PRIMARY KEY,
    council_id     INTEGER NOT NULL REFERENCES councils(id),
    licence_number TEXT NOT NULL,
    given_names    TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    date_of_birth  TEXT NOT NULL,
    email          TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    postcode       TEXT NOT NULL DEFAULT '',
    licence_start  TEXT NOT NULL,
    licence_expiry TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (council_id, licence_number)
);
CREATE INDEX drivers_expiry ON drivers (council_id, licence_expiry);

-- Leaflet versions are data: the exact content shown and its SHA-256 are kept for evidence.
CREATE TABLE leaflets (
    id             INTEGER PRIMARY KEY,
    audience       TEXT NOT NULL CHECK (audience IN ('driver', 'public')),
    version        TEXT NOT NULL,
    title          TEXT NOT NULL,
    content        TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    quiz_json      TEXT NOT NULL DEFAULT '[]',
    requires_reack BOOLEAN NOT NULL,
    published_at   TIMESTAMP NOT NULL,
    published_by   TEXT NOT NULL DEFAULT '',
    UNIQUE (audience, version)
);

-- Evidence of issue and acknowledgement. Append-only: a mistake is corrected by a 'void' row
-- pointing at the wrong one, never by UPDATE or DELETE (the triggers below refuse both).
CREATE TABLE evidence (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('issue', 'acknowledgement', 'void')),
    driver_id      INTEGER NOT NULL REFERENCES drivers(id),
    council_id     INTEGER NOT NULL REFERENCES councils(id),
    leaflet_id     INTEGER NOT NULL REFERENCES leaflets(id),
    content_sha256 TEXT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('online', 'in_person', 'post', 'email')),
    occurred_at    TIMESTAMP NOT NULL,
    recorded_at    TIMESTAMP NOT NULL,
    actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('driver', 'staff')),
    actor_id       INTEGER NOT NULL,
    voids_id       INTEGER REFERENCES evidence(id),
    reason         TEXT NOT NULL DEFAULT '',
    CHECK ((kind = 'void') = (voids_id IS NOT NULL))
);
CREATE INDEX evidence_driver ON evidence (driver_id, leaflet_id);
CREATE INDEX evidence_council_time ON evidence (council_id, occurred_at);
CREATE UNIQUE INDEX evidence_one_void ON evidence (voids_id) WHERE voids_id IS NOT NULL;

CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;

-- A renewal starts as a draft the driver fills in, and is submitted once.
CREATE TABLE renewals (
    id              INTEGER PRIMARY KEY,
    reference       TEXT UNIQUE,
    driver_id       INTEGER NOT NULL REFERENCES drivers(id),
    council_id      INTEGER NOT NULL REFERENCES councils(id),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'in_review', 'more_info', 'approved', 'refused', 'withdrawn')),
    answers_json    TEXT NOT NULL DEFAULT '{}',
    ack_evidence_id INTEGER REFERENCES evidence(id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    submitted_at    TIMESTAMP
);
-- At most one renewal in progress per driver: a double submit or a second tab cannot make two.
CREATE UNIQUE INDEX renewals_one_open ON renewals (driver_id)
    WHERE status IN ('draft', 'submitted', 'in_review', 'more_info');
CREATE INDEX renewals_council_status ON renewals (council_id, status);

-- One-time sign-in codes for drivers, stored as keyed hashes only.
CREATE TABLE sign_in_codes (
    id          INTEGER PRIMARY KEY,
    driver_id   INTEGER NOT NULL REFERENCES drivers(id),
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX sign_in_codes_driver ON sign_in_codes (driver_id, created_at);

-- Server-side sessions; only a hash of the cookie value is stored.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('pending_driver', 'driver', 'staff')),
    subject_id   INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);

-- Fixed-window rate limit counters, kept in the database so several instances share them.
CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (bucket, key_hash, window_start)
);

-- Email is written to the outbox in the same transaction as the change that causes it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    to_address  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent ON outbox (sent_at, id);
