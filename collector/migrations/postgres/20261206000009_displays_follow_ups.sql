-- Displays: that a card was shown, and whether it was closed unanswered
-- (dismissed), without personal data: the card's display id, the site,
-- survey and step. One row per display id; the card posts it when it shows
-- and again when it is closed before any score (through the same outbox as
-- answers, so a repeat is harmless). `created_at` is when the collector
-- first heard of it. Counted per UTC hour (and per folded day, as answers
-- are: see the rollup fold migration) for the response rate.
CREATE TABLE displays (
    id         TEXT   PRIMARY KEY,
    site       TEXT   NOT NULL,
    survey     TEXT   NOT NULL,
    step       TEXT,
    created_at BIGINT NOT NULL,
    dismissed  BIGINT NOT NULL DEFAULT 0
);
-- The displays of a part-hour, and retention.
CREATE INDEX displays_time ON displays (site, created_at);

CREATE TABLE display_hours (
    site      TEXT   NOT NULL,
    period    BIGINT NOT NULL,
    survey    TEXT   NOT NULL,
    step      TEXT   NOT NULL,
    shown     BIGINT NOT NULL,
    dismissed BIGINT NOT NULL,
    PRIMARY KEY (site, period, survey, step)
);
CREATE TABLE display_days (LIKE display_hours INCLUDING ALL);

-- A statement's changes summed per key and applied in key order, as the
-- answers' rollups are (two collectors never deadlock), hours and days.
CREATE FUNCTION pulso_display_apply(changes JSONB) RETURNS void LANGUAGE sql AS $$
    INSERT INTO display_hours AS r
    SELECT c->>'site', CAST(c->>'at' AS BIGINT) / 3600000, c->>'survey', c->>'step',
        SUM(CAST(c->>'shown' AS BIGINT)), SUM(CAST(c->>'dismissed' AS BIGINT))
    FROM jsonb_array_elements(changes) c GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (site, period, survey, step)
    DO UPDATE SET shown = r.shown + excluded.shown, dismissed = r.dismissed + excluded.dismissed;
    INSERT INTO display_days AS r
    SELECT c->>'site', CAST(c->>'at' AS BIGINT) / 86400000, c->>'survey', c->>'step',
        SUM(CAST(c->>'shown' AS BIGINT)), SUM(CAST(c->>'dismissed' AS BIGINT))
    FROM jsonb_array_elements(changes) c GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (site, period, survey, step)
    DO UPDATE SET shown = r.shown + excluded.shown, dismissed = r.dismissed + excluded.dismissed;
$$;

CREATE FUNCTION pulso_display_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT COALESCE(jsonb_agg(jsonb_build_object('site', site, 'at', created_at,
            'survey', survey, 'step', COALESCE(step, ''), 'shown', 1, 'dismissed', dismissed)), '[]')
        INTO changes FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT COALESCE(jsonb_agg(jsonb_build_object('site', n.site, 'at', n.created_at,
            'survey', n.survey, 'step', COALESCE(n.step, ''), 'shown', 0,
            'dismissed', n.dismissed - o.dismissed)), '[]')
        INTO changes FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.dismissed <> o.dismissed;
    ELSE
        SELECT COALESCE(jsonb_agg(jsonb_build_object('site', site, 'at', created_at,
            'survey', survey, 'step', COALESCE(step, ''), 'shown', -1, 'dismissed', -dismissed)), '[]')
        INTO changes FROM old_rows;
    END IF;
    IF jsonb_array_length(changes) > 0 THEN
        PERFORM pulso_display_apply(changes);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER display_insert AFTER INSERT ON displays REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_display_change();
CREATE TRIGGER display_update AFTER UPDATE ON displays
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_display_change();
CREATE TRIGGER display_delete AFTER DELETE ON displays REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_display_change();

-- Open follow-ups are counted too, in the reason rollups under '~open' (no
-- combination of reason ids, which are letters, digits, '-' and '_'): the
-- report's completion of the follow-up is answers with one over answers.
CREATE OR REPLACE FUNCTION pulso_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulso_rollup_apply(ARRAY(
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '')
                 WHEN follow_up IS NOT NULL THEN '~open' END, 1)::pulso_change
        FROM new_rows));
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION pulso_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulso_rollup_apply(ARRAY(
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '')
                 WHEN follow_up IS NOT NULL THEN '~open' END, -1)::pulso_change
        FROM old_rows
        UNION ALL
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '')
                 WHEN follow_up IS NOT NULL THEN '~open' END, 1)::pulso_change
        FROM new_rows));
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION pulso_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulso_rollup_apply(ARRAY(
        SELECT ROW(site, survey, COALESCE(step, ''), band, class, score,
            CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, created_at,
            CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '')
                 WHEN follow_up IS NOT NULL THEN '~open' END, -1)::pulso_change
        FROM old_rows));
    RETURN NULL;
END $$;

-- The open follow-ups stored so far.
INSERT INTO reason_hours SELECT site, created_at / 3600000, survey, COALESCE(step, ''), band,
    class, CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, '~open', COUNT(*) FROM answers
    WHERE follow_up = 'open' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO reason_days SELECT site, created_at / 86400000, survey, COALESCE(step, ''), band,
    class, CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, '~open', COUNT(*) FROM answers
    WHERE follow_up = 'open' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
