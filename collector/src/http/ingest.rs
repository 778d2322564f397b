//! `POST /v1/responses`: create or complete one answer, idempotent on its id.

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use survey::{Answer, FollowUp, OTHER, Score, Survey, ui_strings};

use super::{ApiError, AppState};
use crate::config::Site;
use crate::store::{NewAnswer, Upsert};

/// Create or complete an answer, idempotent on its id; the highest revision wins.
#[utoipa::path(post, path = "/v1/responses", request_body = survey::Answer,
    responses(
        (status = 200, body = super::openapi::Stored),
        (status = 400, body = super::openapi::ErrorBody, description = "Not JSON"),
        (status = 403, body = super::openapi::ErrorBody, description = "Origin not allowed for the site"),
        (status = 409, body = super::openapi::ErrorBody, description = "The id belongs to another answer"),
        (status = 413, body = super::openapi::ErrorBody),
        (status = 415, body = super::openapi::ErrorBody),
        (status = 422, body = super::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = super::openapi::ErrorBody, description = "Rate limited; see Retry-After"),
        (status = 503, body = super::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn post_response(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_content_type(&headers)?;
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "body_unreadable", rejection.body_text()).field("body")
    })?;
    let answer = decode_answer(&body)?;
    let site = posting_site(&state, &answer.site, &headers)?;
    let (mut record, dropped) = prepare(site, answer)?;
    record.events = state.events_of(&site.key);
    // The site's quota pays for answers that can be stored only: forged and
    // invalid posts never spend it.
    if let Err(wait) = state.inner.per_site.check(&site.key) {
        return Ok(super::limits::too_many(wait));
    }
    let (id, rev) = (record.id.clone(), record.rev);
    match state.store().upsert(record).await {
        Ok(Upsert::IdTaken) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "id_taken",
            "this answer id belongs to another site, survey or respondent",
        )
        .field("id")),
        Ok(outcome) => {
            if outcome == Upsert::Stored {
                state
                    .metrics()
                    .answers_stored
                    .get_or_create(&crate::metrics::SiteLabels {
                        site: site.key.clone(),
                    })
                    .inc();
            }
            Ok(axum::Json(super::openapi::Stored {
                id,
                rev,
                stored: outcome == Upsert::Stored,
                dropped,
            })
            .into_response())
        }
        Err(e) => Err(ApiError::unavailable(e)),
    }
}

/// The site a browser posts to (an answer, a display): known, and the
/// page's origin one of its own. A browser always names the page's
/// origin; clients without an Origin (servers, curl) are not browsers and
/// pass.
pub fn posting_site<'a>(
    state: &'a AppState,
    key: &str,
    headers: &HeaderMap,
) -> Result<&'a Site, ApiError> {
    let site = state
        .site(key)
        .ok_or_else(|| ApiError::unprocessable("site", "unknown_site", "no such site"))?;
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| site.allows_origin(o))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not post for this site",
        )
        .field("origin"));
    }
    Ok(site)
}

/// The body as an answer: strict JSON (the props excepted: whatever a page
/// put there is read, and what does not fit is dropped later), free texts of
/// the follow-up cleaned. No I/O; the fuzz target drives it with arbitrary
/// bytes.
pub fn decode_answer(body: &[u8]) -> Result<Answer, ApiError> {
    let mut answer: Answer = decode(body)?;
    match &mut answer.follow_up {
        Some(FollowUp::Open { text }) => *text = clean_text(text),
        Some(FollowUp::Closed {
            other: Some(text), ..
        }) => *text = clean_text(text),
        _ => {}
    }
    Ok(answer)
}

