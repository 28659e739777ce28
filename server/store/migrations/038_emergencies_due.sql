-- Emergencies' rungs are claimed before any other's (store/escalation.claim_due): with
-- 100,000 technical alerts due at once, finding the few emergencies among them must not
-- scan the rest.
CREATE INDEX alerts_emergency_due ON alerts (escalation_due_at)
    WHERE escalation_due_at IS NOT NULL AND severity = 'emergency';
