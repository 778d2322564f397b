-- Displays: that a card was shown, and whether it was closed unanswered
-- (dismissed), without personal data: the card's display id, the site,
-- survey and step. One row per display id; the card posts it when it shows
-- and again when it is closed before any score (through the same outbox as
-- answers, so a repeat is harmless). `created_at` is when the collector
-- first heard of it. Counted per UTC hour (and per folded day, as answers
-- are: see the rollup fold migration) for the response rate.
CREATE TABLE displays (
    id         TEXT    PRIMARY KEY,
    site       TEXT    NOT NULL,
    survey     TEXT    NOT NULL,
    step       TEXT,
    created_at INTEGER NOT NULL,
    dismissed  INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
-- The displays of a part-hour, and retention.
CREATE INDEX displays_time ON displays (site, created_at);

CREATE TABLE display_hours (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    shown     INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step)
) STRICT, WITHOUT ROWID;
CREATE TABLE display_days (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    shown     INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER display_insert AFTER INSERT ON displays BEGIN
    INSERT INTO display_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), 1, new.dismissed)
    ON CONFLICT DO UPDATE SET shown = shown + 1, dismissed = dismissed + excluded.dismissed;
    INSERT INTO display_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), 1, new.dismissed
        WHERE new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET shown = shown + 1, dismissed = dismissed + excluded.dismissed;
END;
-- Only `dismissed` changes (ingest never rewrites the rest).
CREATE TRIGGER display_update AFTER UPDATE OF dismissed ON displays
WHEN old.dismissed IS NOT new.dismissed BEGIN
    UPDATE display_hours SET dismissed = dismissed + new.dismissed - old.dismissed
        WHERE site = new.site AND period = new.created_at / 3600000 AND survey = new.survey
        AND step = COALESCE(new.step, '');
    UPDATE display_days SET dismissed = dismissed + new.dismissed - old.dismissed
        WHERE site = new.site AND period = new.created_at / 86400000 AND survey = new.survey
        AND step = COALESCE(new.step, '');
END;
CREATE TRIGGER display_delete AFTER DELETE ON displays BEGIN
    UPDATE display_hours SET shown = shown - 1, dismissed = dismissed - old.dismissed
        WHERE site = old.site AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '');
    UPDATE display_days SET shown = shown - 1, dismissed = dismissed - old.dismissed
        WHERE site = old.site AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '');
END;

-- Open follow-ups are counted too, in the reason rollups under '~open' (no
-- combination of reason ids, which are letters, digits, '-' and '_'): the
-- report's completion of the follow-up is answers with one over answers.
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
        CASE WHEN new.follow_up = 'closed' THEN COALESCE(new.reason_ids, '') ELSE '~open' END, 1
        WHERE new.follow_up IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        CASE WHEN new.follow_up = 'closed' THEN COALESCE(new.reason_ids, '') ELSE '~open' END, 1
        WHERE new.follow_up IS NOT NULL
        AND new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

DROP TRIGGER rollup_delete;
CREATE TRIGGER rollup_delete AFTER DELETE ON answers BEGIN
    UPDATE rollup_hours SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND score = old.score AND dismissed = (old.status = 'dismissed');
    UPDATE rollup_days SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND score = old.score AND dismissed = (old.status = 'dismissed');
    UPDATE reason_hours SET n = n - 1 WHERE old.follow_up IS NOT NULL AND site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed')
        AND reasons = CASE WHEN old.follow_up = 'closed' THEN COALESCE(old.reason_ids, '')
                           ELSE '~open' END;
    UPDATE reason_days SET n = n - 1 WHERE old.follow_up IS NOT NULL AND site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed')
        AND reasons = CASE WHEN old.follow_up = 'closed' THEN COALESCE(old.reason_ids, '')
                           ELSE '~open' END;
END;

DROP TRIGGER rollup_update_reasons;
CREATE TRIGGER rollup_update_reasons AFTER UPDATE OF site, survey, step, band, class, status,
    created_at, follow_up, reason_ids ON answers
WHEN (old.follow_up IS NOT NULL OR new.follow_up IS NOT NULL) AND (
     old.site IS NOT new.site OR old.survey IS NOT new.survey OR old.step IS NOT new.step
  OR old.band IS NOT new.band OR old.class IS NOT new.class
  OR (old.status = 'dismissed') IS NOT (new.status = 'dismissed')
  OR old.created_at / 3600000 IS NOT new.created_at / 3600000
  OR old.follow_up IS NOT new.follow_up OR old.reason_ids IS NOT new.reason_ids) BEGIN
    UPDATE reason_hours SET n = n - 1 WHERE old.follow_up IS NOT NULL AND site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed')
        AND reasons = CASE WHEN old.follow_up = 'closed' THEN COALESCE(old.reason_ids, '')
                           ELSE '~open' END;
    UPDATE reason_days SET n = n - 1 WHERE old.follow_up IS NOT NULL AND site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed')
        AND reasons = CASE WHEN old.follow_up = 'closed' THEN COALESCE(old.reason_ids, '')
                           ELSE '~open' END;
    INSERT INTO reason_hours SELECT new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        CASE WHEN new.follow_up = 'closed' THEN COALESCE(new.reason_ids, '') ELSE '~open' END, 1
        WHERE new.follow_up IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        CASE WHEN new.follow_up = 'closed' THEN COALESCE(new.reason_ids, '') ELSE '~open' END, 1
        WHERE new.follow_up IS NOT NULL
        AND new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The open follow-ups stored so far.
INSERT INTO reason_hours SELECT site, created_at / 3600000, survey, COALESCE(step, ''), band,
    class, status = 'dismissed', '~open', COUNT(*) FROM answers
    WHERE follow_up = 'open' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO reason_days SELECT site, created_at / 86400000, survey, COALESCE(step, ''), band,
    class, status = 'dismissed', '~open', COUNT(*) FROM answers
    WHERE follow_up = 'open' AND created_at / 86400000 < (SELECT day FROM rollup_folded)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
