-- Day rollups only for days before a watermark. An answer of today (the
-- usual) now writes its hour's rollup alone: one hot page per commit, not
-- two. `pulso` folds each finished UTC day from its hours into the day
-- rollups and moves `day` past it (`Store::fold_rollups`, one write
-- transaction); a report reads the days from `day` on from the hours.
-- A change of an answer of a folded day (a dismissal, an erasure, a late
-- answer) still moves its day's counts, as before.
CREATE TABLE rollup_folded (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    -- Days since the Unix epoch: the day rollups hold the days before it.
    day INTEGER NOT NULL
) STRICT;
INSERT INTO rollup_folded VALUES (1, CAST(strftime('%s', 'now') AS INTEGER) / 86400);
DELETE FROM rollup_days WHERE period >= (SELECT day FROM rollup_folded);
DELETE FROM reason_days WHERE period >= (SELECT day FROM rollup_folded);

DROP TRIGGER rollup_insert;
CREATE TRIGGER rollup_insert AFTER INSERT ON answers BEGIN
    INSERT INTO rollup_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO rollup_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1
        WHERE new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_hours SELECT new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        COALESCE(new.reason_ids, ''), 1 WHERE new.follow_up = 'closed'
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        COALESCE(new.reason_ids, ''), 1 WHERE new.follow_up = 'closed'
        AND new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- (rollup_delete stays: its updates of a day not folded find no row.)

DROP TRIGGER rollup_update_scores;
CREATE TRIGGER rollup_update_scores AFTER UPDATE OF site, survey, step, band, class, score,
    status, created_at ON answers
WHEN old.site IS NOT new.site OR old.survey IS NOT new.survey OR old.step IS NOT new.step
  OR old.band IS NOT new.band OR old.class IS NOT new.class OR old.score IS NOT new.score
  OR (old.status = 'dismissed') IS NOT (new.status = 'dismissed')
  OR old.created_at / 3600000 IS NOT new.created_at / 3600000 BEGIN
    UPDATE rollup_hours SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND score = old.score AND dismissed = (old.status = 'dismissed');
    UPDATE rollup_days SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND score = old.score AND dismissed = (old.status = 'dismissed');
    INSERT INTO rollup_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO rollup_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1
        WHERE new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

DROP TRIGGER rollup_update_reasons;
CREATE TRIGGER rollup_update_reasons AFTER UPDATE OF site, survey, step, band, class, status,
    created_at, follow_up, reason_ids ON answers
WHEN (old.follow_up = 'closed' OR new.follow_up = 'closed') AND (
     old.site IS NOT new.site OR old.survey IS NOT new.survey OR old.step IS NOT new.step
  OR old.band IS NOT new.band OR old.class IS NOT new.class
  OR (old.status = 'dismissed') IS NOT (new.status = 'dismissed')
  OR old.created_at / 3600000 IS NOT new.created_at / 3600000
  OR old.follow_up IS NOT new.follow_up OR old.reason_ids IS NOT new.reason_ids) BEGIN
    UPDATE reason_hours SET n = n - 1 WHERE old.follow_up = 'closed' AND site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND reasons = COALESCE(old.reason_ids, '');
    UPDATE reason_days SET n = n - 1 WHERE old.follow_up = 'closed' AND site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND reasons = COALESCE(old.reason_ids, '');
    INSERT INTO reason_hours SELECT new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        COALESCE(new.reason_ids, ''), 1 WHERE new.follow_up = 'closed'
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        COALESCE(new.reason_ids, ''), 1 WHERE new.follow_up = 'closed'
        AND new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
