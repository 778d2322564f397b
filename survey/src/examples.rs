//! Example values shared by the tests of both sides of the wire (the collector's
//! serde and the widget's browser-JSON code) with the fixtures in `tests/fixtures/`.

use std::collections::BTreeMap;

use crate::{Answer, ClientConfig, FollowUp, Prop, Survey, Texts, default_bands};

/// A survey in English and Spanish with the default bands.
pub fn survey() -> Survey {
    let texts = |question: &str, open: &str| Texts {
        question: question.into(),
        open_question: Some(open.into()),
        low_label: None,
        high_label: None,
    };
    Survey {
        id: "checkout_nps".into(),
        steps: vec!["checkout_done".into()],
        default_locale: "en".into(),
        bands: default_bands(),
        texts: BTreeMap::from([
            (
                "en".into(),
                texts(
                    "How likely are you to recommend Acme to a friend or colleague?",
                    "What is the main reason for your score?",
                ),
            ),
            (
                "es".into(),
                texts(
                    "¿Qué probabilidad hay de que recomiendes Acme a un amigo o colega?",
                    "¿Cuál es la razón principal de tu puntuación?",
                ),
            ),
        ]),
    }
}

/// `tests/fixtures/client_config.json` as a value.
pub fn client_config() -> ClientConfig {
    ClientConfig {
        site: "shop".into(),
        surveys: vec![survey()],
    }
}

/// `tests/fixtures/answer.json` as a value.
pub fn answer() -> Answer {
    Answer {
        id: "0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21".into(),
        rev: 2,
        site: "shop".into(),
        survey: "checkout_nps".into(),
        respondent: "r-1".into(),
        score: 7,
        step: Some("checkout_done".into()),
        page: Some("/done".into()),
        locale: "es".into(),
        user_id: Some("u-42".into()),
        props: BTreeMap::from([
            ("items".into(), Prop::Number(3.0)),
            ("plan".into(), Prop::Text("pro".into())),
            ("trial".into(), Prop::Bool(false)),
        ]),
        follow_up: Some(FollowUp::Open {
            text: "Rápido y fácil".into(),
        }),
    }
}

/// The fixtures' text, for tests on either side.
pub const CLIENT_CONFIG_JSON: &str = include_str!("../tests/fixtures/client_config.json");
pub const ANSWER_JSON: &str = include_str!("../tests/fixtures/answer.json");
