//! The walking skeleton: the demo shop in headless Chromium, a real collector, the export.

use fantoccini::Locator;
use fantoccini::key::Key;
use pulso_e2e::{
    Stack, card, click_when_there, eventually, focused_in_card, in_card, press, save_doc_image,
    tab_to, with_browser,
};

/// The walking skeleton: funnel → card → score 2 → follow-up → one CSV row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnel_answer_lands_in_the_csv_export() {
    let stack = Stack::start().await;
    let started = now_ms();
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        client.goto(&shop).await.unwrap();
        // Through the funnel as a visitor would; each click loads the next page.
        for button in ["add-to-cart", "checkout", "place-order"] {
            click_when_there(&client, button).await;
        }

        let root = card(&client).await;
        let question = in_card(&root, ".question").await.text().await.unwrap();
        assert!(question.contains("recommend Pulso Demo Shop"), "{question}");
        let radios = root
            .find_all(Locator::Css("[role=radiogroup] input[type=radio]"))
            .await
            .unwrap();
        assert_eq!(radios.len(), 11);
        let ends = in_card(&root, ".ends").await.text().await.unwrap();
        assert!(
            ends.contains("Not at all likely") && ends.contains("Extremely likely"),
            "{ends}"
        );

        // Click the "2" where a person would (the radio covers its visible box).
        in_card(&root, "input[value='2']")
            .await
            .click()
            .await
            .unwrap();
        let text = in_card(&root, "textarea").await;
        text.send_keys("Delivery took two weeks").await.unwrap();
        let shot = in_card(&root, ".card").await.screenshot().await.unwrap();
        save_doc_image("widget.png", &shot);
        in_card(&root, "button.send").await.click().await.unwrap();
        let thanks = in_card(&root, ".thanks").await.text().await.unwrap();
        assert_eq!(thanks, "Thank you for your feedback!");
    })
    .await;

    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    let col = |name| row.get(Stack::column(name)).unwrap();
    assert_eq!(col("score"), "2");
    assert_eq!(col("open_text"), "Delivery took two weeks");
    assert_eq!(col("follow_up"), "open");
    assert_eq!(col("class"), "detractor");
    assert_eq!(col("band"), "detractor_0_3");
    assert_eq!(col("step"), "checkout_done");
    assert_eq!(col("page"), "/done");
    assert_eq!(col("locale"), "en");
    assert_eq!(col("survey"), "checkout_nps");
    assert_eq!(col("props"), r#"{"plan":"standard","total":24.0}"#);
    // The card made the answer's id in time order: a UUIDv7 of its clock
    // (the machine's, here) while the test ran.
    let id = col("id");
    assert_eq!(&id[14..15], "7", "{id}");
    let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
    let at = hex(&id[..8]) << 16 | hex(&id[9..13]);
    assert!(
        (started..=now_ms()).contains(&at),
        "{id}: {at} not in the test's time"
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A page with no due survey pays for the loader and the configuration only:
/// no `.wasm` is fetched. The done page, where a survey is due, is the control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wasm_is_fetched_where_no_survey_is_due() {
    let stack = Stack::start().await;
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        const RESOURCES: &str =
            "return performance.getEntriesByType('resource').map(function (e) { return e.name })";
        let resources = || async {
            let list = client.execute(RESOURCES, vec![]).await.unwrap();
            serde_json::from_value::<Vec<String>>(list).unwrap()
        };

        client.goto(&shop).await.unwrap();
        // The product page tracks a step no survey asks at: the loader fetches the
        // configuration, finds nothing due, and stops there.
        eventually("the configuration fetch", || async {
            resources()
                .await
                .iter()
                .any(|r| r.ends_with("/v1/sites/shop/config"))
                .then_some(())
        })
        .await;
        // Give a wrong loader every chance to fetch the bundle anyway.
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        let on_product = resources().await;
        assert!(
            on_product.iter().any(|r| r.ends_with("/pulso.js")),
            "{on_product:?}"
        );
        // Neither the card's module nor its wasm (the spy page of the reliability
        // tests also sees fetches whose body nobody reads).
        assert!(
            !on_product.iter().any(|r| r.contains("/widget/")),
            "{on_product:?}"
        );
        assert!(client.find(Locator::Css("pulso-survey")).await.is_err());

        client.goto(&format!("{shop}/done")).await.unwrap();
        card(&client).await;
        let on_done = resources().await;
        assert!(on_done.iter().any(|r| r.ends_with(".wasm")), "{on_done:?}");
    })
    .await;
}

/// Keyboard alone, on a phone-sized window: Tab into the scale, arrows to pick,
/// Tab to the text, Enter to send; the card fits the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_alone_answers_on_a_narrow_screen() {
    let stack = Stack::start().await;
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        client.set_window_size(390, 800).await.unwrap();
        client.goto(&format!("{shop}/done")).await.unwrap();
        let root = card(&client).await;

        let fits: bool = serde_json::from_value(
            client
                .execute(
                    "var r = document.querySelector('pulso-survey').shadowRoot.querySelector('.card').getBoundingClientRect();
                     return r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight;",
                    vec![],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(fits, "the card does not fit a 390 px wide window");

        let focused = || focused_in_card(&client);
        tab_to(&client, "INPUT:radio").await;
        assert_eq!(focused().await, "INPUT:radio:0");
        press(&client, &[Key::Right.into(), Key::Right.into(), Key::Right.into()]).await;
        assert_eq!(focused().await, "INPUT:radio:3");
        in_card(&root, "textarea").await;
        press(&client, &[Key::Tab.into()]).await;
        assert_eq!(focused().await, "TEXTAREA:textarea:");
        let mut keys: Vec<char> = "Fine".chars().collect();
        keys.extend([char::from(Key::Tab), char::from(Key::Enter)]);
        press(&client, &keys).await;
        in_card(&root, ".thanks").await;
    })
    .await;

    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].get(Stack::column("score")), Some("3"));
    assert_eq!(rows[0].get(Stack::column("open_text")), Some("Fine"));
}
