-- The reporting schema: documented, pseudonymised views for BI tools, without free text.
-- Built over the stable read.* views (never over the events table). Every identifier is replaced
-- by its HMAC-SHA256 under the installation's pseudonym key, so rows join across views but cannot be
-- traced back to a case. The key lives in read_meta, which the reporting role cannot use; a view
-- reads it with its owner's rights. There is deliberately no pseudonym function: a function runs
-- with the caller's EXECUTE right even inside a view, so the reporting role could call it on any
-- case id it has seen. HMAC (RFC 2104) is written out with the built-in sha256() over the key's
-- inner and outer pads (pgcrypto is not in the embedded PostgreSQL):
--     encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(id))), 'hex')

CREATE SCHEMA IF NOT EXISTS reporting;
COMMENT ON SCHEMA reporting IS 'Pseudonymised, free-text-free views of Waymark projections for reporting tools.';

CREATE TABLE IF NOT EXISTS read_meta.pseudonym_key (
    only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE read_meta.pseudonym_key IS 'The HMAC key of reporting pseudonyms (as its 64-byte pads); replacing it changes every pseudonym.';
REVOKE ALL ON read_meta.pseudonym_key FROM PUBLIC;

CREATE OR REPLACE VIEW reporting.people AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           service, opened_on, domains
    FROM read.cases CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.people IS 'One row per case: pseudonymous person key, service, opening date and the outcome domains in their plan.';

CREATE OR REPLACE VIEW reporting.case_status AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           occurred_at, status, reason
    FROM read.case_status CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.case_status IS 'Openings (from the start of the opening date), closures (with coded reason) and reopenings (when they happened); open days are counted from these.';

CREATE OR REPLACE VIEW reporting.reviews AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(entry_id))), 'hex') AS review_key,
           encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           occurred_at, kind, corrected, changed AS led_to_change, actioned AS led_to_action
    FROM read.reviews CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.reviews IS 'Reviews held (routine, formal, mdt, supervision); led_to_change = a plan change named the review within 28 days; led_to_action = a plan change or a "no change, because" confirmation named it within 28 days.';

CREATE OR REPLACE VIEW reporting.plan_decisions AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(entry_id))), 'hex') AS decision_key,
           encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           occurred_at, kind, support_hours_per_week, caused, corrected
    FROM read.decisions CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.plan_decisions IS 'Plan changes and confirmations ("no change, because"); caused = names a review, setback or escalation.';

CREATE OR REPLACE VIEW reporting.decision_causes AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(entry_id))), 'hex') AS decision_key,
           encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(cause_id))), 'hex') AS cause_key
    FROM read.decision_causes CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.decision_causes IS 'Which review, setback or escalation (cause_key) each plan decision names.';

CREATE OR REPLACE VIEW reporting.setbacks AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(entry_id))), 'hex') AS setback_key,
           encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           occurred_at, domains, contributing_factors, corrected
    FROM read.setbacks CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.setbacks IS 'Setbacks with their outcome domains and coded contributing factors.';

CREATE OR REPLACE VIEW reporting.escalations AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(e.entry_id))), 'hex') AS escalation_key,
           encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(e.case_id))), 'hex') AS person_key,
           e.occurred_at, e.severity, e.plan_used_early, e.domains, r.occurred_at AS resolved_at,
           e.corrected
    FROM read.escalations e CROSS JOIN read_meta.pseudonym_key k
    LEFT JOIN read.escalation_resolutions r ON r.escalation_id = e.entry_id;
COMMENT ON VIEW reporting.escalations IS 'Escalations: severity 1-4, whether the escalation plan was used early, when resolved.';

CREATE OR REPLACE VIEW reporting.ratings AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           occurred_at, measure, value, corrected
    FROM read.ratings CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.ratings IS 'Review ratings 1-10 per outcome domain, plus confidence and autonomy.';

CREATE OR REPLACE VIEW reporting.outcome_measures AS
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(case_id))), 'hex') AS person_key,
           occurred_at, instrument, instrument_version, score, raw_total, higher_is_better,
           clinical_range, band, cutoff, clinical_when, reliable_change, source, domain, corrected
    FROM read.measures CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.outcome_measures IS 'Scored standard measures with the thresholds (and their source) each label was derived with.';

-- Before the HMAC key: an md5 of a salt, through a function the reporting role could call.
DROP FUNCTION IF EXISTS reporting.pseudonym(uuid);
DROP TABLE IF EXISTS read_meta.salt;
