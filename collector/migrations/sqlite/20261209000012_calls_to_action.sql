-- The thank-you's call to action: what the card said of it with the answer
-- (NULL: none was offered; 0: offered; 1: clicked, a later revision), and
-- per UTC hour (and folded day, as answers are: see the rollup fold
-- migration) the answers that were offered one, by whether they clicked,
-- for the click rate per band. Kept by triggers in the transaction of every
-- change of an answer, like the other rollups; only answers with a call to
-- action fire them.
ALTER TABLE answers ADD COLUMN cta INTEGER;

CREATE TABLE cta_hours (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    band      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    dismissed INTEGER NOT NULL,
    clicked   INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, dismissed, clicked)
) STRICT, WITHOUT ROWID;
CREATE TABLE cta_days (
    site      TEXT    NOT NULL,
    period    INTEGER NOT NULL,
    survey    TEXT    NOT NULL,
    step      TEXT    NOT NULL,
    band      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    dismissed INTEGER NOT NULL,
    clicked   INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (site, period, survey, step, band, class, dismissed, clicked)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER cta_insert AFTER INSERT ON answers WHEN new.cta IS NOT NULL BEGIN
    INSERT INTO cta_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed', new.cta, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO cta_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed', new.cta, 1
        WHERE new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER cta_delete AFTER DELETE ON answers WHEN old.cta IS NOT NULL BEGIN
    UPDATE cta_hours SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND clicked = old.cta;
    UPDATE cta_days SET n = n - 1 WHERE site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND clicked = old.cta;
END;

CREATE TRIGGER cta_update AFTER UPDATE OF site, survey, step, band, class, status, created_at,
    cta ON answers
WHEN (old.cta IS NOT NULL OR new.cta IS NOT NULL) AND (
     old.cta IS NOT new.cta OR old.site IS NOT new.site OR old.survey IS NOT new.survey
  OR old.step IS NOT new.step OR old.band IS NOT new.band OR old.class IS NOT new.class
  OR (old.status = 'dismissed') IS NOT (new.status = 'dismissed')
  OR old.created_at / 3600000 IS NOT new.created_at / 3600000) BEGIN
    UPDATE cta_hours SET n = n - 1 WHERE old.cta IS NOT NULL AND site = old.site
        AND period = old.created_at / 3600000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND clicked = old.cta;
    UPDATE cta_days SET n = n - 1 WHERE old.cta IS NOT NULL AND site = old.site
        AND period = old.created_at / 86400000 AND survey = old.survey
        AND step = COALESCE(old.step, '') AND band = old.band AND class = old.class
        AND dismissed = (old.status = 'dismissed') AND clicked = old.cta;
    INSERT INTO cta_hours SELECT new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed', new.cta, 1
        WHERE new.cta IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO cta_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed', new.cta, 1
        WHERE new.cta IS NOT NULL
        AND new.created_at / 86400000 < (SELECT day FROM rollup_folded)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
