//! Survey definitions: what `pulso.toml` declares and what the widget receives.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::band::{Band, default_bands};

/// One NPS survey: where it is asked, in which words, and how scores are banded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    pub texts: BTreeMap<String, Texts>,
}

fn default_locale() -> String {
    "en".to_owned()
}

/// The words of a survey in one locale. Omitted texts fall back to the built-in
/// ones of that locale (see [`crate::ui_strings`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

impl Survey {
    pub fn triggered_by(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s == step)
    }

    pub fn has_locale(&self, locale: &str) -> bool {
        self.texts.contains_key(locale)
    }
}

/// What `GET /v1/sites/{site}/config` returns: everything the loader and the widget
/// need to decide whether a survey is due and to render it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub site: String,
    pub surveys: Vec<Survey>,
}
