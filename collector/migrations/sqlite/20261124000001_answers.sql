-- One row per answer: created when the score is chosen, completed by the follow-up.
CREATE TABLE answers (
    id          TEXT    PRIMARY KEY NOT NULL,  -- client-made UUID, lower case
    rev         INTEGER NOT NULL,              -- highest revision seen; older posts never overwrite
    site        TEXT    NOT NULL,
    survey      TEXT    NOT NULL,
    respondent  TEXT    NOT NULL,
    score       INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    class       TEXT    NOT NULL,              -- classic NPS class of the score
    band        TEXT    NOT NULL,              -- the survey's band of the score, when answered
    step        TEXT,
    page        TEXT,
    locale      TEXT    NOT NULL,
    user_id     TEXT,
    props       TEXT    NOT NULL DEFAULT '{}', -- JSON object
    follow_up   TEXT,                          -- NULL (score only) or 'open'
    open_text   TEXT,
    created_at  INTEGER NOT NULL,              -- Unix milliseconds, UTC
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX answers_site_created ON answers (site, created_at);
