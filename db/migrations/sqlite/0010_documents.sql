-- Documents a driver uploads with a renewal: the photo, a Group 2 medical certificate, a DBS
-- certificate. They live in the database, so every instance serves them, `renewals backup`
-- (VACUUM INTO) and a pg_dump include them, and the retention purge removes them in the same
-- transaction as the rest of a driver's personal data. The record is here; the content is in
-- document_chunks, 256 KiB a row, so neither an upload nor a download holds a whole file.
CREATE TABLE documents (
    id             INTEGER PRIMARY KEY,
    renewal_id     INTEGER NOT NULL REFERENCES renewals(id),
    driver_id      INTEGER NOT NULL REFERENCES drivers(id),
    council_id     INTEGER NOT NULL REFERENCES councils(id),
    kind           TEXT NOT NULL CHECK (kind IN ('photo', 'medical', 'dbs')),
    content_type   TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    filename_given TEXT NOT NULL DEFAULT '',
    size_bytes     INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256         TEXT NOT NULL,
    width          INTEGER NOT NULL DEFAULT 0,
    height         INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL CHECK (status IN ('uploaded', 'accepted', 'rejected', 'replaced')),
    replaced_by_id INTEGER REFERENCES documents(id),
    scan_result    TEXT NOT NULL DEFAULT '',
    uploaded_at    TIMESTAMP NOT NULL,
    reviewed_by    INTEGER REFERENCES staff_users(id),
    reviewed_at    TIMESTAMP,
    review_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX documents_renewal ON documents (renewal_id, kind);
CREATE INDEX documents_driver ON documents (driver_id);

-- What a document is never changes once stored: only its review (status, reviewer, reason)
-- and its replacement are recorded later.
CREATE TRIGGER documents_content_fixed BEFORE UPDATE OF renewal_id, driver_id, council_id, kind, content_type, size_bytes, sha256, uploaded_at ON documents
BEGIN
    SELECT RAISE(ABORT, 'a stored document cannot be changed');
END;

-- The content, append-only like evidence. The one exception is the retention purge: it first
-- marks the driver purged (licence number PURGED-<id>, in the same transaction), and only then
-- may that driver's chunks be deleted. UPDATE is always refused.
CREATE TABLE document_chunks (
    document_id INTEGER NOT NULL REFERENCES documents(id),
    seq         INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (document_id, seq)
);
CREATE TRIGGER document_chunks_no_update BEFORE UPDATE ON document_chunks
BEGIN
    SELECT RAISE(ABORT, 'document content is append-only');
END;
CREATE TRIGGER document_chunks_no_delete BEFORE DELETE ON document_chunks
WHEN NOT EXISTS (SELECT 1 FROM documents d JOIN drivers r ON r.id = d.driver_id
                 WHERE d.id = OLD.document_id AND r.licence_number LIKE 'PURGED-%')
BEGIN
    SELECT RAISE(ABORT, 'document content is append-only');
END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
WHEN NOT EXISTS (SELECT 1 FROM drivers r WHERE r.id = OLD.driver_id AND r.licence_number LIKE 'PURGED-%')
BEGIN
    SELECT RAISE(ABORT, 'documents are kept until the retention purge');
END;
