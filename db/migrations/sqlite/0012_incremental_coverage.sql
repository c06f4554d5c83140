-- Incremental coverage summaries (issue 11, item 4). (The notes are written with NOT EXISTS
-- rather than INSERT OR IGNORE: an outer statement's conflict clause would override the trigger's.)
--
-- Until now the first report after any write rebuilt every summary from the raw tables. From
-- this migration on, every write transaction of the store counts what it wrote before it
-- commits: the triggers below note, in the writing transaction, which drivers, evidence records
-- and renewals it touched, and the store (internal/store/coverage_incremental.go) takes those
-- notes, recomputes the drivers' contributions by the rules of domain/coverage.go, appends the
-- differences to the delta tables below and clears the notes. Reports add the deltas to the
-- summaries; folds move them in.

-- Each driver's contribution to coverage_stock: the days their state changes and by how much
-- (+1/-1/0 per figure), in the council they were in. Updating a driver takes these away from
-- coverage_stock and adds their new ones.
CREATE TABLE coverage_driver_changes (
    driver_id   INTEGER NOT NULL,
    day         TEXT NOT NULL,
    council_id  INTEGER NOT NULL,
    licensed    INTEGER NOT NULL,
    aware       INTEGER NOT NULL,
    outstanding INTEGER NOT NULL,
    ever_aware  INTEGER NOT NULL,
    PRIMARY KEY (driver_id, day)
) WITHOUT ROWID;

-- Drivers whose contribution must be recomputed.
CREATE TABLE coverage_dirty_drivers (
    driver_id INTEGER PRIMARY KEY
);

-- Evidence records (issues, acknowledgements, voids) not yet counted in coverage_evidence.
CREATE TABLE coverage_pending_evidence (
    evidence_id INTEGER PRIMARY KEY
);

-- Renewal changes not yet counted in coverage_renewals: the old values (sign -1) and the new
-- (sign +1) of each change.
CREATE TABLE coverage_pending_renewals (
    id           INTEGER PRIMARY KEY,
    sign         INTEGER NOT NULL CHECK (sign IN (-1, 1)),
    council_id   INTEGER NOT NULL,
    status       TEXT NOT NULL,
    submitted_at TIMESTAMP,
    decided_at   TIMESTAMP
);

-- A write whose effect reaches every driver (a driver leaflet version requiring
-- re-acknowledgement changes which versions are in force) asks for a full rebuild instead.
CREATE TABLE coverage_rebuild_needed (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    reason TEXT NOT NULL
);

CREATE TRIGGER coverage_note_evidence AFTER INSERT ON evidence
BEGIN
    INSERT INTO coverage_pending_evidence (evidence_id) VALUES (NEW.id);
    INSERT INTO coverage_dirty_drivers (driver_id)
        SELECT NEW.driver_id WHERE NOT EXISTS (SELECT 1 FROM coverage_dirty_drivers WHERE driver_id = NEW.driver_id);
END;
CREATE TRIGGER coverage_note_licence AFTER INSERT ON licence_periods
BEGIN
    INSERT INTO coverage_dirty_drivers (driver_id)
        SELECT NEW.driver_id WHERE NOT EXISTS (SELECT 1 FROM coverage_dirty_drivers WHERE driver_id = NEW.driver_id);
END;
CREATE TRIGGER coverage_note_status AFTER INSERT ON licence_statuses
BEGIN
    INSERT INTO coverage_dirty_drivers (driver_id)
        SELECT NEW.driver_id WHERE NOT EXISTS (SELECT 1 FROM coverage_dirty_drivers WHERE driver_id = NEW.driver_id);
END;
CREATE TRIGGER coverage_note_driver_insert AFTER INSERT ON drivers
BEGIN
    INSERT INTO coverage_dirty_drivers (driver_id)
        SELECT NEW.id WHERE NOT EXISTS (SELECT 1 FROM coverage_dirty_drivers WHERE driver_id = NEW.id);
END;
CREATE TRIGGER coverage_note_driver_update AFTER UPDATE OF council_id, status ON drivers
WHEN NEW.council_id IS NOT OLD.council_id OR NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO coverage_dirty_drivers (driver_id)
        SELECT NEW.id WHERE NOT EXISTS (SELECT 1 FROM coverage_dirty_drivers WHERE driver_id = NEW.id);
END;
CREATE TRIGGER coverage_note_renewal_insert AFTER INSERT ON renewals
WHEN NEW.submitted_at IS NOT NULL OR NEW.decided_at IS NOT NULL
BEGIN
    INSERT INTO coverage_pending_renewals (sign, council_id, status, submitted_at, decided_at)
    VALUES (1, NEW.council_id, NEW.status, NEW.submitted_at, NEW.decided_at);
