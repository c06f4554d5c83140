-- Fees paid for renewals. An online payment is recorded (status 'creating') before the
-- provider is asked to create it, then follows the provider's states until it finishes; the
-- serve process polls the provider for every payment still open (next_check_at), so a payment
-- taken while the driver's tab was closed, or the server was down, still ends in a sent
-- renewal, a renewal held for the driver, or a refund for an officer to decide. Officers record
-- fees taken at the counter or by phone, and fees waived, as payments too (method).
CREATE TABLE payments (
    id               INTEGER PRIMARY KEY,
    renewal_id       INTEGER NOT NULL REFERENCES renewals(id),
    driver_id        INTEGER NOT NULL REFERENCES drivers(id),
    council_id       INTEGER NOT NULL REFERENCES councils(id),
    method           TEXT NOT NULL CHECK (method IN ('online', 'counter', 'phone', 'waived')),
    amount_pence     INTEGER NOT NULL CHECK (amount_pence >= 0),
    status           TEXT NOT NULL CHECK (status IN ('creating', 'created', 'started', 'submitted', 'capturable', 'success', 'failed', 'cancelled', 'error')),
    provider_id      TEXT UNIQUE,
    next_url         TEXT NOT NULL DEFAULT '',
    return_key       TEXT UNIQUE,
    provider_code    TEXT NOT NULL DEFAULT '',
    provider_message TEXT NOT NULL DEFAULT '',
    receipt          TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    recorded_by      INTEGER REFERENCES staff_users(id),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    next_check_at    TIMESTAMP,
    checks           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX payments_renewal ON payments (renewal_id, id);
CREATE INDEX payments_open ON payments (finished_at, next_check_at);
CREATE INDEX payments_council_time ON payments (council_id, created_at);

-- A payment is a financial record: its state moves on, but it is never deleted.
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN
    SELECT RAISE(ABORT, 'payments are kept');
END;

-- Refunds, recorded by an officer (and made through the provider for online payments).
-- Append-only.
CREATE TABLE refunds (
    id           INTEGER PRIMARY KEY,
    renewal_id   INTEGER NOT NULL REFERENCES renewals(id),
    payment_id   INTEGER NOT NULL REFERENCES payments(id),
    council_id   INTEGER NOT NULL REFERENCES councils(id),
    amount_pence INTEGER NOT NULL CHECK (amount_pence > 0),
    reason       TEXT NOT NULL,
    provider_id  TEXT NOT NULL DEFAULT '',
    recorded_by  INTEGER NOT NULL REFERENCES staff_users(id),
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX refunds_renewal ON refunds (renewal_id);
CREATE INDEX refunds_council_time ON refunds (council_id, recorded_at);
CREATE TRIGGER refunds_no_update BEFORE UPDATE ON refunds
BEGIN
    SELECT RAISE(ABORT, 'refunds are append-only');
END;
CREATE TRIGGER refunds_no_delete BEFORE DELETE ON refunds
BEGIN
    SELECT RAISE(ABORT, 'refunds are append-only');
END;
