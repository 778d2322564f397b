-- Team access: people with their own sign-in, a role per site, sessions kept
-- on the server, API tokens per person, and one-time set-password links.
-- Every secret is stored as its SHA-256 (passwords as Argon2id): the
-- database never holds one in clear.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,     -- lower case
    name          TEXT    NOT NULL,
    password_hash TEXT,                        -- Argon2id PHC string; NULL until set
    owner         INTEGER NOT NULL DEFAULT 0,  -- 1: every right on every site
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site    TEXT    NOT NULL,
    role    TEXT    NOT NULL CHECK (role IN ('viewer', 'agent', 'admin')),
    PRIMARY KEY (user_id, site)
) STRICT;

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,          -- SHA-256 of the cookie's value, hex
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,             -- the absolute limit
    client       TEXT                          -- where it was signed in from
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,      -- SHA-256 of the token, hex
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    sites        TEXT    NOT NULL,             -- JSON list of site keys
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE invites (
    token_hash TEXT    PRIMARY KEY,            -- SHA-256 of the link's token, hex
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
