//! Survey definitions: what `pulso.toml` declares and what the widget receives.

use crate::SmallMap;

use serde::{Deserialize, Serialize};

use crate::band::{Band, OTHER, Score, Thanks, check_partition, default_bands};
use crate::trigger::{Condition, Target, Theme, UrlRule};

/// One NPS survey: where it is asked, in which words, and how scores are banded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Stable id; answers and exports refer to the survey by it.
    pub id: String,
    /// Funnel steps (event names given to `pulso('track', STEP)`) that make this survey due.
    #[serde(default)]
    pub steps: Vec<String>,
    /// Locale used when none of the respondent's preferred locales has texts.
    #[serde(default = "default_locale")]
    pub default_locale: String,
    /// Score bands, a partition of 0–10; each band may get its own follow-up.
    #[serde(default = "default_bands")]
    pub bands: Vec<Band>,
    /// Texts per locale (`en`, `es`, ...).
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, Texts>))]
    pub texts: SmallMap<Texts>,
    /// Show each respondent the reasons of a closed list in an order of their own
    /// (fixed per respondent), against the bias towards the first options.
    /// "Other" stays last.
    #[serde(default)]
    pub shuffle_reasons: bool,
    /// Pages that make this survey due, also on single-page-app navigation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlRule>,
    /// `urls` as one anchored regular expression over the path (`(?!)`, which
    /// matches nothing, without rules), the form the loader runs; filled by
    /// [`Survey::for_client`], never written in `pulso.toml`.
    #[serde(default)]
    pub pattern: String,
    /// Seconds between the trigger and the card; leaving the page cancels it.
    #[serde(default)]
    pub delay_seconds: u32,
    /// Share of respondents asked, 0–1; decided once per respondent and survey.
    #[serde(default = "everyone")]
    pub sample: f64,
    /// Days before a respondent who answered is asked this survey again.
    #[serde(default = "ninety")]
    pub recontact_days: u32,
    /// Days before a respondent who closed the card without answering is asked again.
    #[serde(default = "fourteen")]
    pub dismiss_days: u32,
    /// When several surveys are due at once, the highest priority is shown.
    #[serde(default)]
    pub priority: i32,
    /// Targeting: every condition must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Condition>,
    /// `when` compiled for the loader ([`Condition::compile`]); filled by
    /// [`Survey::for_client`], never written in `pulso.toml`.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// `recontact_days` and `dismiss_days` in milliseconds, as the loader
    /// compares them; filled by [`Survey::for_client`], never written in
    /// `pulso.toml`.
    #[serde(default)]
    pub recontact_ms: u64,
    #[serde(default)]
    pub dismiss_ms: u64,
    /// The site's `keep_traits`, for the card (which sends only these
    /// traits with an answer); filled by the collector, never written in
    /// `pulso.toml`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_traits: Vec<String>,
    /// Asked in waves rather than continuously: due only inside a wave's
    /// window. The collector leaves a survey out of the loader's
    /// configuration between waves, so the loader never sees this.
    #[serde(default, skip_serializing)]
    pub waves: Option<Waves>,
}

/// `waves = { every = "3 months", open_days = 14, first = "2026-01-05" }`:
/// a wave opens on `first` and every `every` after it (at midnight in the
/// site's time zone) and stays open `open_days` days. Checked by the
/// collector, which knows calendars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Waves {
    /// Days, weeks, months or years: `"3 months"`, `"6 weeks"`.
    pub every: String,
    pub open_days: u32,
    /// The first wave's opening day, `YYYY-MM-DD`.
    pub first: String,
}

/// An empty survey with every default: the base of literals in code and tests.
impl Default for Survey {
    fn default() -> Survey {
        Survey {
            id: String::new(),
            steps: Vec::new(),
            default_locale: default_locale(),
            bands: default_bands(),
            texts: SmallMap::new(),
            shuffle_reasons: false,
            urls: Vec::new(),
            pattern: String::new(),
            delay_seconds: 0,
            sample: everyone(),
            recontact_days: ninety(),
            dismiss_days: fourteen(),
            priority: 0,
            when: Vec::new(),
            targets: Vec::new(),
            recontact_ms: 0,
            dismiss_ms: 0,
            keep_traits: Vec::new(),
            waves: None,
        }
    }
}

fn default_locale() -> String {
    "en".to_owned()
}

fn everyone() -> f64 {
    1.0
}

fn ninety() -> u32 {
    90
}

fn fourteen() -> u32 {
    14
}

