-- Second-factor replay protection: the last TOTP time step accepted for the account. A code
-- whose step is not later than this one is refused, so an overheard code cannot be used again.
-- (BIGINT: a Unix-time step, held in an int64 by the Go code.)
ALTER TABLE staff_users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- Set when an administrator (or the command line) generated the password: the member of staff
-- is asked to choose their own after signing in. (A Go bool; SQLite stored it as 0/1.)
ALTER TABLE staff_users ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT FALSE;
