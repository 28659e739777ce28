-- The care record (issue 19): what a call handler needs on the call, and who to call.
-- The address, access notes (access_info) and medical summary (health_notes) were
-- already on residents (008); these are the rest. Phones are stored as E.164.

ALTER TABLE residents
    ADD COLUMN phone text NOT NULL DEFAULT '',
    -- Shown only on demand (POST .../record/key-safe), each showing in record_reads.
    ADD COLUMN key_safe_code text NOT NULL DEFAULT '',
    ADD COLUMN allergies text NOT NULL DEFAULT '',
    ADD COLUMN medication text NOT NULL DEFAULT '',
    ADD COLUMN resuscitation text NOT NULL DEFAULT 'none'
        CHECK (resuscitation IN ('none', 'dnacpr', 'respect')),
    -- Where the DNACPR or ReSPECT form is kept: crews must see the original.
    ADD COLUMN resuscitation_form_at text NOT NULL DEFAULT '',
    -- A dog, oxygen in use, steep steps: what anyone going in must know.
    ADD COLUMN hazards text[] NOT NULL DEFAULT '{}',
    ADD COLUMN language text NOT NULL DEFAULT '',
    ADD COLUMN hearing_sight text NOT NULL DEFAULT '';

-- Keyholders, next of kin, GPs and other professionals, in the order to call them;
-- with a login (user_id) or without.
CREATE TABLE resident_contacts (
    resident_id   bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    position      integer NOT NULL CHECK (position >= 1),
    name          text NOT NULL,
    relationship  text NOT NULL DEFAULT '',
    phone         text NOT NULL,
    kind          text NOT NULL
        CHECK (kind IN ('next_of_kin', 'family_or_friend', 'neighbour', 'professional')),
    keyholder     boolean NOT NULL DEFAULT false,
    -- A contact who also signs in; the contact stays if their account is removed.
    user_id       bigint REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (resident_id, position)
);
