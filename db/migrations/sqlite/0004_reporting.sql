-- Reporting (issue 4): licence history, and the summaries that make coverage reports fast.

-- Licence history. drivers.licence_start/licence_expiry are overwritten in place on renewal and
-- on a register import, so "was this driver licensed on day D?" needs its own record: one row
-- each time a driver's licence dates are set (on insert, and on every change). Append-only like
-- evidence. The triggers below write it, so every writer (register import, approval, bulk
-- loaders) records history without having to remember to.
CREATE TABLE licence_periods (
    id             INTEGER PRIMARY KEY,
    driver_id      INTEGER NOT NULL REFERENCES drivers(id),
    council_id     INTEGER NOT NULL REFERENCES councils(id),
    licence_start  TEXT NOT NULL,
    licence_expiry TEXT NOT NULL,
    recorded_at    TIMESTAMP NOT NULL
);
CREATE INDEX licence_periods_driver ON licence_periods (driver_id);

INSERT INTO licence_periods (driver_id, council_id, licence_start, licence_expiry, recorded_at)
    SELECT id, council_id, licence_start, licence_expiry, updated_at FROM drivers ORDER BY id;

CREATE TRIGGER licence_periods_no_update BEFORE UPDATE ON licence_periods
BEGIN
    SELECT RAISE(ABORT, 'licence history is append-only');
END;
CREATE TRIGGER licence_periods_no_delete BEFORE DELETE ON licence_periods
BEGIN
    SELECT RAISE(ABORT, 'licence history is append-only');
END;
CREATE TRIGGER drivers_licence_history_insert AFTER INSERT ON drivers
BEGIN
    INSERT INTO licence_periods (driver_id, council_id, licence_start, licence_expiry, recorded_at)
    VALUES (NEW.id, NEW.council_id, NEW.licence_start, NEW.licence_expiry, NEW.updated_at);
END;
CREATE TRIGGER drivers_licence_history_update AFTER UPDATE OF licence_start, licence_expiry ON drivers
WHEN NEW.licence_start IS NOT OLD.licence_start OR NEW.licence_expiry IS NOT OLD.licence_expiry
BEGIN
    INSERT INTO licence_periods (driver_id, council_id, licence_start, licence_expiry, recorded_at)
    VALUES (NEW.id, NEW.council_id, NEW.licence_start, NEW.licence_expiry, NEW.updated_at);
END;

-- A counter moved by every write a coverage report depends on. The summaries below remember the
-- counter they were built at; a report finding it moved rebuilds them first, in the same
-- transaction, so a report is never stale.
CREATE TABLE report_data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO report_data_version (id, version) VALUES (1, 1);

CREATE TRIGGER report_version_evidence AFTER INSERT ON evidence
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER report_version_licence AFTER INSERT ON licence_periods
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER report_version_driver_insert AFTER INSERT ON drivers
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER report_version_driver_update AFTER UPDATE OF council_id, status ON drivers
WHEN NEW.council_id IS NOT OLD.council_id OR NEW.status IS NOT OLD.status
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
-- (A draft, inserted with neither date, counts in no report until it is sent.)
CREATE TRIGGER report_version_renewal_insert AFTER INSERT ON renewals
WHEN NEW.submitted_at IS NOT NULL OR NEW.decided_at IS NOT NULL
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER report_version_renewal_update AFTER UPDATE OF status, submitted_at, decided_at, council_id ON renewals
WHEN NEW.status IS NOT OLD.status OR NEW.submitted_at IS NOT OLD.submitted_at
  OR NEW.decided_at IS NOT OLD.decided_at OR NEW.council_id IS NOT OLD.council_id
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER report_version_leaflet AFTER INSERT ON leaflets
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER report_version_council AFTER INSERT ON councils
BEGIN
    UPDATE report_data_version SET version = version + 1 WHERE id = 1;
END;

-- Summaries, derived entirely from the tables above and rebuilt from them (never edited by hand).
-- Days are Europe/London dates as 'YYYY-MM-DD'. Every figure is kept at two grains: 'd' (per
-- day) and 'm' (per calendar month, on the month's first day), so a range is summed from whole
-- months plus the odd days at either end: a few thousand rows for a 36-month report.
CREATE TABLE coverage_summary_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    data_version INTEGER NOT NULL,
    built_at     TIMESTAMP NOT NULL
);

-- Per council: how the number of licensed, aware and outstanding drivers changes at the start of
-- a day (or over a month). The level on day D is the sum of the changes up to D.
CREATE TABLE coverage_stock (
    grain       TEXT NOT NULL CHECK (grain IN ('d', 'm')),
    council_id  INTEGER NOT NULL,
    day         TEXT NOT NULL,
    licensed    INTEGER NOT NULL,
    aware       INTEGER NOT NULL,
    outstanding INTEGER NOT NULL,
    PRIMARY KEY (grain, day, council_id)
) WITHOUT ROWID;

-- Non-voided issue and acknowledgement records, by council, kind, channel and leaflet version.
CREATE TABLE coverage_evidence (
    grain      TEXT NOT NULL CHECK (grain IN ('d', 'm')),
    day        TEXT NOT NULL,
    council_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    leaflet_id INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (grain, day, council_id, kind, channel, leaflet_id)
) WITHOUT ROWID;

-- Renewals submitted, approved and refused, by council.
CREATE TABLE coverage_renewals (
    grain      TEXT NOT NULL CHECK (grain IN ('d', 'm')),
    day        TEXT NOT NULL,
    council_id INTEGER NOT NULL,
    submitted  INTEGER NOT NULL,
    approved   INTEGER NOT NULL,
    refused    INTEGER NOT NULL,
    PRIMARY KEY (grain, day, council_id)
) WITHOUT ROWID;
