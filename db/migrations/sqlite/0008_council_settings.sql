-- Council settings (issue 10): how drivers reach each licensing team, how long a decision takes,
-- when a Group 2 medical certificate is needed, the council's online payment key, and its fees.

-- contact_email stays where coverage reports go; public_email is the address shown to drivers.
-- pay_api_key_sealed is the council's GOV.UK Pay API key, AES-256-GCM under the server's secret
-- key ('' when not set up); it is never shown back.
ALTER TABLE councils ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE councils ADD COLUMN public_email TEXT NOT NULL DEFAULT '';
ALTER TABLE councils ADD COLUMN web_url TEXT NOT NULL DEFAULT '';
ALTER TABLE councils ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE councils ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE councils ADD COLUMN decision_days INTEGER NOT NULL DEFAULT 10 CHECK (decision_days BETWEEN 1 AND 365);
ALTER TABLE councils ADD COLUMN medical_interval_years INTEGER NOT NULL DEFAULT 5 CHECK (medical_interval_years BETWEEN 1 AND 20);
ALTER TABLE councils ADD COLUMN pay_api_key_sealed TEXT NOT NULL DEFAULT '';

-- Starting contact details. The web pages are each council's licensing page on its own domain
-- and the addresses its main offices; both are for each council to confirm on the admin page.
-- Phone numbers and public email addresses are left empty rather than guessed: pages show only
-- what is set.
UPDATE councils SET web_url = 'https://www.broxbourne.gov.uk/licensing', address = 'Bishops'' College, Churchgate, Cheshunt, EN8 9XQ' WHERE slug = 'broxbourne';
UPDATE councils SET web_url = 'https://www.dacorum.gov.uk/licensing', address = 'The Forum, Marlowes, Hemel Hempstead, HP1 1DN' WHERE slug = 'dacorum';
UPDATE councils SET web_url = 'https://www.eastherts.gov.uk/licensing', address = 'Wallfields, Pegs Lane, Hertford, SG13 8EQ' WHERE slug = 'east-hertfordshire';
UPDATE councils SET web_url = 'https://www.hertsmere.gov.uk/licensing', address = 'Civic Offices, Elstree Way, Borehamwood, WD6 1WA' WHERE slug = 'hertsmere';
UPDATE councils SET web_url = 'https://www.north-herts.gov.uk/licensing', address = 'Council Offices, Gernon Road, Letchworth Garden City, SG6 3JF' WHERE slug = 'north-hertfordshire';
UPDATE councils SET web_url = 'https://www.stalbans.gov.uk/licensing', address = 'Civic Centre, St Peter''s Street, St Albans, AL1 3JE' WHERE slug = 'st-albans';
UPDATE councils SET web_url = 'https://www.stevenage.gov.uk/licensing', address = 'Daneshill House, Danestrete, Stevenage, SG1 1HN' WHERE slug = 'stevenage';
UPDATE councils SET web_url = 'https://www.threerivers.gov.uk/licensing', address = 'Three Rivers House, Northway, Rickmansworth, WD3 1RL' WHERE slug = 'three-rivers';
UPDATE councils SET web_url = 'https://www.watford.gov.uk/licensing', address = 'Town Hall, Hempstead Road, Watford, WD17 3EX' WHERE slug = 'watford';
UPDATE councils SET web_url = 'https://www.welhat.gov.uk/licensing', address = 'Council Offices, The Campus, Welwyn Garden City, AL8 6AE' WHERE slug = 'welwyn-hatfield';

-- Fees: each council's driver renewal fee per licence term, from a date. Append-only history: a
-- new fee is a new row (the fee on a day is the one with the latest applies_from on or before it,
-- ties going to the latest set_at), so a fee set today for a later date leaves today's unchanged.
CREATE TABLE council_fees (
    id           INTEGER PRIMARY KEY,
    council_id   INTEGER NOT NULL REFERENCES councils(id),
    term_years   INTEGER NOT NULL CHECK (term_years > 0),
    amount_pence INTEGER NOT NULL CHECK (amount_pence > 0),
    applies_from TEXT NOT NULL,             -- 'YYYY-MM-DD', like drivers.licence_expiry
    set_at       TIMESTAMP NOT NULL,
    set_by       TEXT NOT NULL
);
CREATE INDEX council_fees_lookup ON council_fees (council_id, term_years, applies_from);

CREATE TRIGGER council_fees_no_update BEFORE UPDATE ON council_fees
BEGIN
    SELECT RAISE(ABORT, 'fee history is append-only');
END;
CREATE TRIGGER council_fees_no_delete BEFORE DELETE ON council_fees
BEGIN
    SELECT RAISE(ABORT, 'fee history is append-only');
END;

-- PLACEHOLDER FEES: we have no source for the councils' real renewal fees. These plausible
-- starting amounts (3-year £255–£325, 1-year £125–£160) are for each council to confirm or
-- replace (admin page or `renewals council set-fee`) before taking payments.
INSERT INTO council_fees (council_id, term_years, amount_pence, applies_from, set_at, set_by)
SELECT c.id, f.term_years, f.amount_pence, '2026-04-01', '2026-03-01 00:00:00', 'migration 0008 (placeholder)'
FROM councils c JOIN (
    SELECT 'broxbourne' AS slug, 3 AS term_years, 29500 AS amount_pence
    UNION ALL
    SELECT 'broxbourne', 1, 14500
    UNION ALL
    SELECT 'dacorum' AS slug, 3 AS term_years, 31000 AS amount_pence
    UNION ALL
    SELECT 'dacorum', 1, 15500
    UNION ALL
    SELECT 'east-hertfordshire' AS slug, 3 AS term_years, 27500 AS amount_pence
    UNION ALL
    SELECT 'east-hertfordshire', 1, 13500
    UNION ALL
    SELECT 'hertsmere' AS slug, 3 AS term_years, 30000 AS amount_pence
    UNION ALL
    SELECT 'hertsmere', 1, 14800
    UNION ALL
    SELECT 'north-hertfordshire' AS slug, 3 AS term_years, 26500 AS amount_pence
    UNION ALL
    SELECT 'north-hertfordshire', 1, 13000
    UNION ALL
    SELECT 'st-albans' AS slug, 3 AS term_years, 32500 AS amount_pence
    UNION ALL
    SELECT 'st-albans', 1, 16000
    UNION ALL
    SELECT 'stevenage' AS slug, 3 AS term_years, 25500 AS amount_pence
    UNION ALL
    SELECT 'stevenage', 1, 12500
    UNION ALL
    SELECT 'three-rivers' AS slug, 3 AS term_years, 28000 AS amount_pence
    UNION ALL
    SELECT 'three-rivers', 1, 14000
    UNION ALL
    SELECT 'watford' AS slug, 3 AS term_years, 29000 AS amount_pence
    UNION ALL
    SELECT 'watford', 1, 14200
    UNION ALL
    SELECT 'welwyn-hatfield' AS slug, 3 AS term_years, 30500 AS amount_pence
    UNION ALL
    SELECT 'welwyn-hatfield', 1, 15000
) f ON f.slug = c.slug;
