-- The reporting schema: documented, pseudonymised views for BI tools, without free text.
-- Built over the stable read.* views (never over the events table). Every identifier is replaced
-- by its HMAC-SHA256 under the installation's pseudonym key, so rows join across views but cannot be
-- traced back to a case. The key lives in read_meta, which the reporting role cannot use; a view
-- reads it with its owner's rights. The HMAC (RFC 2104, with the built-in sha256(): pgcrypto is not
-- in the embedded PostgreSQL) is one function, read_meta.keyed_hash(inner_pad, outer_pad, id)
-- (projections/schema.py), which the triggers keeping entry keys call too. It takes the key's pads as
-- arguments and runs with the caller's rights (SECURITY INVOKER): a function called in a view runs
-- with the EXECUTE right of whoever reads the view, so the reporting role may execute it, and without
-- the pads (which only a view's owner can read) it cannot turn an id it has seen into its pseudonym.
-- A function reading the key itself (SECURITY DEFINER) would let it. LANGUAGE sql, IMMUTABLE, one
-- expression: the planner inlines it, so a view plans as if the HMAC were written out.
-- Person keys are made once per case (read_meta.person_keys, kept whole by OFFSET 0) and joined, not
-- made again for each of a case's thousands of rows; an entry's key is made once when its rows change
-- and kept with its row version (v.entry_key, projections/changes.py): two SHA-256 per row were most
-- of an export's time. Every version has one: the key table, the key and the function are made with
-- read_meta (projections/schema.py, generations.prepare), before any generation's triggers can need
-- them, and replacing the key rewrites them (projections/reporting.py).
--
-- Every row carries the position and time of its entry's last change in this view; the entry is
-- named by the view's own key where it has one (review_key, decision_key, setback_key,
-- escalation_key), else by entry_key. reporting.changes names entries by the same key.

CREATE SCHEMA IF NOT EXISTS reporting;
COMMENT ON SCHEMA reporting IS 'Pseudonymised, free-text-free views of Waymark projections for reporting tools.';

-- Not in the reporting schema: it pairs each case id with its person key.
CREATE OR REPLACE VIEW read_meta.person_keys AS
    SELECT c.case_id, read_meta.keyed_hash(k.inner_pad, k.outer_pad, c.case_id) AS person_key
    FROM read.cases c CROSS JOIN read_meta.pseudonym_key k OFFSET 0;

CREATE OR REPLACE VIEW reporting.people AS
    SELECT read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id) AS person_key,
           x.service, x.opened_on, x.domains,
           v.entry_key, v.position, v.updated_at
    FROM read.cases x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'people' AND v.entry_id = x.entry_id;
COMMENT ON VIEW reporting.people IS 'One row per case: pseudonymous person key, service, opening date and the outcome domains in their plan.';

CREATE OR REPLACE VIEW reporting.case_status AS
    SELECT coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.status, x.reason,
           v.entry_key, v.position, v.updated_at
    FROM read.case_status x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'case_status' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id;
COMMENT ON VIEW reporting.case_status IS 'Openings (from the start of the opening date), closures (with coded reason) and reopenings (when they happened); open days are counted from these.';

CREATE OR REPLACE VIEW reporting.reviews AS
    SELECT v.entry_key AS review_key,
           coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.kind, x.corrected, x.changed AS led_to_change, x.actioned AS led_to_action,
           v.position, v.updated_at
    FROM read.reviews x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'reviews' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id;
COMMENT ON VIEW reporting.reviews IS 'Reviews held (routine, formal, mdt, supervision); led_to_change = a plan change named the review within 28 days; led_to_action = a plan change or a "no change, because" confirmation named it within 28 days.';

CREATE OR REPLACE VIEW reporting.plan_decisions AS
    SELECT v.entry_key AS decision_key,
           coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.kind, x.support_hours_per_week, x.caused, x.corrected,
           v.position, v.updated_at
    FROM read.decisions x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'plan_decisions' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id;
COMMENT ON VIEW reporting.plan_decisions IS 'Plan changes and confirmations ("no change, because"); caused = names a review, setback or escalation.';

