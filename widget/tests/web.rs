//! The widget in a real browser (wasm-bindgen-test in headless Chromium): the
//! wire code against the shared fixtures, and the card as it mounts.

use js_sys::JSON;
use pulso_widget::{decode_survey, show, theme_css, to_json};
use survey::examples;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(text: &str) -> JsValue {
    JSON::parse(text).expect("fixture is JSON")
}

fn stringify(value: &JsValue) -> String {
    JSON::stringify(value).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
fn decodes_the_configuration_the_collector_serves() {
    let config = parse(examples::CLIENT_CONFIG_JSON);
    let surveys = js_sys::Reflect::get(&config, &"surveys".into()).unwrap();
    let first = js_sys::Array::from(&surveys).get(0);
    // The card reads what it shows; triggers are the loader's.
    let full = examples::survey();
    let shown = survey::Survey {
        id: full.id,
        steps: full.steps,
        default_locale: full.default_locale,
        bands: full.bands,
        texts: full.texts,
        shuffle_reasons: full.shuffle_reasons,
        ..Default::default()
    };
    assert_eq!(decode_survey(&first), Some(shown));
}

#[wasm_bindgen_test]
fn the_theme_is_the_stylesheet_the_collector_made() {
    // The collector makes it (`survey::Theme::to_css`, tested there).
    assert_eq!(
        theme_css(&parse(
            r#"{"scheme":"dark","css":":host{--pulso-bg:#161b22}"}"#
        )),
        ":host{--pulso-bg:#161b22}"
    );
    assert_eq!(theme_css(&JsValue::UNDEFINED), "");
}

#[wasm_bindgen_test]
fn encodes_answers_as_the_collector_reads_them() {
    let ours = parse(&to_json(&examples::answer()));
    // The traits are boot.js's to add (the card never has them).
    let theirs = parse(examples::ANSWER_JSON);
    js_sys::Reflect::delete_property(&theirs.clone().into(), &"traits".into()).unwrap();
    assert_eq!(stringify(&ours), stringify(&theirs));
}

fn options(locales: &[&str]) -> JsValue {
    let survey = js_sys::Array::from(
        &js_sys::Reflect::get(&parse(examples::CLIENT_CONFIG_JSON), &"surveys".into()).unwrap(),
    )
    .get(0);
    let options = parse(
        r#"{"i":"0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21","site":"shop","r":"r-1","p":"checkout_done","g":"/done","o":{}}"#,
    );
    js_sys::Reflect::set(&options, &"s".into(), &survey).unwrap();
    let list = js_sys::Array::new();
    for l in locales {
        list.push(&JsValue::from_str(l));
    }
    js_sys::Reflect::set(&options, &"l".into(), &list).unwrap();
    options
}

fn card_root() -> web_sys::ShadowRoot {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document
        .query_selector("pulso-survey")
        .unwrap()
        .expect("host element");
    host.shadow_root().expect("open shadow root")
}

#[wasm_bindgen_test]
fn mounts_one_card_in_a_shadow_root_in_the_chosen_locale() {
    assert!(show(options(&["es-MX", "en"])));
    let root = card_root();
    let question = root.query_selector(".question").unwrap().unwrap();
    assert_eq!(
        question.text_content().unwrap(),
        "¿Qué probabilidad hay de que recomiendes Acme a un amigo o colega?"
    );
    let radios = root
        .query_selector_all("[role=radiogroup] input[type=radio]")
        .unwrap();
    assert_eq!(radios.length(), 11);
    let zero: web_sys::Element = radios.get(0).unwrap().unchecked_into();
    assert_eq!(
        zero.get_attribute("aria-label").unwrap(),
        "0, Nada probable"
    );
    let close = root.query_selector("button.close").unwrap().unwrap();
    assert_eq!(close.get_attribute("aria-label").unwrap(), "Cerrar");
    // No global CSS: the page's document has no stylesheet of ours.
    let document = web_sys::window().unwrap().document().unwrap();
    assert_eq!(document.query_selector_all("style").unwrap().length(), 0);
    // A second survey while one is open is not shown.
    assert!(!show(options(&["en"])));

    close.unchecked_into::<web_sys::HtmlElement>().click();
    assert!(document.query_selector("pulso-survey").unwrap().is_none());
}

#[wasm_bindgen_test]
fn refuses_options_without_a_survey() {
    assert!(!show(parse(r#"{"site":"shop","r":"r"}"#)));
}
