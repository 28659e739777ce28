-- The alarm receiving centre's console: a responder's own phone number, shown
-- to colleagues in the shift bar (the desk's direct line, not an alert channel),
-- and when they went on or off duty.
ALTER TABLE users
    ADD COLUMN phone text,
    ADD COLUMN duty_changed_at timestamptz;