CREATE OR REPLACE VIEW reporting.decision_causes AS
    SELECT v.entry_key AS decision_key,
           read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.cause_id) AS cause_key,
           x.decided_at, v.position, v.updated_at
    FROM read.decision_causes x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'decision_causes' AND v.entry_id = x.entry_id;
COMMENT ON VIEW reporting.decision_causes IS 'Which review, setback or escalation (cause_key) each plan decision names, and when the decision was made (its occurred_at in plan_decisions).';

CREATE OR REPLACE VIEW reporting.setbacks AS
    SELECT v.entry_key AS setback_key,
           coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.domains, x.contributing_factors, x.corrected,
           v.position, v.updated_at
    FROM read.setbacks x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'setbacks' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id;
COMMENT ON VIEW reporting.setbacks IS 'Setbacks with their outcome domains and coded contributing factors.';

CREATE OR REPLACE VIEW reporting.escalations AS
    SELECT v.entry_key AS escalation_key,
           coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.severity, x.plan_used_early, x.domains, r.occurred_at AS resolved_at,
           x.corrected, v.position, v.updated_at
    FROM read.escalations x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.care_row_versions v ON v.view = 'escalations' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id
    LEFT JOIN read.escalation_resolutions r ON r.escalation_id = x.entry_id;
COMMENT ON VIEW reporting.escalations IS 'Escalations: severity 1-4, whether the escalation plan was used early, when resolved.';

CREATE OR REPLACE VIEW reporting.ratings AS
    SELECT coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.measure, x.value, x.corrected,
           v.entry_key, v.position, v.updated_at
    FROM read.ratings x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.trajectory_row_versions v ON v.view = 'ratings' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id;
COMMENT ON VIEW reporting.ratings IS 'Review ratings 1-10 per outcome domain, plus confidence and autonomy.';

CREATE OR REPLACE VIEW reporting.outcome_measures AS
    SELECT coalesce(p.person_key, read_meta.keyed_hash(k.inner_pad, k.outer_pad, x.case_id)) AS person_key,
           x.occurred_at, x.instrument, x.instrument_version, x.score, x.raw_total, x.higher_is_better,
           x.clinical_range, x.band, x.cutoff, x.clinical_when, x.reliable_change, x.source, x.domain,
           x.corrected, v.entry_key, v.position, v.updated_at
    FROM read.measures x CROSS JOIN read_meta.pseudonym_key k
    JOIN read.trajectory_row_versions v ON v.view = 'outcome_measures' AND v.entry_id = x.entry_id
    LEFT JOIN read_meta.person_keys p ON p.case_id = x.case_id;
COMMENT ON VIEW reporting.outcome_measures IS 'Scored standard measures with the thresholds (and their source) each label was derived with.';

CREATE OR REPLACE VIEW reporting.changes AS
    SELECT c.position, c.view, read_meta.keyed_hash(k.inner_pad, k.outer_pad, c.entry_id) AS entry_key, c.removed, c.updated_at
    FROM (SELECT * FROM read.care_changes UNION ALL SELECT * FROM read.trajectory_changes) c
    CROSS JOIN read_meta.pseudonym_key k;
COMMENT ON VIEW reporting.changes IS 'Which entry''s rows changed in which view at which log position (removed: it has none left; view ''*'': the views were rebuilt, read them afresh). A change means: replace every row of that entry in that view (its key is the view''s own key where it has one, review_key, decision_key, setback_key, escalation_key, else entry_key).';

CREATE OR REPLACE VIEW reporting.horizon AS
    SELECT coalesce(min(position), 0) AS position,
           greatest((SELECT max(position) FROM read.care_changes WHERE view = '*'),
                    (SELECT max(position) FROM read.trajectory_changes WHERE view = '*'), 0) AS reload_at
    FROM read_meta.generations WHERE status = 'live' AND name IN ('care', 'trajectory');
COMMENT ON VIEW reporting.horizon IS 'position: no change at or below it is still to come, so a reader that applied every change up to it remembers it; reload_at: when it differs from the value a reader saw last, the views were rebuilt and the reader must read them afresh.';

-- Before the HMAC key: an md5 of a salt, through a function the reporting role could call.
DROP FUNCTION IF EXISTS reporting.pseudonym(uuid);
DROP TABLE IF EXISTS read_meta.salt;
