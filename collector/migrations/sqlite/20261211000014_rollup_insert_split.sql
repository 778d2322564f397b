-- An answer's insert runs only the statements it needs. Before, one trigger ran
-- all four of its inserts for every answer, three of them an INSERT ... SELECT
-- whose WHERE was false for an answer of today without a follow-up (the usual
-- first revision): each still opened its table and, for the day rollups, read
-- the watermark. A trigger's WHEN is tested before its program starts, so the
-- usual answer now runs one statement.
DROP TRIGGER rollup_insert;
CREATE TRIGGER rollup_insert AFTER INSERT ON answers BEGIN
    INSERT INTO rollup_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER rollup_insert_reasons AFTER INSERT ON answers
WHEN new.follow_up IS NOT NULL BEGIN
    INSERT INTO reason_hours VALUES (new.site, new.created_at / 3600000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        CASE WHEN new.follow_up = 'closed' THEN COALESCE(new.reason_ids, '') ELSE '~open' END, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
-- A folded day's answer (a late one, or one restored): its day's rows too.
CREATE TRIGGER rollup_insert_folded AFTER INSERT ON answers
WHEN new.created_at / 86400000 < (SELECT day FROM rollup_folded) BEGIN
    INSERT INTO rollup_days VALUES (new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.score, new.status = 'dismissed', 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO reason_days SELECT new.site, new.created_at / 86400000, new.survey,
        COALESCE(new.step, ''), new.band, new.class, new.status = 'dismissed',
        CASE WHEN new.follow_up = 'closed' THEN COALESCE(new.reason_ids, '') ELSE '~open' END, 1
        WHERE new.follow_up IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
