-- Webhook outbox: one row per event, written in the transaction that stores the
-- answer, delivered (at least once) by the worker.
CREATE TABLE webhook_events (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,   -- idempotency key: SITE/WEBHOOK/ANSWER/PHASE
    site            TEXT    NOT NULL,
    webhook         TEXT    NOT NULL,
    answer_id       TEXT    NOT NULL,
    kind            TEXT    NOT NULL,          -- answer.created | answer.completed
    body            TEXT    NOT NULL,          -- exactly the bytes sent
    state           TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,          -- Unix milliseconds, UTC
    next_at         BIGINT  NOT NULL,          -- next attempt, while pending
    claimed_until   BIGINT,                    -- a worker is sending it until then
    last_attempt_at BIGINT,
    last_status     BIGINT,                    -- HTTP status of the last attempt
    last_error      TEXT,
    done_at         BIGINT                     -- delivered or given up
);

CREATE INDEX webhook_events_due ON webhook_events (next_at) WHERE state = 'pending';
CREATE INDEX webhook_events_hook ON webhook_events (site, webhook, state, id);
