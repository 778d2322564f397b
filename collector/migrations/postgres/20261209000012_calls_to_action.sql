-- The thank-you's call to action: what the card said of it with the answer
-- (NULL: none was offered; 0: offered; 1: clicked, a later revision), and
-- per UTC hour and day the answers that were offered one, by whether they
-- clicked, for the click rate per band. Kept by statement triggers in the
-- transaction of every change of an answer, a statement's changes summed
-- per key and applied in key order, as the other rollups are (collectors
-- sharing the database never deadlock); answers without a call to action
-- add nothing to them.
ALTER TABLE answers ADD COLUMN cta BIGINT;

CREATE TABLE cta_hours (
    site      TEXT   NOT NULL,
    period    BIGINT NOT NULL,
    survey    TEXT   NOT NULL,
    step      TEXT   NOT NULL,
    band      TEXT   NOT NULL,
    class     TEXT   NOT NULL,
    dismissed BIGINT NOT NULL,
    clicked   BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, dismissed, clicked)
);
CREATE TABLE cta_days (LIKE cta_hours INCLUDING ALL);

CREATE FUNCTION pulso_cta_apply(changes JSONB) RETURNS void LANGUAGE sql AS $$
    INSERT INTO cta_hours AS r
    SELECT c->>'site', CAST(c->>'at' AS BIGINT) / 3600000, c->>'survey', c->>'step',
        c->>'band', c->>'class', CAST(c->>'dismissed' AS BIGINT), CAST(c->>'clicked' AS BIGINT),
        SUM(CAST(c->>'n' AS BIGINT))
    FROM jsonb_array_elements(changes) c
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(CAST(c->>'n' AS BIGINT)) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, dismissed, clicked)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO cta_days AS r
    SELECT c->>'site', CAST(c->>'at' AS BIGINT) / 86400000, c->>'survey', c->>'step',
        c->>'band', c->>'class', CAST(c->>'dismissed' AS BIGINT), CAST(c->>'clicked' AS BIGINT),
        SUM(CAST(c->>'n' AS BIGINT))
    FROM jsonb_array_elements(changes) c
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(CAST(c->>'n' AS BIGINT)) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, dismissed, clicked)
    DO UPDATE SET n = r.n + excluded.n;
$$;

-- One answer's key in the call-to-action rollups, counted `n` times.
CREATE FUNCTION pulso_cta_key(site TEXT, at BIGINT, survey TEXT, step TEXT, band TEXT,
    class TEXT, status TEXT, cta BIGINT, n INTEGER) RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('site', site, 'at', at, 'survey', survey,
        'step', COALESCE(step, ''), 'band', band, 'class', class,
        'dismissed', CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END, 'clicked', cta, 'n', n)
$$;

CREATE FUNCTION pulso_cta_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT COALESCE(jsonb_agg(pulso_cta_key(a.site, a.created_at, a.survey, a.step, a.band,
            a.class, a.status, a.cta, 1)), '[]') INTO changes
        FROM new_rows a WHERE a.cta IS NOT NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only the answers whose key in these rollups changed: out under
        -- the old key, in under the new.
        SELECT COALESCE(jsonb_agg(k), '[]') INTO changes FROM (
            SELECT CASE WHEN side = 0 THEN pulso_cta_key(o.site, o.created_at, o.survey, o.step,
                        o.band, o.class, o.status, o.cta, -1)
                   ELSE pulso_cta_key(n.site, n.created_at, n.survey, n.step, n.band, n.class,
                        n.status, n.cta, 1) END AS k
            FROM old_rows o JOIN new_rows n ON n.id = o.id CROSS JOIN (VALUES (0), (1)) s (side)
            WHERE CASE WHEN side = 0 THEN o.cta IS NOT NULL ELSE n.cta IS NOT NULL END
              AND (o.cta IS DISTINCT FROM n.cta OR o.site <> n.site OR o.survey <> n.survey
                OR o.step IS DISTINCT FROM n.step OR o.band <> n.band OR o.class <> n.class
                OR (o.status = 'dismissed') <> (n.status = 'dismissed')
                OR o.created_at / 3600000 <> n.created_at / 3600000)
        ) keys;
    ELSE
        SELECT COALESCE(jsonb_agg(pulso_cta_key(a.site, a.created_at, a.survey, a.step, a.band,
            a.class, a.status, a.cta, -1)), '[]') INTO changes
        FROM old_rows a WHERE a.cta IS NOT NULL;
    END IF;
    IF jsonb_array_length(changes) > 0 THEN
        PERFORM pulso_cta_apply(changes);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cta_insert AFTER INSERT ON answers REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_cta_change();
CREATE TRIGGER cta_update AFTER UPDATE ON answers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_cta_change();
CREATE TRIGGER cta_delete AFTER DELETE ON answers REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pulso_cta_change();
