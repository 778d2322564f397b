-- The traits of `identify` an answer keeps, for segments: only the keys its
-- site lists in `keep_traits` (a JSON object, like `props`; NULL for none).
ALTER TABLE answers ADD COLUMN traits TEXT;