END;
CREATE TRIGGER coverage_note_renewal_update AFTER UPDATE OF status, submitted_at, decided_at, council_id ON renewals
WHEN NEW.status IS NOT OLD.status OR NEW.submitted_at IS NOT OLD.submitted_at
  OR NEW.decided_at IS NOT OLD.decided_at OR NEW.council_id IS NOT OLD.council_id
BEGIN
    INSERT INTO coverage_pending_renewals (sign, council_id, status, submitted_at, decided_at)
    VALUES (-1, OLD.council_id, OLD.status, OLD.submitted_at, OLD.decided_at);
    INSERT INTO coverage_pending_renewals (sign, council_id, status, submitted_at, decided_at)
    VALUES (1, NEW.council_id, NEW.status, NEW.submitted_at, NEW.decided_at);
END;
-- A version without re-acknowledgement changes nothing already counted (no driver holds a record
-- of it yet, and it ends no earlier version); one with re-acknowledgement ends earlier versions.
CREATE TRIGGER coverage_note_leaflet AFTER INSERT ON leaflets
WHEN NEW.audience = 'driver' AND NEW.requires_reack
BEGIN
    INSERT INTO coverage_rebuild_needed (id, reason)
        SELECT 1, 'a driver leaflet version requiring re-acknowledgement' WHERE NOT EXISTS (SELECT 1 FROM coverage_rebuild_needed);
END;
CREATE TRIGGER coverage_note_refresher AFTER UPDATE OF refresher_years ON councils
WHEN NEW.refresher_years IS NOT OLD.refresher_years
BEGIN
    INSERT INTO coverage_dirty_drivers (driver_id)
        SELECT id FROM drivers WHERE council_id = NEW.id AND id NOT IN (SELECT driver_id FROM coverage_dirty_drivers);
END;

-- Deltas (appended, never updated). A writing transaction does not update the summary rows
-- above, which every writer of a council on a day shares (on PostgreSQL each writer would hold
-- their locks until it commits, and writers of a council would run one at a time): it appends
-- what it changes, per day, to these tables. A report sums the summaries and the deltas in the
-- same snapshot; a fold (store.FoldCoverageDeltas: from a goroutine of "serve", and from a report
-- finding many) deletes deltas and adds them to the summaries in one short transaction.
CREATE TABLE coverage_stock_delta (
    id          INTEGER PRIMARY KEY,
    day         TEXT NOT NULL,
    council_id  INTEGER NOT NULL,
    licensed    INTEGER NOT NULL,
    aware       INTEGER NOT NULL,
    outstanding INTEGER NOT NULL,
    ever_aware  INTEGER NOT NULL
);
CREATE INDEX coverage_stock_delta_day ON coverage_stock_delta (day);
CREATE TABLE coverage_evidence_delta (
    id         INTEGER PRIMARY KEY,
    day        TEXT NOT NULL,
    council_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    leaflet_id INTEGER NOT NULL,
    n          INTEGER NOT NULL
);
CREATE INDEX coverage_evidence_delta_day ON coverage_evidence_delta (day);
CREATE TABLE coverage_renewals_delta (
    id         INTEGER PRIMARY KEY,
    day        TEXT NOT NULL,
    council_id INTEGER NOT NULL,
    submitted  INTEGER NOT NULL,
    approved   INTEGER NOT NULL,
    refused    INTEGER NOT NULL
);
CREATE INDEX coverage_renewals_delta_day ON coverage_renewals_delta (day);

-- The report data version (0004, 0011) told a report that the summaries were stale. They are
-- now never stale, and the counter was one row every write updated: on PostgreSQL writers
-- waited for each other on it until they committed. It goes, with its triggers.
DROP TRIGGER report_version_evidence;
DROP TRIGGER report_version_licence;
DROP TRIGGER report_version_driver_insert;
DROP TRIGGER report_version_driver_update;
DROP TRIGGER report_version_renewal_insert;
DROP TRIGGER report_version_renewal_update;
DROP TRIGGER report_version_leaflet;
DROP TRIGGER report_version_council;
DROP TRIGGER report_version_status;
DROP TRIGGER report_version_refresher;
DROP TABLE report_data_version;
ALTER TABLE coverage_summary_state DROP COLUMN data_version;

-- The summaries so far have no per-driver contributions: they count as never built, and the
-- next report (or "renewals coverage rebuild") builds them.
DELETE FROM coverage_summary_state;
