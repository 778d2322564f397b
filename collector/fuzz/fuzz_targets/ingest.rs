//! Arbitrary bytes through the collector's ingest decisions (strict JSON decoding,
//! text cleaning, validation by the shared model, the row to store), against the
//! shipped example configuration. Nothing may panic, and whatever is accepted
//! must be what the rules promise.

#![no_main]

use std::sync::LazyLock;

use collector::config::{Settings, parse};
use collector::http::{clean_text, decode_answer, prepare};
use libfuzzer_sys::fuzz_target;

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| {
    parse("pulso.toml", include_str!("../../../examples/pulso.toml")).expect("the example config")
});

fuzz_target!(|body: &[u8]| {
    let Ok(answer) = decode_answer(body) else {
        return;
    };
    let Some(site) = SETTINGS.sites.get(&answer.site) else {
        return;
    };
    let Ok((row, dropped)) = prepare(site, answer) else {
        return;
    };
    // Dropped context is named, never a reason to refuse; what is kept fits.
    assert!(dropped.len() <= 40, "{dropped:?}");
    assert!(row.score <= 10);
    assert!(survey::is_uuid(&row.id));
    assert!(row.rev >= 1);
    for text in [&row.open_text, &row.other_text].into_iter().flatten() {
        assert!(!text.is_empty() && text.chars().count() <= survey::MAX_TEXT_CHARS);
        assert_eq!(&clean_text(text), text, "stored text is already clean");
    }
    if let Some(page) = &row.page {
        assert!(page.starts_with('/') && !page.contains(['?', '#']));
        assert_eq!(&clean_text(page), page);
    }
    for text in [&row.user_id, &row.step].into_iter().flatten() {
        assert!(!text.is_empty() && text.chars().count() <= survey::MAX_ID_CHARS);
        assert_eq!(&clean_text(text), text);
    }
    let props: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.props).expect("props are a JSON object");
    assert!(props.len() <= survey::MAX_PROPS);
    assert!(props.keys().all(|k| survey::is_id(k)));
    let survey = site
        .survey(&row.survey)
        .expect("prepared for a known survey");
    if let Some(step) = &row.step {
        assert!(survey.steps.contains(step), "only the survey's own steps");
    }
    let band = survey
        .bands
        .iter()
        .find(|b| b.id == row.band)
        .expect("a band of the survey");
    assert!((band.min..=band.max).contains(&row.score));
});
