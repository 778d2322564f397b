//! The wire formats against the fixtures the widget's tests read too, so the two
//! sides cannot drift apart unnoticed. `PULSO_BLESS=1 cargo test -p pulso-survey`
//! rewrites the fixtures after an intended change of the examples.

use survey::examples;

fn bless(name: &str, value: &impl serde::Serialize) {
    if std::env::var_os("PULSO_BLESS").is_some() {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = serde_json::to_string_pretty(value).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn client_config_fixture_is_what_serde_writes_and_reads() {
    bless("client_config.json", &examples::client_config());
    let value: serde_json::Value = serde_json::from_str(examples::CLIENT_CONFIG_JSON).unwrap();
    assert_eq!(
        serde_json::to_value(examples::client_config()).unwrap(),
        value
    );
    assert_eq!(
        serde_json::from_str::<survey::ClientConfig>(examples::CLIENT_CONFIG_JSON).unwrap(),
        examples::client_config()
    );
}

#[test]
fn answer_fixture_decodes_to_the_example_answer() {
    bless("answer.json", &examples::answer());
    let answer: survey::Answer = serde_json::from_str(examples::ANSWER_JSON).unwrap();
    assert_eq!(answer, examples::answer());
    assert!(answer.validate(&examples::survey()).is_ok());
    assert!(examples::survey().check().is_ok());
}
