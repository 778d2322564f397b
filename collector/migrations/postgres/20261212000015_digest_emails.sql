-- Who a digest was emailed to: one row per recipient as each email goes, so a
-- digest sent again after a failed email (when its claim runs out) goes only
-- to those it has not reached, never twice to the others.
CREATE TABLE digest_emails (
    site    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    period  TEXT    NOT NULL,
    email   TEXT    NOT NULL,
    sent_at BIGINT  NOT NULL,
    PRIMARY KEY (site, kind, period, email)
);
