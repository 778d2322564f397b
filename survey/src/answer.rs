//! The answer as it travels from the widget to the collector, and its validation.

use serde::{Deserialize, Serialize};

use crate::band::{OTHER, Score};
use crate::context::Props;
use crate::definition::{Survey, is_id};

/// Longest free text a respondent may send, in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 2000;

/// One respondent's answer to one survey display, created when the score is chosen
/// and completed by the follow-up. Posted again with a higher `rev` each time it
/// changes; the collector keeps the highest revision it has seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Client-made UUID; the idempotency key of the answer.
    pub id: String,
    /// Revision of this answer, from 1; a lower or equal revision never overwrites.
    #[serde(deserialize_with = "integral")]
    pub rev: u32,
    pub site: String,
    pub survey: String,
    /// Random id the browser keeps for the respondent (no cookie).
    pub respondent: String,
    #[serde(deserialize_with = "integral")]
    pub score: u8,
    /// Funnel step that made the survey due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Path of the page the survey was shown on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Locale the survey was shown in.
    pub locale: String,
    /// The site's user id for an identified visitor (`pulso('identify', ID)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// HMAC-SHA256 of `user_id` keyed with the site's identity secret, in hex,
    /// computed by the site's backend (`pulso('identify', ID, TRAITS, {hash})`):
    /// with a secret configured, only a user id whose hash matches is trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    /// Properties given with the funnel step (`pulso('track', STEP, PROPS)`):
    /// at most 32, names of letters, digits, `-` and `_`, values booleans,
    /// finite numbers or texts of at most 500 characters. What does not fit is
    /// dropped (and named in the response), never a reason to refuse the answer.
    #[serde(default, skip_serializing_if = "Props::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, Prop>))]
    pub props: Props,
    /// Traits of the identified visitor (`pulso('identify', ID, TRAITS)`),
    /// for segments: the card sends only the keys its site lists in
    /// `keep_traits`, and the collector keeps only those. Same rules as
    /// `props`.
    #[serde(default, skip_serializing_if = "Props::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, Prop>))]
    pub traits: Props,
    /// Whether this is the respondent's first survey on the site, as the widget
    /// decided it (browser storage, confirmed by the collector); it chose the
    /// open question (first) or the band's closed list (later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_survey: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// The thank-you's call to action: `false` when the card offered one
    /// (sent with the revision the thank-you follows), `true` once the
    /// respondent clicked it (a revision of its own); absent when none was
    /// offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<bool>,
}

