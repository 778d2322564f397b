-- Day rollups only for days before a watermark. An answer of today (the
-- usual) now writes its hour's rollup alone: one hot page per commit, not
-- two. `pulso` folds each finished UTC day from its hours into the day
-- rollups and moves `day` past it (`Store::fold_rollups`); a report reads
-- the days from `day` on from the hours. A change of an answer of a folded
-- day (a dismissal, an erasure, a late answer) still moves its day's counts.
--
-- Writers and the fold meet on advisory lock 7210 (no row is locked, so
-- writers do not contend with each other): every change takes it shared and
-- reads `day` after it; the fold takes it exclusive, so it waits for the
-- writers in flight and sees their answers, and the writers after it see
-- the new `day`.
CREATE TABLE rollup_folded (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    -- Days since the Unix epoch: the day rollups hold the days before it.
    day BIGINT NOT NULL
);
INSERT INTO rollup_folded VALUES (1, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) / 86400);
DELETE FROM rollup_days WHERE period >= (SELECT day FROM rollup_folded);
DELETE FROM reason_days WHERE period >= (SELECT day FROM rollup_folded);

CREATE OR REPLACE FUNCTION pulso_rollup_apply(changes pulso_change[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    folded BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7210);
    SELECT day INTO folded FROM rollup_folded;
    INSERT INTO rollup_hours AS r
    SELECT site, created_at / 3600000, survey, step, band, class, score, dismissed, SUM(n)
    FROM unnest(changes) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, score, dismissed)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO rollup_days AS r
    SELECT site, created_at / 86400000, survey, step, band, class, score, dismissed, SUM(n)
    FROM unnest(changes) WHERE created_at / 86400000 < folded
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
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
    FROM unnest(changes) WHERE reasons IS NOT NULL AND created_at / 86400000 < folded
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (site, period, survey, step, band, class, dismissed, reasons)
    DO UPDATE SET n = r.n + excluded.n;
END $$;
