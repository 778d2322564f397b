-- Rollups: how many answers each (survey, step, band, class, score) has per
-- UTC hour and per UTC day, and how many closed follow-ups each combination
-- of reasons has, so a report reads counts, not answers. Kept by triggers in
-- the transaction of every change of an answer (ingest, the inbox, erasure);
-- `pulso rollup --rebuild` recomputes them from the answers.
--
-- `period` is hours (or days) since the Unix epoch: created_at / 3600000
-- (or / 86400000). `step` is '' for none; `dismissed` is 1 for answers
-- dismissed in the inbox. A count that falls to 0 stays as a row of 0.
CREATE TABLE rollup_hours (
    site      TEXT   NOT NULL,
    period    BIGINT NOT NULL,
    survey    TEXT   NOT NULL,
    step      TEXT   NOT NULL,
    band      TEXT   NOT NULL,
    class     TEXT   NOT NULL,
    score     BIGINT NOT NULL,
    dismissed BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, score, dismissed)
);
CREATE TABLE rollup_days (LIKE rollup_hours INCLUDING ALL);
-- Closed follow-ups only; `reasons` is the answer's reason_ids ('' for none).
CREATE TABLE reason_hours (
    site      TEXT   NOT NULL,
    period    BIGINT NOT NULL,
    survey    TEXT   NOT NULL,
    step      TEXT   NOT NULL,
    band      TEXT   NOT NULL,
    class     TEXT   NOT NULL,
    dismissed BIGINT NOT NULL,
    reasons   TEXT   NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, dismissed, reasons)
);
CREATE TABLE reason_days (LIKE reason_hours INCLUDING ALL);

-- The latest "Other" texts of a band, an indexed read.
CREATE INDEX answers_other ON answers (site, band, created_at, id)
    WHERE other_text IS NOT NULL AND follow_up = 'closed';
-- The answers the team acted on, for the report's response times: as many
-- as people handled, not as answers came.
CREATE INDEX answers_handled ON answers (site, created_at)
    WHERE first_action_at IS NOT NULL OR resolved_at IS NOT NULL;

-- One change of an answer's count: +1 for a row as it now is, -1 for a row
-- as it was. `reasons` is NULL unless the follow-up is closed.
CREATE TYPE pulso_change AS (
    site TEXT, survey TEXT, step TEXT, band TEXT, class TEXT, score BIGINT,
    dismissed BIGINT, created_at BIGINT, reasons TEXT, n BIGINT
);

-- Applies a statement's changes, summed per key and in key order: two
-- collectors writing at once lock the rows they share in the same order, so
-- they wait for each other and never deadlock.
CREATE FUNCTION pulso_rollup_apply(changes pulso_change[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO rollup_hours AS r
    SELECT site, created_at / 3600000, survey, step, band, class, score, dismissed, SUM(n)
    FROM unnest(changes) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, score, dismissed)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO rollup_days AS r
    SELECT site, created_at / 86400000, survey, step, band, class, score, dismissed, SUM(n)
    FROM unnest(changes) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, score, dismissed)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO reason_hours AS r
    SELECT site, created_at / 3600000, survey, step, band, class, dismissed, reasons, SUM(n)
    FROM unnest(changes) WHERE reasons IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, dismissed, reasons)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO reason_days AS r
    SELECT site, created_at / 86400000, survey, step, band, class, dismissed, reasons, SUM(n)
    FROM unnest(changes) WHERE reasons IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, dismissed, reasons)
    DO UPDATE SET n = r.n + excluded.n;
$$;

-- Statement-level triggers: a batch of answers is one statement, so its
-- changes are applied together.
CREATE FUNCTION pulso_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulso_rollup_apply(ARRAY(
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '') END, 1)::pulso_change
        FROM new_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION pulso_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulso_rollup_apply(ARRAY(
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '') END, -1)::pulso_change
        FROM old_rows
        UNION ALL
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '') END, 1)::pulso_change
        FROM new_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION pulso_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulso_rollup_apply(ARRAY(
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '') END, -1)::pulso_change
        FROM old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER rollup_insert AFTER INSERT ON answers REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_rollup_insert();
CREATE TRIGGER rollup_update AFTER UPDATE ON answers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_rollup_update();
CREATE TRIGGER rollup_delete AFTER DELETE ON answers REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_rollup_delete();

-- The answers stored so far.
INSERT INTO rollup_hours SELECT site, created_at / 3600000, survey, COALESCE(step, ''), band,
    class, score, CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, COUNT(*)
    FROM answers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO rollup_days SELECT site, created_at / 86400000, survey, COALESCE(step, ''), band,
    class, score, CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, COUNT(*)
    FROM answers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO reason_hours SELECT site, created_at / 3600000, survey, COALESCE(step, ''), band,
    class, CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, COALESCE(reason_ids, ''), COUNT(*)
    FROM answers WHERE follow_up = 'closed' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO reason_days SELECT site, created_at / 86400000, survey, COALESCE(step, ''), band,
    class, CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, COALESCE(reason_ids, ''), COUNT(*)
    FROM answers WHERE follow_up = 'closed' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