/// The row to store for an answer of `site`, and the names of what the page
/// passed in that was dropped (see [`Answer::clean_context`]): its survey
/// found, the context cleaned, the answer validated by the shared model,
/// class and band worked out. No I/O.
pub fn prepare(site: &Site, mut answer: Answer) -> Result<(NewAnswer, Vec<String>), ApiError> {
    let survey = site
        .survey(&answer.survey)
        .ok_or_else(|| ApiError::unprocessable("survey", "unknown_survey", "no such survey"))?;
    let given_user = answer.user_id.clone();
    let mut dropped = answer.clean_context(survey, clean_text);
    let (traits, not_kept) = kept_traits(site, &answer.traits);
    answer.traits = traits;
    dropped.extend(not_kept);
    let score = answer
        .validate(survey)
        .map_err(|e| ApiError::unprocessable(e.field, e.code, e.message))?;
    // With the site's identity secret, a user id is verified when its hash
    // is that of the id as the page gave it (one the cleaner changed is not).
    let verified = match (&site.identity_secret, &answer.user_id) {
        (Some(secret), Some(user)) => Some(
            given_user.as_ref() == Some(user)
                && crate::identity::verified(secret, user, answer.user_hash.as_deref()),
        ),
        _ => None,
    };
    let props = answer.props.clone();
    let mut record = to_record(answer, score, survey)?;
    record.user_verified = verified;
    // The site's rules give a new answer its owner (kept while it has none).
    let prop = |name: &str| match props.get(name) {
        Some(survey::Prop::Text(v)) => Some(v.clone()),
        _ => None,
    };
    record.owner = site.inbox.owner_of(&crate::inbox::Seen {
        class: score.class(),
        band: &record.band,
        survey: &record.survey,
        step: record.step.as_deref(),
        prop: &prop,
    });
    Ok((record, dropped))
}

/// The traits the site keeps (`keep_traits`), texts cleaned; and the names
/// of the others, `traits.KEY` each (dropped: nothing else of them is
/// stored).
fn kept_traits(site: &Site, given: &survey::Props) -> (survey::Props, Vec<String>) {
    let mut kept = survey::Props::new();
    let mut dropped: Vec<String> = given
        .dropped()
        .iter()
        .map(|name| name.replacen("props.", "traits.", 1))
        .collect();
    for (key, value) in given.iter() {
        if !site.keep_traits.iter().any(|k| k == key) {
            dropped.push(format!("traits.{key}"));
            continue;
        }
        let value = match value {
            survey::Prop::Text(text) => survey::Prop::Text(clean_text(text)),
            other => other.clone(),
        };
        kept.push(key.clone(), Some(value));
    }
    (kept, dropped)
}

/// `application/json`, or `text/plain` as sent by `navigator.sendBeacon` (which
/// cannot set another type without a CORS preflight).
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match essence.as_deref() {
        Some("application/json" | "text/plain") => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the answer as application/json",
        )
        .field("content-type")),
    }
}

/// Strict JSON decoding (unknown fields refused, nothing after the object), with
/// the failing field named. A good body is read once, untracked; only a body
/// that fails is read again with the path of the failing field tracked
/// (tracking costs every body; a bad one is at most read twice).
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !inner.is_data() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {inner}"),
            )
            .field("body");
        }
        let message = inner.to_string();
        // A missing field, and an unknown one inside a tagged enum, are reported
        // at the parent: name the field itself.
        let named = message.split('`').nth(1).filter(|_| {
            message.starts_with("missing field") || message.starts_with("unknown field")
        });
        let field = match (path.as_str(), named) {
            (".", Some(name)) => name.to_owned(),
            (parent, Some(name)) if parent != name && !parent.ends_with(&format!(".{name}")) => {
                format!("{parent}.{name}")
            }
            (path, _) => path.to_owned(),
        };
        let message = message.split(" at line ").next().unwrap_or("").to_owned();
        ApiError::unprocessable(&field, "invalid_field", message)
    })?;
    de.end().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "unexpected data after the JSON object",
        )
        .field("body")
    })?;
    Ok(value)
}

/// Free texts as stored, every one of them (follow-up texts, step, page,
/// user id, text props): what [`survey::strip_invisible`] removes is removed
/// (controls but the line break, bidi overrides, zero-width and tag
/// characters), then Unicode NFC (so equal texts are equal bytes), ends
/// trimmed. Removal comes first: a removed character between a letter and its
/// accent would otherwise leave them uncomposed (found by the fuzzer).
pub fn clean_text(text: &str) -> String {
    if plain_ascii(text) {
        return text.trim().to_owned();
    }
    clean_any_text(text)
}

/// Printable ASCII and line breaks (most texts): nothing to remove, and
/// already NFC.
fn plain_ascii(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
}

