-- The inbox: each answer's place in the team's work, what was done about it,
-- and the replies that go back to the respondent on the site.
ALTER TABLE answers ADD COLUMN status TEXT NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'open', 'waiting', 'resolved', 'dismissed'));
ALTER TABLE answers ADD COLUMN owner_id BIGINT;           -- users.id; shown unassigned when not an agent
ALTER TABLE answers ADD COLUMN version BIGINT NOT NULL DEFAULT 1;  -- each change adds one (If-Match)
ALTER TABLE answers ADD COLUMN resolution TEXT;           -- from the site's list, when resolved
ALTER TABLE answers ADD COLUMN resolved_at BIGINT;
ALTER TABLE answers ADD COLUMN first_action_at BIGINT;    -- a person's first change, note or reply
ALTER TABLE answers ADD COLUMN overdue_at BIGINT;         -- when answer.overdue went out (once)

-- Newest first, stable (keyset) pages; per status; per owner.
CREATE INDEX answers_inbox ON answers (site, created_at, id);
CREATE INDEX answers_site_status ON answers (site, status, created_at);
CREATE INDEX answers_owner ON answers (site, owner_id) WHERE owner_id IS NOT NULL;

-- Notes, changes and replies, oldest first per answer.
CREATE TABLE answer_events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    answer_id TEXT    NOT NULL,
    site      TEXT    NOT NULL,
    at        BIGINT  NOT NULL,                  -- Unix milliseconds, UTC
    author    TEXT    NOT NULL,                  -- an email, 'rules', 'respondent'
    kind      TEXT    NOT NULL,                  -- note, status, owner, tags, reply, reply_seen, overdue
    body      TEXT,                              -- a note's or a reply's text
    detail    TEXT    NOT NULL DEFAULT '{}'      -- JSON object: from, to, ...
);
CREATE INDEX answer_events_answer ON answer_events (answer_id, id);

-- Tags per site, matched without case; an answer's tags.
CREATE TABLE tags (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site   TEXT NOT NULL,
    name   TEXT NOT NULL,
    folded TEXT NOT NULL,                        -- lower case: one tag per spelling
    UNIQUE (site, folded)
);
CREATE TABLE answer_tags (
    answer_id TEXT   NOT NULL,
    tag_id    BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (answer_id, tag_id)
);
CREATE INDEX answer_tags_tag ON answer_tags (tag_id, answer_id);

-- What each person has opened (read/unread is theirs, not the workflow's).
CREATE TABLE answer_reads (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    answer_id TEXT   NOT NULL,
    read_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, answer_id)
);

-- Replies that wait for their respondent to come back to the site. `rkey`
-- (of the respondent id) and `ukey` (of the verified user's hash) are the
-- 8 hex digits the site's configuration lists while a reply waits.
CREATE TABLE replies (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    answer_id  TEXT   NOT NULL,
    site       TEXT   NOT NULL,
    respondent TEXT   NOT NULL,
    user_id    TEXT,                             -- a verified user id, when the answer had one
    rkey       TEXT   NOT NULL,
    ukey       TEXT,
    body       TEXT   NOT NULL,
    locale     TEXT   NOT NULL,
    author     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,                  -- not shown after this
    seen_at    BIGINT
);
CREATE INDEX replies_waiting ON replies (site, expires_at) WHERE seen_at IS NULL;
CREATE INDEX replies_answer ON replies (answer_id);

-- Text search over open and "Other" texts, accents and case folded the way
-- SQLite's `remove_diacritics` does for the letters Spanish and its
-- neighbours use ("llegó" finds "llego" and back), without an extension.
-- Accented capitals are folded by `translate` too: under the C locale
-- `lower` changes only ASCII letters.
CREATE FUNCTION pulso_fold(t TEXT) RETURNS TEXT
LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(lower(coalesce(t, '')),
                     'áàâäãåāéèêëēíìîïīóòôöõøōúùûüūñçýÁÀÂÄÃÅĀÉÈÊËĒÍÌÎÏĪÓÒÔÖÕØŌÚÙÛÜŪÑÇÝ',
                     'aaaaaaaeeeeeiiiiiooooooouuuuuncyaaaaaaaeeeeeiiiiiooooooouuuuuncy')
$$;
CREATE INDEX answers_text ON answers
    USING GIN (to_tsvector('simple', pulso_fold(open_text) || ' ' || pulso_fold(other_text)));
