-- The reporting schema: documented, pseudonymised views for BI tools, without free text.
-- Built over the stable read.* views (never over the events table). Every identifier is replaced
-- by a keyed hash (md5 of an installation salt and the id), so rows join across views but cannot be
-- traced back to a case without the salt, which the reporting role cannot read.

CREATE SCHEMA IF NOT EXISTS reporting;
COMMENT ON SCHEMA reporting IS 'Pseudonymised, free-text-free views of Waymark projections for reporting tools.';

CREATE TABLE IF NOT EXISTS read_meta.salt (only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one), salt text NOT NULL);
INSERT INTO read_meta.salt (salt) SELECT md5(random()::text || clock_timestamp()::text) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION reporting.pseudonym(id uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, read_meta
    AS $$ SELECT md5((SELECT salt FROM read_meta.salt) || id::text) $$;
COMMENT ON FUNCTION reporting.pseudonym(uuid) IS 'Keyed hash standing in for a case or entry id.';

CREATE OR REPLACE VIEW reporting.people AS
    SELECT reporting.pseudonym(case_id) AS person_key, service, opened_on, domains
    FROM read.cases;
COMMENT ON VIEW reporting.people IS 'One row per case: pseudonymous person key, service, opening date and the outcome domains in their plan.';

CREATE OR REPLACE VIEW reporting.case_status AS
    SELECT reporting.pseudonym(case_id) AS person_key, occurred_at, status, reason
    FROM read.case_status;
COMMENT ON VIEW reporting.case_status IS 'Openings (from the start of the opening date), closures (with coded reason) and reopenings (when they happened); open days are counted from these.';

CREATE OR REPLACE VIEW reporting.reviews AS
    SELECT reporting.pseudonym(entry_id) AS review_key, reporting.pseudonym(case_id) AS person_key,
           occurred_at, kind, corrected, changed AS led_to_change, actioned AS led_to_action
    FROM read.reviews;
COMMENT ON VIEW reporting.reviews IS 'Reviews held (routine, formal, mdt, supervision); led_to_change = a plan change named the review within 28 days; led_to_action = a plan change or a "no change, because" confirmation named it within 28 days.';

CREATE OR REPLACE VIEW reporting.plan_decisions AS
    SELECT reporting.pseudonym(entry_id) AS decision_key, reporting.pseudonym(case_id) AS person_key,
           occurred_at, kind, support_hours_per_week, caused, corrected
    FROM read.decisions;
COMMENT ON VIEW reporting.plan_decisions IS 'Plan changes and confirmations ("no change, because"); caused = names a review, setback or escalation.';

CREATE OR REPLACE VIEW reporting.decision_causes AS
    SELECT reporting.pseudonym(entry_id) AS decision_key, reporting.pseudonym(cause_id) AS cause_key
    FROM read.decision_causes;
COMMENT ON VIEW reporting.decision_causes IS 'Which review, setback or escalation (cause_key) each plan decision names.';

CREATE OR REPLACE VIEW reporting.setbacks AS
    SELECT reporting.pseudonym(entry_id) AS setback_key, reporting.pseudonym(case_id) AS person_key,
           occurred_at, domains, contributing_factors, corrected
    FROM read.setbacks;
COMMENT ON VIEW reporting.setbacks IS 'Setbacks with their outcome domains and coded contributing factors.';

CREATE OR REPLACE VIEW reporting.escalations AS
    SELECT reporting.pseudonym(e.entry_id) AS escalation_key, reporting.pseudonym(e.case_id) AS person_key,
           e.occurred_at, e.severity, e.plan_used_early, e.domains, r.occurred_at AS resolved_at, e.corrected
    FROM read.escalations e
    LEFT JOIN read.escalation_resolutions r ON r.escalation_id = e.entry_id;
COMMENT ON VIEW reporting.escalations IS 'Escalations: severity 1-4, whether the escalation plan was used early, when resolved.';

CREATE OR REPLACE VIEW reporting.ratings AS
    SELECT reporting.pseudonym(case_id) AS person_key, occurred_at, measure, value, corrected
    FROM read.ratings;
COMMENT ON VIEW reporting.ratings IS 'Review ratings 1-10 per outcome domain, plus confidence and autonomy.';

CREATE OR REPLACE VIEW reporting.outcome_measures AS
    SELECT reporting.pseudonym(case_id) AS person_key, occurred_at, instrument, instrument_version, score,
           raw_total, higher_is_better, clinical_range, band, cutoff, clinical_when, reliable_change, source,
           domain, corrected
    FROM read.measures;
COMMENT ON VIEW reporting.outcome_measures IS 'Scored standard measures with the thresholds (and their source) each label was derived with.';