/// The words of a survey in one locale. Omitted texts fall back to the built-in
/// ones of that locale (see [`crate::ui_strings`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Texts {
    /// The 0–10 question, e.g. "How likely are you to recommend Acme to a friend or colleague?".
    pub question: String,
    /// The open follow-up question of a respondent's first survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_question: Option<String>,
    /// Label under 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_label: Option<String>,
    /// Label under 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_label: Option<String>,
}

/// A step of the path from a configuration's root to a value, for errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A definition that cannot be used, with the path (below the survey) of the
/// offending value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    pub path: Vec<PathSeg>,
    pub message: String,
}

fn error(path: &[PathSeg], message: String) -> DefinitionError {
    DefinitionError {
        path: path.to_vec(),
        message,
    }
}

fn key(name: &str) -> PathSeg {
    PathSeg::Key(name.to_owned())
}

/// Letters, digits, `-` and `_`, 1–100 of them: what ids look like everywhere.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

impl Survey {
    /// Checks everything a survey must satisfy before it can be shown: a valid id,
    /// bands that partition 0–10, texts for the default locale, and for every
    /// locale with texts a question, the band questions given and every reason's
    /// text; reason ids unique in their band and never `other`.
    pub fn check(&self) -> Result<(), DefinitionError> {
        if !is_id(&self.id) {
            return Err(error(
                &[key("id")],
                "survey ids are 1-100 letters, digits, '-' or '_'".into(),
            ));
        }
        if self.steps.iter().any(|s| s.trim().is_empty()) {
            return Err(error(
                &[key("steps")],
                "funnel step names cannot be empty".into(),
            ));
        }
        let made = [
            ("pattern", !self.pattern.is_empty()),
            ("targets", !self.targets.is_empty()),
            ("recontact_ms", self.recontact_ms != 0),
            ("dismiss_ms", self.dismiss_ms != 0),
        ];
        if !self.keep_traits.is_empty() {
            return Err(error(
                &[key("keep_traits")],
                "`keep_traits` is the site's: write it under [sites.KEY]".into(),
            ));
        }
        if let Some((name, _)) = made.iter().find(|(_, set)| *set) {
            return Err(error(
                &[key(name)],
                "made from `urls`, `when`, `recontact_days` and `dismiss_days`: write those".into(),
            ));
        }
        for (i, rule) in self.urls.iter().enumerate() {
            rule.check()
                .map_err(|m| error(&[key("urls"), PathSeg::Index(i)], m))?;
        }
        if !(0.0..=1.0).contains(&self.sample) {
            return Err(error(
                &[key("sample")],
                format!("{} is not a share between 0 and 1", self.sample),
            ));
        }
        if self.delay_seconds > 3600 {
            return Err(error(
                &[key("delay_seconds")],
                "a delay is at most 3600 seconds".into(),
            ));
        }
        for (days, name) in [
            (self.recontact_days, "recontact_days"),
            (self.dismiss_days, "dismiss_days"),
        ] {
            if days > 3650 {
                return Err(error(&[key(name)], "at most 3650 days".into()));
            }
        }
        for (i, condition) in self.when.iter().enumerate() {
            condition
                .check()
                .map_err(|m| error(&[key("when"), PathSeg::Index(i)], m))?;
        }
        if let Err(e) = check_partition(&self.bands) {
            return Err(error(&[key("bands")], e.to_string()));
        }
        if self.texts.is_empty() {
            return Err(error(
                &[key("texts")],
                "at least one locale needs texts".into(),
            ));
        }
        if !self.has_locale(&self.default_locale) {
            return Err(error(
                &[key("default_locale")],
                format!("no texts for the default locale `{}`", self.default_locale),
            ));
        }
        for (locale, texts) in &self.texts {
            if texts.question.trim().is_empty() {
                return Err(error(
                    &[key("texts"), key(locale), key("question")],
                    "the question cannot be empty".into(),
                ));
            }
        }
        for (b, band) in self.bands.iter().enumerate() {
            let band_path =
                |rest: &[PathSeg]| [vec![key("bands"), PathSeg::Index(b)], rest.to_vec()].concat();
            if let Some(locale) = band.question.keys().find(|l| !self.has_locale(l)) {
                return Err(error(
                    &band_path(&[key("question"), key(locale)]),
                    format!("locale `{locale}` has no texts in this survey"),
                ));
            }
            for (r, reason) in band.reasons.iter().enumerate() {
                let at = |leaf: &str| band_path(&[key("reasons"), PathSeg::Index(r), key(leaf)]);
                if !is_id(&reason.id) {
                    return Err(error(
                        &at("id"),
                        "reason ids are 1-100 letters, digits, '-' or '_'".into(),
                    ));
                }
                if reason.id == OTHER {
                    return Err(error(
                        &at("id"),
                        "`other` is reserved: every list ends with it by itself".into(),
                    ));
                }
                if band.reasons[..r].iter().any(|x| x.id == reason.id) {
                    return Err(error(
                        &at("id"),
                        format!(
                            "reason id `{}` is used twice in band `{}`",
                            reason.id, band.id
                        ),
                    ));
                }
                if let Some(locale) = self
                    .texts
                    .keys()
                    .find(|l| reason.text.get(l).is_none_or(|t| t.trim().is_empty()))
                {
                    return Err(error(
                        &at("text"),
                        format!("reason `{}` has no text for locale `{locale}`", reason.id),
                    ));
                }
            }
            if let Some(thanks) = &band.thanks {
                self.check_thanks(band, thanks)
                    .map_err(|(rest, message)| error(&band_path(&rest), message))?;
            }
        }
        Ok(())
    }

