-- A counter moved by every change to the reference data the service keeps in memory: councils
-- (their names, contacts and settings), their fees and the leaflet versions. Each instance reads
-- it once per request (with the session, or alone on a page without one) and reloads what it
-- keeps when the counter has moved, so a change made on any instance, or straight in the
-- database, shows on every instance from the next request on. The triggers move it in the same
-- transaction as the change.
CREATE TABLE reference_data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reference_data_version (id, version) VALUES (1, 1);

CREATE TRIGGER reference_version_councils_insert AFTER INSERT ON councils
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_councils_update AFTER UPDATE ON councils
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_councils_delete AFTER DELETE ON councils
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_fees_insert AFTER INSERT ON council_fees
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_fees_update AFTER UPDATE ON council_fees
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_fees_delete AFTER DELETE ON council_fees
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_leaflets_insert AFTER INSERT ON leaflets
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_leaflets_update AFTER UPDATE ON leaflets
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER reference_version_leaflets_delete AFTER DELETE ON leaflets
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
END;
