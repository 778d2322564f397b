-- Closed follow-ups (reasons of the score's band, "Other" with text) and the
-- first-survey flag that chose between the open question and the closed list.
ALTER TABLE answers ADD COLUMN first_survey BIGINT;   -- 1, 0, or NULL when not said
ALTER TABLE answers ADD COLUMN reason_ids TEXT;       -- ';'-joined, in the band's configured order
ALTER TABLE answers ADD COLUMN reason_texts TEXT;     -- '; '-joined, as shown, in the answer's locale
ALTER TABLE answers ADD COLUMN other_text TEXT;

-- "Has this respondent (or user) answered on this site before?"
CREATE INDEX answers_site_respondent ON answers (site, respondent);
CREATE INDEX answers_site_user ON answers (site, user_id) WHERE user_id IS NOT NULL;
