-- Team access: people with their own sign-in, a role per site, sessions kept
-- on the server, API tokens per person, and one-time set-password links.
-- Every secret is stored as its SHA-256 (passwords as Argon2id): the
-- database never holds one in clear.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,     -- lower case
    name          TEXT    NOT NULL,
    password_hash TEXT,                        -- Argon2id PHC string; NULL until set
    owner         BIGINT NOT NULL DEFAULT 0,  -- 1: every right on every site
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site    TEXT    NOT NULL,
    role    TEXT    NOT NULL CHECK (role IN ('viewer', 'agent', 'admin')),
    PRIMARY KEY (user_id, site)
);

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,          -- SHA-256 of the cookie's value, hex
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,             -- the absolute limit
    client       TEXT                          -- where it was signed in from
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,      -- SHA-256 of the token, hex
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    sites        TEXT    NOT NULL,             -- JSON list of site keys
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE invites (
    token_hash TEXT    PRIMARY KEY,            -- SHA-256 of the link's token, hex
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