    /// A band's thank-you: texts only in the survey's locales, a call to
    /// action with a text in every one of them and an `https://` address,
    /// `in_touch` alone and in one class's scores. Errors carry the path
    /// below the band.
    fn check_thanks(&self, band: &Band, thanks: &Thanks) -> Result<(), (Vec<PathSeg>, String)> {
        let at = |rest: &[&str]| -> Vec<PathSeg> {
            std::iter::once("thanks")
                .chain(rest.iter().copied())
                .map(key)
                .collect()
        };
        for (locale, text) in &thanks.text {
            if !self.has_locale(locale) {
                return Err((
                    at(&["text", locale]),
                    format!("locale `{locale}` has no texts in this survey"),
                ));
            }
            if text.trim().is_empty() {
                return Err((
                    at(&["text", locale]),
                    "the thank-you cannot be empty".into(),
                ));
            }
        }
        if thanks.in_touch {
            if !thanks.text.is_empty() || thanks.cta.is_some() {
                return Err((
                    at(&["in_touch"]),
                    "`in_touch` writes the text itself, in place of a call to action: \
                     give it alone"
                        .into(),
                ));
            }
            let class = |s: u8| Score::new(s).map(Score::class);
            if class(band.min) != class(band.max) {
                return Err((
                    at(&["in_touch"]),
                    "`in_touch` needs a band within one class (0-6, 7-8 or 9-10), \
                     whose inbox deadline it names"
                        .into(),
                ));
            }
        }
        if let Some(cta) = &thanks.cta {
            let url = &cta.url;
            let host = url.strip_prefix("https://").unwrap_or_default();
            if host.is_empty()
                || host.starts_with('/')
                || url.len() > 2000
                || url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err((
                    at(&["cta", "url"]),
                    "a call to action goes to an https:// address (at most 2000 characters, \
                     no spaces)"
                        .into(),
                ));
            }
            if let Some(locale) = cta.text.keys().find(|l| !self.has_locale(l)) {
                return Err((
                    at(&["cta", "text", locale]),
                    format!("locale `{locale}` has no texts in this survey"),
                ));
            }
            if let Some(locale) = self
                .texts
                .keys()
                .find(|l| cta.text.get(l).is_none_or(|t| t.trim().is_empty()))
            {
                return Err((
                    at(&["cta", "text"]),
                    format!("the call to action has no text for locale `{locale}`"),
                ));
            }
        }
        Ok(())
    }

    /// The survey as the loader and the card receive it: its URL rules as one
    /// regular expression, its conditions compiled, the forms of `pulso.toml`
    /// left out.
    pub fn for_client(mut self) -> Survey {
        let rules: Vec<String> = self.urls.iter().map(UrlRule::to_regex).collect();
        self.pattern = if rules.is_empty() {
            "(?!)".into()
        } else {
            rules.join("|")
        };
        self.targets = self.when.iter().map(Condition::compile).collect();
        self.recontact_ms = days_ms(self.recontact_days);
        self.dismiss_ms = days_ms(self.dismiss_days);
        self.urls.clear();
        self.when.clear();
        self
    }

    /// The band a score falls in.
    pub fn band(&self, score: crate::Score) -> Option<&Band> {
        crate::band_of(&self.bands, score)
    }

    pub fn has_locale(&self, locale: &str) -> bool {
        self.texts.contains_key(locale)
    }
}

