//! Example values shared by the tests of both sides of the wire (the collector's
//! serde and the widget's browser-JSON code) with the fixtures in `tests/fixtures/`.

use crate::SmallMap;

use crate::{Answer, ClientConfig, FollowUp, Prop, Reason, Survey, Texts, default_bands};

fn reason(id: &str, en: &str, es: &str) -> Reason {
    Reason {
        id: id.into(),
        text: SmallMap::from([("en".into(), en.into()), ("es".into(), es.into())]),
    }
}

/// A survey in English and Spanish with the default bands, a list of reasons in
/// each band, and shuffled reasons.
pub fn survey() -> Survey {
    let texts = |question: &str, open: &str| Texts {
        question: question.into(),
        open_question: Some(open.into()),
        low_label: None,
        high_label: None,
    };
    let mut bands = default_bands();
    bands[0].reasons = vec![
        reason(
            "delivery_late",
            "Delivery was late",
            "La entrega llegó tarde",
        ),
        reason(
            "product_damaged",
            "The product arrived damaged",
            "El producto llegó dañado",
        ),
        reason(
            "support_unhelpful",
            "Customer support did not help",
            "El servicio al cliente no ayudó",
        ),
        reason(
            "checkout_problems",
            "Checkout was difficult",
            "El pago fue complicado",
        ),
    ];
    bands[1].reasons = vec![
        reason(
            "missing_features",
            "Products I wanted were missing",
            "Faltaban productos que quería",
        ),
        reason(
            "price",
            "Prices are too high",
            "Los precios son demasiado altos",
        ),
        reason(
            "shipping_cost",
            "Shipping costs too much",
            "El envío es demasiado caro",
        ),
    ];
    bands[2].reasons = vec![
        reason("faster_delivery", "Faster delivery", "Entrega más rápida"),
        reason("more_choice", "More choice", "Más variedad"),
        reason("better_prices", "Better prices", "Mejores precios"),
    ];
    bands[3].reasons = vec![
        reason("quality", "Product quality", "Calidad de los productos"),
        reason("fast_delivery", "Fast delivery", "Entrega rápida"),
        reason("service", "Friendly service", "Atención amable"),
    ];
    bands[3].question = SmallMap::from([
        (
            "en".into(),
            "Thank you! What do you like most about Acme?".into(),
        ),
        (
            "es".into(),
            "¡Gracias! ¿Qué es lo que más te gusta de Acme?".into(),
        ),
    ]);
    bands[2].thanks = Some(crate::Thanks {
        text: SmallMap::from([
            ("en".into(), "Thank you! We read every answer.".into()),
            ("es".into(), "¡Gracias! Leemos todas las respuestas.".into()),
        ]),
        cta: Some(crate::Cta {
            text: SmallMap::from([
                ("en".into(), "See what we are working on".into()),
                ("es".into(), "Mira en qué trabajamos".into()),
            ]),
            url: "https://acme.example/roadmap".into(),
        }),
        in_touch: false,
    });
    bands[3].thanks = Some(crate::Thanks {
        text: SmallMap::from([("en".into(), "Thank you! Would you tell others?".into())]),
        cta: Some(crate::Cta {
            text: SmallMap::from([
                ("en".into(), "Leave us a review".into()),
                ("es".into(), "Déjanos una reseña".into()),
            ]),
            url: "https://reviews.example/acme".into(),
        }),
        in_touch: false,
    });
    Survey {
        id: "checkout_nps".into(),
        steps: vec!["checkout_done".into()],
        default_locale: "en".into(),
        bands,
        texts: SmallMap::from([
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
        shuffle_reasons: true,
        urls: vec![crate::UrlRule::Exact("/thanks".into())],
        delay_seconds: 2,
        sample: 0.5,
        when: vec![crate::Condition {
            prop: Some("total".into()),
            gte: Some(20.0),
            ..Default::default()
        }],
        ..Survey::default()
    }
}

/// `tests/fixtures/client_config.json` as a value.
pub fn client_config() -> ClientConfig {
    ClientConfig {
        site: "shop".into(),
        surveys: vec![survey().for_client()],
        gap_days: 7,
        gap_ms: crate::days_ms(7),
        theme: {
            let theme = crate::Theme {
                accent: Some("#0b57d0".into()),
                ..Default::default()
            };
            crate::Theme {
                css: theme.to_css(),
                ..theme
            }
        },
        w: Vec::new(),
    }
}

/// `tests/fixtures/answer.json` as a value: a later survey's closed answer.
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
        user_hash: None,
        props: [
            ("items".into(), Prop::Number(3.0)),
            ("plan".into(), Prop::Text("pro".into())),
            ("trial".into(), Prop::Bool(false)),
        ]
        .into_iter()
        .collect(),
        traits: [("country".into(), Prop::Text("ES".into()))]
            .into_iter()
            .collect(),
        first_survey: Some(false),
        follow_up: Some(FollowUp::Closed {
            reasons: vec!["more_choice".into(), "other".into()],
            other: Some("Envío a Canarias".into()),
        }),
        cta: Some(true),
    }
}

/// The fixtures' text, for tests on either side.
pub const CLIENT_CONFIG_JSON: &str = include_str!("../tests/fixtures/client_config.json");
pub const ANSWER_JSON: &str = include_str!("../tests/fixtures/answer.json");
