-- Delivery of queued email: a worker claims a message for a short lease (so two instances never
-- send the same one), retries with backoff, and records a permanent failure.
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN failed_at TIMESTAMPTZ;
CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);
