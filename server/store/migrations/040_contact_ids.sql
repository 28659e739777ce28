-- Each contact has its own id (issue 19), kept when the call order changes, so a tick on
-- "call Jo" stays on Jo when she is moved down the list while an alert is open.
ALTER TABLE resident_contacts ADD COLUMN contact_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX resident_contacts_contact_id ON resident_contacts (contact_id);

-- Ticks on open alerts were recorded by place (call-contact-2): move each onto the contact
-- now at that place, who is the one it was ticked for unless the list changed since.
-- Closed alerts keep theirs; their trail has the words that were ticked.
UPDATE alerts a SET details = jsonb_set(a.details, '{steps_done}', (
    SELECT coalesce(jsonb_agg(coalesce('call-contact-' || c.contact_id::text, t.step)
                              ORDER BY t.ord), '[]'::jsonb)
    FROM jsonb_array_elements_text(a.details->'steps_done') WITH ORDINALITY AS t(step, ord)
    LEFT JOIN resident_contacts c ON c.resident_id = a.resident_id
        -- CASE, not AND: only a CASE keeps the cast from seeing 'call-resident'.
        AND c.position = CASE WHEN t.step ~ '^call-contact-[0-9]{1,9}$'
                              THEN substring(t.step FROM 14)::int END))
WHERE a.status <> 'resolved' AND jsonb_typeof(a.details->'steps_done') = 'array';
