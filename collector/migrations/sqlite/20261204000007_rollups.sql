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
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    band      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    score     INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, score, dismissed)
) STRICT, WITHOUT ROWID;
CREATE TABLE rollup_days (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    band      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    score     INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, score, dismissed)
) STRICT, WITHOUT ROWID;
-- Closed follow-ups only; `reasons` is the answer's reason_ids ('' for none).
CREATE TABLE reason_hours (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    band      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    dismissed INTEGER NOT NULL,
    reasons   TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, dismissed, reasons)
) STRICT, WITHOUT ROWID;
CREATE TABLE reason_days (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    band      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    dismissed INTEGER NOT NULL,
    reasons   TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, dismissed, reasons)
) STRICT, WITHOUT ROWID;

-- The latest "Other" texts of a band, an indexed read.
CREATE INDEX answers_other ON answers (site, band, created_at, id)
    WHERE other_text IS NOT NULL AND follow_up = 'closed';
-- The answers the team acted on, for the report's response times: as many
-- as people handled, not as answers came.
CREATE INDEX answers_handled ON answers (site, created_at)
    WHERE first_action_at IS NOT NULL OR resolved_at IS NOT NULL;

CREATE TRIGGER rollup_insert AFTER INSERT ON answers BEGIN
    INSERT INTO rollup_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO rollup_days VALUES (new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_hours SELECT new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        COALESCE(new.reason_ids, ''), 1 WHERE new.follow_up = 'closed'
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        COALESCE(new.reason_ids, ''), 1 WHERE new.follow_up = 'closed'
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER rollup_delete AFTER DELETE ON answers BEGIN
    UPDATE rollup_hours SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND score = old.score AND dismissed = (old.status = 'dismissed');
    UPDATE rollup_days SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND score = old.score AND dismissed = (old.status = 'dismissed');
    UPDATE reason_hours SET n = n - 1 WHERE old.follow_up = 'closed' AND site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND reasons = COALESCE(old.reason_ids, '');
    UPDATE reason_days SET n = n - 1 WHERE old.follow_up = 'closed' AND site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND reasons = COALESCE(old.reason_ids, '');
END;

-- A change moves the answer's count only when what the rollups key on
-- changed (a revision's follow-up, a dismissal): the old key loses one,
-- the new one gains one.
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
    INSERT INTO rollup_days VALUES (new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

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
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The answers stored so far.
INSERT INTO rollup_hours SELECT site, created_at / 3600000, survey, COALESCE(step, ''), band,
    class, score, status = 'dismissed', COUNT(*) FROM answers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO rollup_days SELECT site, created_at / 86400000, survey, COALESCE(step, ''), band,
    class, score, status = 'dismissed', COUNT(*) FROM answers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO reason_hours SELECT site, created_at / 3600000, survey, COALESCE(step, ''), band,
    class, status = 'dismissed', COALESCE(reason_ids, ''), COUNT(*) FROM answers
    WHERE follow_up = 'closed' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO reason_days SELECT site, created_at / 86400000, survey, COALESCE(step, ''), band,
    class, status = 'dismissed', COALESCE(reason_ids, ''), COUNT(*) FROM answers
    WHERE follow_up = 'closed' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