/// A whole number as JSON may write it: `7`, or `7.0` (JSON has one kind of
/// number, and `7.0` is the integer 7 to JSON Schema as to JavaScript).
pub fn integral<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct Whole<T>(std::marker::PhantomData<T>);
    impl<T: TryFrom<u64>> serde::de::Visitor<'_> for Whole<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number in range")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
            u64::try_from(v)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
                .and_then(|v| self.visit_u64(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
            if v.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&v) {
                self.visit_u64(v as u64)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_any(Whole(std::marker::PhantomData))
}

/// A scalar property value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Prop {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// By the value's JSON type, in one pass (serde's `untagged` buffers the
/// value and tries each variant in turn, making an error for each miss).
impl<'de> Deserialize<'de> for Prop {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Prop, D::Error> {
        struct Scalar;
        impl serde::de::Visitor<'_> for Scalar {
            type Value = Prop;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a boolean, a number or a string")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Prop, E> {
                Ok(Prop::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Prop, E> {
                Ok(Prop::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Prop, E> {
                Ok(Prop::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Prop, E> {
                Ok(Prop::Number(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Prop, E> {
                Ok(Prop::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Prop, E> {
                Ok(Prop::Text(v))
            }
        }
        deserializer.deserialize_any(Scalar)
    }
}

/// What the respondent said after the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "RawFollowUp")]
pub enum FollowUp {
    /// Answer to the open question ("What is the main reason for your score?").
    Open { text: String },
    /// Choices from the closed list of the score's band, by reason id; `other`
    /// (the "Other" choice) comes with its text.
    Closed {
        reasons: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        other: Option<String>,
    },
}

/// The follow-up as read: a plain struct, so that a wrong field is reported
/// with its own path (`follow_up.text`), which a tagged enum cannot do.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFollowUp {
    kind: FollowUpKind,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    reasons: Option<Vec<String>>,
    #[serde(default)]
    other: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FollowUpKind {
    Open,
    Closed,
}

impl TryFrom<RawFollowUp> for FollowUp {
    type Error = &'static str;

    /// The messages follow serde's wording, which names the field.
    fn try_from(raw: RawFollowUp) -> Result<FollowUp, &'static str> {
        match raw.kind {
            FollowUpKind::Open => match (raw.text, raw.reasons, raw.other) {
                (_, Some(_), _) => Err("unknown field `reasons`, an open follow-up has `text`"),
                (_, _, Some(_)) => Err("unknown field `other`, an open follow-up has `text`"),
                (None, _, _) => Err("missing field `text`"),
                (Some(text), None, None) => Ok(FollowUp::Open { text }),
            },
            FollowUpKind::Closed => match (raw.text, raw.reasons) {
                (Some(_), _) => {
                    Err("unknown field `text`, a closed follow-up has `reasons` and `other`")
                }
                (None, None) => Err("missing field `reasons`"),
                (None, Some(reasons)) => Ok(FollowUp::Closed {
                    reasons,
                    other: raw.other,
                }),
            },
        }
    }
}

impl FollowUp {
    pub fn kind(&self) -> &'static str {
        match self {
            FollowUp::Open { .. } => "open",
            FollowUp::Closed { .. } => "closed",
        }
    }
}

/// Why an answer was refused, naming the offending field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub code: &'static str,
    pub message: &'static str,
}

const fn invalid(field: &'static str, code: &'static str, message: &'static str) -> Invalid {
    Invalid {
        field,
        code,
        message,
    }
}

impl Answer {
    /// Checks what the respondent answered (and the ids that make it one
    /// answer) against the survey the answer claims to belong to. The caller
    /// has already matched `site` and `survey`, and cleaned what the page
    /// passed in with [`Answer::clean_context`].
    ///
    /// Inlined: a caller that only asks whether the answer is valid (the
    /// widget) then ships none of the error texts.
    #[inline(always)]
    pub fn validate(&self, survey: &Survey) -> Result<Score, Invalid> {
        if !is_uuid(&self.id) {
            return Err(invalid("id", "invalid_id", "id must be a UUID"));
        }
        if self.rev == 0 {
            return Err(invalid("rev", "invalid_rev", "rev starts at 1"));
        }
        if self.survey != survey.id {
            return Err(invalid("survey", "unknown_survey", "no such survey"));
        }
        if !is_id(&self.respondent) {
            return Err(invalid(
                "respondent",
                "invalid_respondent",
                "respondent must be 1-100 letters, digits, '-' or '_'",
            ));
        }
        let Some(score) = Score::new(self.score) else {
            return Err(invalid(
                "score",
                "score_out_of_range",
                "score must be 0 to 10",
            ));
        };
        if !survey.has_locale(&self.locale) {
            return Err(invalid(
                "locale",
                "unknown_locale",
                "the survey has no texts in this locale",
            ));
        }
        match &self.follow_up {
            None => {}
            Some(FollowUp::Open { text }) => check_text("follow_up.text", text)?,
            Some(FollowUp::Closed { reasons, other }) => {
                check_closed(survey, score, reasons, other.as_deref())?
            }
        }
        Ok(score)
    }
}

fn check_text(field: &'static str, text: &str) -> Result<(), Invalid> {
    if text.trim().is_empty() {
        return Err(invalid(field, "text_empty", "text cannot be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            field,
            "text_too_long",
            "text is limited to 2000 characters",
        ));
    }
    Ok(())
}

/// Reasons must come from the list of the score's band; "Other" needs its text,
/// and text needs "Other".
fn check_closed(
    survey: &Survey,
    score: Score,
    reasons: &[String],
    other: Option<&str>,
) -> Result<(), Invalid> {
    const FIELD: &str = "follow_up.reasons";
    let Some(band) = survey.band(score).filter(|b| !b.reasons.is_empty()) else {
        return Err(invalid(
            FIELD,
            "no_closed_list",
            "the band of this score has no list of reasons",
        ));
    };
    if reasons.is_empty() {
        return Err(invalid(FIELD, "no_reason", "choose at least one reason"));
    }
    for (i, id) in reasons.iter().enumerate() {
        if id != OTHER && !band.reasons.iter().any(|r| &r.id == id) {
            return Err(invalid(
                FIELD,
                "unknown_reason",
                "a reason is not in the list of the score's band",
            ));
        }
        if reasons[..i].contains(id) {
            return Err(invalid(
                FIELD,
                "duplicate_reason",
                "a reason is given twice",
            ));
        }
    }
    match (reasons.iter().any(|r| r == OTHER), other) {
        (true, None) => Err(invalid(
            "follow_up.other",
            "other_text_missing",
            "\"other\" needs its text",
        )),
        (true, Some(text)) => check_text("follow_up.other", text),
        (false, Some(_)) => Err(invalid(
            "follow_up.other",
            "text_without_other",
            "text is only given with the \"other\" reason",
        )),
        (false, None) => Ok(()),
    }
}

/// Canonical 8-4-4-4-12 hex UUID text, any case.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> Survey {
        let mut s = crate::examples::survey();
        s.id = "nps".into();
        s
    }

    fn answer() -> Answer {
        Answer {
            id: "0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21".into(),
            rev: 1,
            site: "shop".into(),
            survey: "nps".into(),
            respondent: "r-1".into(),
            score: 7,
            step: Some("checkout_done".into()),
            page: Some("/done".into()),
            locale: "en".into(),
            user_id: None,
            user_hash: None,
            props: Props::new(),
            traits: Props::new(),
            first_survey: None,
            follow_up: None,
            cta: None,
        }
    }

    fn closed(reasons: &[&str], other: Option<&str>) -> Option<FollowUp> {
        Some(FollowUp::Closed {
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            other: other.map(String::from),
        })
    }

    fn field_of(change: impl FnOnce(&mut Answer)) -> &'static str {
        let mut a = answer();
        change(&mut a);
        a.validate(&survey()).unwrap_err().field
    }

    #[test]
    fn a_plain_answer_is_valid_at_every_score() {
        for score in 0..=10 {
            let mut a = answer();
            a.score = score;
            assert_eq!(a.validate(&survey()).unwrap().get(), score);
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(field_of(|a| a.id = "nope".into()), "id");
        assert_eq!(field_of(|a| a.rev = 0), "rev");
        assert_eq!(field_of(|a| a.survey = "other".into()), "survey");
        assert_eq!(field_of(|a| a.respondent = "".into()), "respondent");
        assert_eq!(field_of(|a| a.respondent = "a b".into()), "respondent");
        assert_eq!(field_of(|a| a.score = 11), "score");
        assert_eq!(field_of(|a| a.locale = "de".into()), "locale");
        assert_eq!(
            field_of(|a| {
                a.follow_up = Some(FollowUp::Open {
                    text: "é".repeat(MAX_TEXT_CHARS + 1),
                })
            }),
            "follow_up.text"
        );
    }

    #[test]
    fn closed_answers_use_the_list_of_their_own_band() {
        let check = |score: u8, follow_up: Option<FollowUp>| {
            let mut a = answer();
            a.score = score;
            a.follow_up = follow_up;
            a.validate(&survey())
                .map(|_| ())
                .map_err(|e| (e.field, e.code))
        };
        // Score 2 is in detractor_0_3, score 5 in detractor_4_6: each its own list.
        assert_eq!(check(2, closed(&["delivery_late"], None)), Ok(()));
        assert_eq!(
            check(5, closed(&["delivery_late"], None)),
            Err(("follow_up.reasons", "unknown_reason"))
        );
        assert_eq!(
            check(5, closed(&["missing_features", "price"], None)),
            Ok(())
        );
        assert_eq!(check(9, closed(&["other"], Some("The staff"))), Ok(()));
        assert_eq!(
            check(9, closed(&["other"], None)),
            Err(("follow_up.other", "other_text_missing"))
        );
        assert_eq!(
            check(9, closed(&["other"], Some("  "))),
            Err(("follow_up.other", "text_empty"))
        );
        assert_eq!(
            check(9, closed(&["quality"], Some("text"))),
            Err(("follow_up.other", "text_without_other"))
        );
        assert_eq!(
            check(9, closed(&[], None)),
            Err(("follow_up.reasons", "no_reason"))
        );
        assert_eq!(
            check(9, closed(&["quality", "quality"], None)),
            Err(("follow_up.reasons", "duplicate_reason"))
        );
        assert_eq!(
            check(9, Some(FollowUp::Open { text: " ".into() })),
            Err(("follow_up.text", "text_empty"))
        );
    }

    #[test]
    fn text_limit_counts_characters_not_bytes() {
        let mut a = answer();
        a.follow_up = Some(FollowUp::Open {
            text: "é".repeat(MAX_TEXT_CHARS),
        });
        assert!(a.validate(&survey()).is_ok());
    }

    #[test]
    fn wire_format_is_stable() {
        let mut a = answer();
        a.props.push("plan".into(), Some(Prop::Text("pro".into())));
        a.props.push("items".into(), Some(Prop::Number(3.0)));
        a.follow_up = Some(FollowUp::Open {
            text: "fast".into(),
        });
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"id":"0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21","rev":1,"site":"shop","survey":"nps","respondent":"r-1","score":7,"step":"checkout_done","page":"/done","locale":"en","props":{"items":3.0,"plan":"pro"},"follow_up":{"kind":"open","text":"fast"}}"#
        );
        a.first_survey = Some(false);
        a.follow_up = closed(&["price", "other"], Some("Parking"));
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.ends_with(r#""first_survey":false,"follow_up":{"kind":"closed","reasons":["price","other"],"other":"Parking"}}"#), "{json}");
        assert_eq!(serde_json::from_str::<Answer>(&json).unwrap(), a);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<Answer>(
            r#"{"id":"x","rev":1,"site":"s","survey":"n","respondent":"r","score":1,"locale":"en","admin":true}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("admin"));
    }
}
