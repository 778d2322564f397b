-- The digest: how often each member wants it by email ('weekly', the
-- default; 'daily'; 'never'), and one row per site, kind ('weekly',
-- 'daily') and period ('2026-W48', '2026-11-30') claimed by the collector
-- that sends it, so N collectors on one database send it once: a claim
-- lasts until claimed_until (then another may take it over, after a crash
-- mid-send); sent_at says it went (or was skipped: nothing to say).
ALTER TABLE users ADD COLUMN digest TEXT NOT NULL DEFAULT 'weekly'
    CHECK (digest IN ('weekly', 'daily', 'never'));
CREATE TABLE digests (
    site          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    period        TEXT    NOT NULL,
    claimed_until INTEGER NOT NULL,
    sent_at       INTEGER,
    skipped       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, kind, period)
) STRICT;