fn clean_any_text(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    survey::strip_invisible(text)
        .nfc()
        .collect::<String>()
        .trim()
        .to_owned()
}

fn to_record(answer: Answer, score: Score, survey: &Survey) -> Result<NewAnswer, ApiError> {
    let band = survey
        .band(score)
        .ok_or_else(|| ApiError::internal("bands checked at start-up do not cover a score"))?;
    let props = serde_json::to_string(&answer.props).map_err(ApiError::internal)?;
    let traits = if answer.traits.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&answer.traits).map_err(ApiError::internal)?)
    };
    let mut record = NewAnswer {
        id: answer.id.to_ascii_lowercase(),
        rev: answer.rev,
        site: answer.site,
        survey: answer.survey,
        respondent: answer.respondent,
        score: score.get(),
        class: score.class().as_str(),
        band: band.id.clone(),
        step: answer.step,
        page: answer.page,
        locale: answer.locale,
        user_id: answer.user_id,
        user_verified: None,
        props,
        traits,
        first_survey: answer.first_survey,
        cta: answer.cta,
        follow_up: answer.follow_up.as_ref().map(FollowUp::kind),
        open_text: None,
        reason_ids: None,
        reason_texts: None,
        other_text: None,
        owner: None,
        at_millis: now_millis(),
        events: None,
    };
    match answer.follow_up {
        None => {}
        Some(FollowUp::Open { text }) => record.open_text = Some(text),
        Some(FollowUp::Closed { reasons, other }) => {
            // Stored in the band's configured order, never in display order; the
            // texts are those the respondent saw, in their locale.
            let (ids, texts): (Vec<&str>, Vec<String>) = band
                .reasons
                .iter()
                .filter(|r| reasons.contains(&r.id))
                .map(|r| {
                    (
                        r.id.as_str(),
                        r.text.get(&record.locale).cloned().unwrap_or_default(),
                    )
                })
                .chain(
                    reasons
                        .iter()
                        .any(|r| r == OTHER)
                        .then(|| (OTHER, ui_strings(&record.locale).other.to_owned())),
                )
                .unzip();
            record.reason_ids = Some(ids.join(";"));
            record.reason_texts = Some(texts.join("; "));
            record.other_text = other;
        }
    }
    Ok(record)
}

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::{clean_any_text, clean_text, plain_ascii};

    #[test]
    fn ascii_texts_take_a_short_cut_to_the_same_result() {
        // Mostly printable, so that both ways are taken often; every ASCII
        // character (controls, tab, carriage return, DEL) now and then.
        let mut rng = fastrand::Rng::with_seed(21);
        let mut printable = 0;
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(0..12))
                .map(|_| match rng.u8(0..10) {
                    0 => char::from(rng.u8(0..128)),
                    1 => '\n',
                    _ => char::from(rng.u8(b' '..=b'~')),
                })
                .collect();
            printable += usize::from(plain_ascii(&text));
            assert_eq!(clean_text(&text), clean_any_text(&text), "{text:?}");
        }
        assert!((2_000..18_000).contains(&printable), "{printable}");
    }

    #[test]
    fn texts_are_normalised_and_stripped_of_controls() {
        // "é" as e + combining accent becomes the single NFC character.
        assert_eq!(clean_text("cafe\u{301}"), "caf\u{e9}");
        assert_eq!(clean_text("a\u{0}b\u{7}c\u{1b}[31m"), "abc[31m");
        assert_eq!(clean_text("line one\r\nline two\n"), "line one\nline two");
        assert_eq!(clean_text("tab\there"), "tab here");
        assert_eq!(clean_text("\u{202e}gnp.exe"), "gnp.exe");
        assert_eq!(clean_text("  \u{200b}ok\u{feff}  "), "ok");
        assert_eq!(clean_text("tag\u{e0041}\u{e007f}s"), "tags");
        // A control character between a letter and its accent: removed first,
        // then the two compose (the fuzzer's find).
        assert_eq!(clean_text("K\u{7}\u{301}"), "\u{1e30}");
        for text in ["K\u{7}\u{301}", "a\r\n\u{301}b", " \u{301}x\t"] {
            let once = clean_text(text);
            assert_eq!(clean_text(&once), once, "{text:?}");
        }
    }
}
