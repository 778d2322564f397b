-- One row per answer: created when the score is chosen, completed by the follow-up.
-- The same columns as the SQLite schema; integers are BIGINT, as the store reads them.
CREATE TABLE answers (
    id          TEXT    PRIMARY KEY NOT NULL,  -- client-made UUID, lower case
    rev         BIGINT  NOT NULL,              -- highest revision seen; older posts never overwrite
    site        TEXT    NOT NULL,
    survey      TEXT    NOT NULL,
    respondent  TEXT    NOT NULL,
    score       BIGINT  NOT NULL CHECK (score BETWEEN 0 AND 10),
    class       TEXT    NOT NULL,              -- classic NPS class of the score
    band        TEXT    NOT NULL,              -- the survey's band of the score, when answered
    step        TEXT,
    page        TEXT,
    locale      TEXT    NOT NULL,
    user_id     TEXT,
    props       TEXT    NOT NULL DEFAULT '{}', -- JSON object
    follow_up   TEXT,                          -- NULL (score only), 'open' or 'closed'
    open_text   TEXT,
    created_at  BIGINT  NOT NULL,              -- Unix milliseconds, UTC
    updated_at  BIGINT  NOT NULL
);

CREATE INDEX answers_site_created ON answers (site, created_at);
