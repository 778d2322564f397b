-- The watermark of the day rollups (see the SQLite migration of the same
-- name). On PostgreSQL the statement triggers go on keeping the day
-- rollups of every day: a batch's changes are summed before they are
-- applied, so the day's row costs a batch little, and writers need share
-- no lock with a fold. `day` only says which days a report may read from
-- the day rollups; a fold here just moves it.
CREATE TABLE rollup_folded (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    -- Days since the Unix epoch.
    day BIGINT NOT NULL
);
INSERT INTO rollup_folded VALUES (1, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) / 86400);