/// What `GET /v1/sites/{site}/config` returns: everything the loader and the widget
/// need to decide whether a survey is due and to render it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub site: String,
    /// Highest priority first.
    pub surveys: Vec<Survey>,
    /// Days after a survey was shown before any survey of the site is shown
    /// to the same respondent (0: no site-wide cap).
    #[serde(default)]
    pub gap_days: u32,
    /// `gap_days` in milliseconds, as the loader compares it.
    #[serde(default)]
    pub gap_ms: u64,
    #[serde(default)]
    pub theme: Theme,
    /// The keys of the replies of the site's team that wait for their
    /// respondents: the first 8 hex digits of a respondent id, or of a
    /// verified user's hash. Always last, always present (the loader reads
    /// it without a check).
    #[serde(default)]
    pub w: Vec<String>,
}

/// Days in milliseconds.
pub fn days_ms(days: u32) -> u64 {
    u64::from(days) * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cta, examples};

    fn with_thanks(band: usize, thanks: Thanks) -> Result<(), DefinitionError> {
        let mut survey = examples::survey();
        survey.bands[band].thanks = Some(thanks);
        survey.check()
    }

    fn path(e: &DefinitionError) -> String {
        e.path
            .iter()
            .map(|p| match p {
                PathSeg::Key(k) => k.clone(),
                PathSeg::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    fn cta(url: &str, locales: &[&str]) -> Cta {
        Cta {
            text: locales
                .iter()
                .map(|l| (l.to_string(), "Leave us a review".to_owned()))
                .collect(),
            url: url.into(),
        }
    }

    #[test]
    fn the_examples_thanks_are_valid() {
        assert_eq!(examples::survey().check(), Ok(()));
    }

    #[test]
    fn a_call_to_action_needs_https_and_every_locales_text() {
        for url in [
            "http://reviews.example",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://a b",
            "reviews.example",
        ] {
            let e = with_thanks(
                3,
                Thanks {
                    cta: Some(cta(url, &["en", "es"])),
                    ..Thanks::default()
                },
            )
            .unwrap_err();
            assert_eq!(path(&e), "bands.3.thanks.cta.url", "{url}");
        }
        let e = with_thanks(
            3,
            Thanks {
                cta: Some(cta("https://reviews.example", &["en"])),
                ..Thanks::default()
            },
        )
        .unwrap_err();
        assert_eq!(path(&e), "bands.3.thanks.cta.text");
        assert!(e.message.contains("`es`"), "{}", e.message);
        let e = with_thanks(
            3,
            Thanks {
                cta: Some(cta("https://reviews.example", &["en", "es", "fr"])),
                ..Thanks::default()
            },
        )
        .unwrap_err();
        assert_eq!(path(&e), "bands.3.thanks.cta.text.fr");
    }

    #[test]
    fn thanks_texts_are_in_the_surveys_locales_and_not_empty() {
        let text = |locale: &str, t: &str| Thanks {
            text: SmallMap::from([(locale.to_owned(), t.to_owned())]),
            ..Thanks::default()
        };
        assert_eq!(with_thanks(0, text("es", "Gracias")), Ok(()));
        assert_eq!(
            path(&with_thanks(0, text("fr", "Merci")).unwrap_err()),
            "bands.0.thanks.text.fr"
        );
        assert_eq!(
            path(&with_thanks(0, text("en", "  ")).unwrap_err()),
            "bands.0.thanks.text.en"
        );
    }

    #[test]
    fn in_touch_stands_alone_in_one_class() {
        let in_touch = Thanks {
            in_touch: true,
            ..Thanks::default()
        };
        assert_eq!(with_thanks(0, in_touch.clone()), Ok(()));
        let mixed = Thanks {
            cta: Some(cta("https://help.example", &["en", "es"])),
            ..in_touch.clone()
        };
        assert_eq!(
            path(&with_thanks(0, mixed).unwrap_err()),
            "bands.0.thanks.in_touch"
        );
        // A band across classes has no one deadline to name.
        let mut survey = examples::survey();
        survey.bands.truncate(2);
        survey.bands[1].max = 10;
        survey.bands[1].reasons.clear();
        survey.bands[1].thanks = Some(in_touch);
        assert_eq!(
            path(&survey.check().unwrap_err()),
            "bands.1.thanks.in_touch"
        );
    }

    #[test]
    fn in_touch_is_never_sent_to_the_card() {
        let thanks = Thanks {
            in_touch: true,
            ..Thanks::default()
        };
        let json = serde_json::to_value(&thanks).unwrap();
        assert_eq!(json, serde_json::json!({}));
    }
}
