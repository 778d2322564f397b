//! The wire formats against the fixtures the widget's tests read too, so the two
//! sides cannot drift apart unnoticed.

use survey::examples;

#[test]
fn client_config_fixture_is_what_serde_writes_and_reads() {
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
    let answer: survey::Answer = serde_json::from_str(examples::ANSWER_JSON).unwrap();
    assert_eq!(answer, examples::answer());
    assert!(answer.validate(&examples::survey()).is_ok());
}
