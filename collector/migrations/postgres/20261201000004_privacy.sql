-- Verified identify: whether an answer's user id came with the site's HMAC of
-- it. 1 verified, 0 not (the site has a secret and the hash was missing or
-- wrong), NULL when the site has no secret or the answer no user id.
ALTER TABLE answers ADD COLUMN user_verified BIGINT;

-- Append-only record of who did what, to what, when and from where
-- (erasures, retention runs; team access adds sign-ins and the rest).
CREATE TABLE audit (
    id      BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT  NOT NULL,              -- Unix milliseconds, UTC
    site    TEXT,                          -- NULL for instance-wide actions
    actor   TEXT    NOT NULL,              -- 'cli', 'token:export', 'retention', ...
    action  TEXT    NOT NULL,              -- 'erase', 'retention', ...
    detail  TEXT    NOT NULL DEFAULT '{}', -- JSON object
    client  TEXT                           -- the client address, when over HTTP
);

CREATE INDEX audit_site ON audit (site, id);
