-- Second-factor replay protection: the last TOTP time step accepted for the account. A code
-- whose step is not later than this one is refused, so an overheard code cannot be used again.
ALTER TABLE staff_users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Set when an administrator (or the command line) generated the password: the member of staff
-- is asked to choose their own after signing in.
ALTER TABLE staff_users ADD COLUMN password_change_required INTEGER NOT NULL DEFAULT 0;
