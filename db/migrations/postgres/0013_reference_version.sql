-- A counter moved by every change to the reference data the service keeps in memory: councils
-- (their names, contacts and settings), their fees and the leaflet versions. Each instance reads
-- it once per request (with the session, or alone on a page without one) and reloads what it
-- keeps when the counter has moved, so a change made on any instance, or straight in the
-- database, shows on every instance from the next request on. The triggers move it in the same
-- transaction as the change (TRUNCATE included).
CREATE TABLE reference_data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reference_data_version (id, version) VALUES (1, 1);

CREATE FUNCTION bump_reference_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_data_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reference_version_councils AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON councils
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_data_version();
CREATE TRIGGER reference_version_fees AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON council_fees
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_data_version();
CREATE TRIGGER reference_version_leaflets AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON leaflets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_data_version();
