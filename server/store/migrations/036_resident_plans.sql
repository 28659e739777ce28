-- A resident's own response plan for a kind of alert (issue 19): her steps replace the
-- kind's default ones on the console's checklist; no row means the default plan.
CREATE TABLE resident_plans (
    resident_id  bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    steps        text[] NOT NULL CHECK (cardinality(steps) >= 1),
    changed_by   text NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resident_id, kind)
);
