-- Public leaflet events: the partnership's general-public leaflet handed out at enforcement
-- operations and awareness events, recorded by a council's officers.
CREATE TABLE public_events (
    id              INTEGER PRIMARY KEY,
    council_id      INTEGER NOT NULL REFERENCES councils(id),
    event_date      TEXT NOT NULL,                  -- YYYY-MM-DD, the day it took place
    kind            TEXT NOT NULL CHECK (kind IN ('enforcement', 'awareness', 'other')),
    place           TEXT NOT NULL,
    leaflets        INTEGER NOT NULL CHECK (leaflets >= 0),
    recorded_by     INTEGER NOT NULL REFERENCES staff_users(id),
    recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX public_events_council_date ON public_events (council_id, event_date);

-- API tokens for analysts' tools: only a SHA-256 of the token is kept; shown once at creation.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff_users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);
