-- Licence and status history that follows the register's latest word (issue 11).
--
-- Licence dates: licence_periods (0004) already keeps every set of dates a driver's row was
-- given, in the order recorded (its id). From this migration on, reports read it as the
-- register's latest word: each record speaks for every day from its licence_start on (active to
-- its licence_expiry, not active after it), and on any day the latest record speaking for that
-- day wins. So a correction replaces what it covers, shortened as well as extended. Nothing in
-- the table changes; only how it is read. What could not be recovered: dates a driver's row had
-- before migration 0004 (only the dates held then were recorded).
--
-- Status: until now only the current status was kept, and it stood for every past day. From now
-- on every status is dated (drivers.status_from: the status_date of the register file, or the
-- day the status was recorded) and each change is appended to licence_statuses by the triggers
-- below, so every writer (register import, approval, bulk loaders) records it. On a day D a
-- driver's status is that of the latest recorded status whose effective_from is on or before D;
-- before any, the driver counts as active.
--
-- What could not be recovered: past statuses before this migration are unknown. A driver who is
-- suspended or revoked now is taken as suspended or revoked from the start of their current
-- licence (drivers.licence_start): the day their status was actually recorded is nowhere in the
-- database (drivers.updated_at moves on any change to the row). Their earlier licences, which
-- earlier reports counted as not active, now count as active. A suspension that was lifted
-- before this migration left no trace and cannot be shown.
-- status_from: 'YYYY-MM-DD', NULL for a driver active since their licence began.
ALTER TABLE drivers ADD COLUMN status_from TEXT;
UPDATE drivers SET status_from = licence_start WHERE status <> 'active';

CREATE TABLE licence_statuses (
    id             INTEGER PRIMARY KEY,
    driver_id      INTEGER NOT NULL REFERENCES drivers(id),
    council_id     INTEGER NOT NULL REFERENCES councils(id),
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    effective_from TEXT NOT NULL, -- 'YYYY-MM-DD', a London day
    recorded_at    TIMESTAMP NOT NULL
);
CREATE INDEX licence_statuses_driver ON licence_statuses (driver_id);

INSERT INTO licence_statuses (driver_id, council_id, status, effective_from, recorded_at)
    SELECT id, council_id, status, status_from, updated_at FROM drivers WHERE status <> 'active' ORDER BY id;

CREATE TRIGGER licence_statuses_no_update BEFORE UPDATE ON licence_statuses
BEGIN
    SELECT RAISE(ABORT, 'status history is append-only');
END;
CREATE TRIGGER licence_statuses_no_delete BEFORE DELETE ON licence_statuses
BEGIN
    SELECT RAISE(ABORT, 'status history is append-only');
END;
-- A new driver's status is history when it is not active, or when it is dated.
CREATE TRIGGER drivers_status_history_insert AFTER INSERT ON drivers
WHEN NEW.status <> 'active' OR NEW.status_from IS NOT NULL
BEGIN
    INSERT INTO licence_statuses (driver_id, council_id, status, effective_from, recorded_at)
    VALUES (NEW.id, NEW.council_id, NEW.status, NEW.status_from, NEW.updated_at);
END;
CREATE TRIGGER drivers_status_history_update AFTER UPDATE OF status, status_from ON drivers
WHEN NEW.status IS NOT OLD.status OR NEW.status_from IS NOT OLD.status_from
BEGIN
    INSERT INTO licence_statuses (driver_id, council_id, status, effective_from, recorded_at)
    VALUES (NEW.id, NEW.council_id, NEW.status, NEW.status_from, NEW.updated_at);
END;
CREATE TRIGGER report_version_status AFTER INSERT ON licence_statuses
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;

-- Refresher interval (DESIGN §4): an acknowledgement counts for drivers_aware only when dated
-- within this many years before the period's end. 0: no refresher interval (the default).
ALTER TABLE councils ADD COLUMN refresher_years INTEGER NOT NULL DEFAULT 0 CHECK (refresher_years BETWEEN 0 AND 20);
CREATE TRIGGER report_version_refresher AFTER UPDATE OF refresher_years ON councils
WHEN NEW.refresher_years IS NOT OLD.refresher_years
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;

-- drivers_ever_aware: licensed drivers holding any non-voided acknowledgement of any version.
ALTER TABLE coverage_stock ADD COLUMN ever_aware INTEGER NOT NULL DEFAULT 0;

-- The summaries were built by the old rules: the next report rebuilds them.
UPDATE report_data_version SET version = version + 1 WHERE id = 1;
