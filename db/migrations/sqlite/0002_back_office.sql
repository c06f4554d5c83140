-- Staff accounts: officers (one council), analysts (all councils, read only) and admins.
CREATE TABLE staff_users (
    id                INTEGER PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,             -- lower-cased
    name              TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('officer', 'analyst', 'admin')),
    council_id        INTEGER REFERENCES councils(id),
    password_hash     TEXT NOT NULL,                    -- argon2id, PHC string
    totp_secret_enc   TEXT NOT NULL DEFAULT '',         -- AES-GCM under the server key; '' until set up
    totp_confirmed_at TIMESTAMP,
    failed_attempts   INTEGER NOT NULL DEFAULT 0,
    locked_until      TIMESTAMP,
    disabled_at       TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    CHECK ((role = 'officer') = (council_id IS NOT NULL))
);

-- One-use recovery codes for the second factor, stored hashed.
CREATE TABLE staff_recovery_codes (
    id        INTEGER PRIMARY KEY,
    staff_id  INTEGER NOT NULL REFERENCES staff_users(id),
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMP
);
CREATE INDEX staff_recovery_codes_staff ON staff_recovery_codes (staff_id);

-- Sessions gain two kinds for staff: after the password (second factor still to come) and
-- signed in. Sessions are short-lived, so the table is simply made again.
DROP TABLE sessions;
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('pending_driver', 'driver', 'pending_staff', 'staff')),
    subject_id   INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);

-- Every staff action, appended with the hash of the entry before it, so a changed or removed
-- row breaks the chain (renewals audit verify). No UPDATE or DELETE.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             TIMESTAMP NOT NULL,
    actor_staff_id INTEGER,                 -- NULL for the system or a failed sign-in to no account
    actor_label    TEXT NOT NULL,           -- e.g. the email typed, or "cli:root"
    ip             TEXT NOT NULL DEFAULT '',
    action         TEXT NOT NULL,
    council_id     INTEGER,
    target         TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '{}',
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE INDEX audit_log_actor ON audit_log (actor_staff_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- Renewals: how they arrived, and the decision.
ALTER TABLE renewals ADD COLUMN channel TEXT NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'paper'));
ALTER TABLE renewals ADD COLUMN decided_at TIMESTAMP;
ALTER TABLE renewals ADD COLUMN decided_by INTEGER REFERENCES staff_users(id);
ALTER TABLE renewals ADD COLUMN decision_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE renewals ADD COLUMN nr3s_recorded_on TEXT NOT NULL DEFAULT '';
ALTER TABLE renewals ADD COLUMN new_expiry TEXT NOT NULL DEFAULT '';

-- Statutory checks an officer records before deciding. The latest of each type counts.
CREATE TABLE renewal_checks (
    id          INTEGER PRIMARY KEY,
    renewal_id  INTEGER NOT NULL REFERENCES renewals(id),
    check_type  TEXT NOT NULL CHECK (check_type IN ('dbs', 'dvla', 'nr3s', 'medical', 'right_to_work', 'hmrc')),
    checked_on  TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('satisfactory', 'unsatisfactory')),
    notes       TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER NOT NULL REFERENCES staff_users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX renewal_checks_renewal ON renewal_checks (renewal_id, check_type, id);

-- The case history the officer and the driver see: status changes, messages, replies.
CREATE TABLE renewal_events (
    id         INTEGER PRIMARY KEY,
    renewal_id INTEGER NOT NULL REFERENCES renewals(id),
    at         TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('driver', 'staff', 'system')),
    actor_id   INTEGER NOT NULL DEFAULT 0,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX renewal_events_renewal ON renewal_events (renewal_id, id);

-- Reminder emails: at most one per driver, per licence expiry, per stage (60, 30, 14 days).
CREATE TABLE reminders (
    id             INTEGER PRIMARY KEY,
    driver_id      INTEGER NOT NULL REFERENCES drivers(id),
    licence_expiry TEXT NOT NULL,
    stage          INTEGER NOT NULL CHECK (stage IN (60, 30, 14)),
    sent_at        TIMESTAMP NOT NULL,
    UNIQUE (driver_id, licence_expiry, stage)
);

-- Register uploads held between preview and confirmation, and the record of each import.
CREATE TABLE register_imports (
    id          INTEGER PRIMARY KEY,
    council_id  INTEGER NOT NULL REFERENCES councils(id),
    staff_id    INTEGER REFERENCES staff_users(id),
    file_sha256 TEXT NOT NULL,
    content     BLOB NOT NULL,
    row_count   INTEGER NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL,
    applied_at  TIMESTAMP
);
