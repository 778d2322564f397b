//! Adaptive follow-ups in a real browser: the open question on a respondent's
//! first survey, then the closed list of each score's band, "Other" with text,
//! Spanish pages, and the collector's memory of a respondent.

use fantoccini::key::Key;
use pulso_e2e::{
    Stack, answered_before, card, choose_score, days_pass, focused_in_card, in_card, legend, press,
    reason_ids, respondent, save_doc_image, send, set_respondent, shown_in_card, spied, tab_to,
    with_browser,
};

/// One respondent: first survey (open), then four later surveys with scores 2→5,
/// 8 and 10, each showing the list of its band; every answer lands in the CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_respondent_gets_the_list_of_each_band() {
    let stack = Stack::start().await;
    let done = format!("{}/done", stack.shop);
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        // A fixed respondent id: its shuffled order, and so the screenshot, is the same every run.
        client.goto(&shop).await.unwrap();
        set_respondent(&client, "docs-respondent").await;
        // First survey: the open question, whatever the score.
        client.goto(&done).await.unwrap();
        let root = card(&client).await;
        choose_score(&root, 9).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Lovely mugs")
            .await
            .unwrap();
        assert!(shown_in_card(&root, "fieldset.reasons").await.is_none());
        send(&root).await;

        // Second survey, score 2: the very unhappy band's list and wording.
        // Each comes after the recontact period (90 days).
        days_pass(&client, 100).await;
        client.goto(&done).await.unwrap();
        let root = card(&client).await;
        choose_score(&root, 2).await;
        assert_eq!(
            legend(&root).await,
            "We are sorry to hear that. What went wrong?"
        );
        let mut shown = reason_ids(&root).await;
        assert_eq!(
            shown.last().map(String::as_str),
            Some("other"),
            "Other is last"
        );
        shown.sort();
        assert_eq!(
            shown,
            [
                "checkout_problems",
                "delivery_late",
                "other",
                "product_damaged",
                "support_unhelpful"
            ]
        );
        let shot = in_card(&root, ".card").await.screenshot().await.unwrap();
        save_doc_image("closed-en.png", &shot);

        // Another band's list starts afresh: what was ticked in this one
        // is not ticked when the score comes back to it.
        in_card(&root, "input[value=delivery_late]")
            .await
            .click()
            .await
            .unwrap();
        choose_score(&root, 5).await;
        assert_eq!(
            legend(&root).await,
            "What is missing for you to give us a higher score?"
        );
        choose_score(&root, 2).await;
        let late = in_card(&root, "input[value=delivery_late]").await;
        assert!(!late.is_selected().await.unwrap(), "unticked");

        // Changing the score to 5 switches to the mildly unhappy band's list.
        choose_score(&root, 5).await;
        assert_eq!(
            legend(&root).await,
            "What is missing for you to give us a higher score?"
        );
        let mut shown = reason_ids(&root).await;
        shown.sort();
        assert_eq!(
            shown,
            ["other", "prices", "shipping_cost", "small_catalogue"]
        );
        in_card(&root, "input[value=prices]")
            .await
            .click()
            .await
            .unwrap();
        in_card(&root, "input[value=shipping_cost]")
            .await
            .click()
            .await
            .unwrap();
        send(&root).await;

        // Score 8: the passives' list.
        days_pass(&client, 100).await;
        client.goto(&done).await.unwrap();
        let root = card(&client).await;
        choose_score(&root, 8).await;
        assert_eq!(legend(&root).await, "What would make it a 9 or 10 for you?");
        let mut shown = reason_ids(&root).await;
        shown.sort();
        assert_eq!(
            shown,
            ["discounts", "faster_delivery", "order_tracking", "other"]
        );
        in_card(&root, "input[value=faster_delivery]")
            .await
            .click()
            .await
            .unwrap();
        send(&root).await;

        // Score 10: the promoters' list; "Other" opens a text box that must be filled.
        days_pass(&client, 100).await;
        client.goto(&done).await.unwrap();
        let root = card(&client).await;
        choose_score(&root, 10).await;
        assert_eq!(
            legend(&root).await,
            "Great to hear! What do you value most?"
        );
        in_card(&root, "input[value=other]")
            .await
            .click()
            .await
            .unwrap();
        let other = in_card(&root, "#pulso-other").await;
        in_card(&root, "button.send").await.click().await.unwrap();
        let alert = in_card(&root, "#pulso-other-error")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(alert, "Please describe your other reason.");
        other.send_keys("Gift wrapping").await.unwrap();
        send(&root).await;
    })
    .await;

    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    let cols = [
        "score",
        "band",
        "first_survey",
        "follow_up",
        "reason_ids",
        "reason_texts",
        "other_text",
        "open_text",
        "locale",
    ];
    let got: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| r.get(Stack::column(c)).unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        got[0],
        [
            "9",
            "promoter",
            "true",
            "open",
            "",
            "",
            "",
            "Lovely mugs",
            "en"
        ]
    );
    assert_eq!(
        got[1],
        [
            "5",
            "detractor_4_6",
            "false",
            "closed",
            "prices;shipping_cost",
            "Lower prices; Cheaper shipping",
            "",
            "",
            "en"
        ]
    );
    assert_eq!(
        got[2],
        [
            "8",
            "passive",
            "false",
            "closed",
            "faster_delivery",
            "Faster delivery",
            "",
            "",
            "en"
        ]
    );
    assert_eq!(
        got[3],
        [
            "10",
            "promoter",
            "false",
            "closed",
            "other",
            "Other",
            "Gift wrapping",
            "",
            "en"
        ]
    );
    let respondents: std::collections::HashSet<_> = rows
        .iter()
        .map(|r| r.get(Stack::column("respondent")).unwrap())
        .collect();
    assert_eq!(respondents.len(), 1, "one respondent throughout");
}

/// A Spanish page gets the Spanish card, and the answer records the locale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spanish_page_gets_the_spanish_card() {
    let stack = Stack::start().await;
    let done = format!("{}/done?lang=es", stack.shop);
    with_browser(move |client| async move {
        client.goto(&done).await.unwrap();
        let root = card(&client).await;
        let question = in_card(&root, ".question").await.text().await.unwrap();
        assert_eq!(
            question,
            "¿Qué probabilidad hay de que recomiendes Pulso Demo Shop a un amigo o colega?"
        );
        let ends = in_card(&root, ".ends").await.text().await.unwrap();
        assert!(
            ends.contains("Nada probable") && ends.contains("Muy probable"),
            "{ends}"
        );
        choose_score(&root, 6).await;
        let label = in_card(&root, "label[for=pulso-text]")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(label, "¿Cuál es la razón principal de tu puntuación?");
        in_card(&root, "textarea")
            .await
            .send_keys("El envío fue lento")
            .await
            .unwrap();
        let shot = in_card(&root, ".card").await.screenshot().await.unwrap();
        save_doc_image("open-es.png", &shot);
        assert_eq!(send(&root).await, "¡Gracias por tu opinión!");
    })
    .await;

    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.get(Stack::column("locale")), Some("es"));
    assert_eq!(row.get(Stack::column("first_survey")), Some("true"));
    assert_eq!(
        row.get(Stack::column("open_text")),
        Some("El envío fue lento")
    );
}

/// The browser forgot (storage cleared) but the collector remembers the
/// respondent: the survey is not their first, so the closed list is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_confirms_a_returning_respondent() {
    let stack = Stack::start().await;
    answered_earlier(&stack, "returning-visitor").await;

    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        client.goto(&shop).await.unwrap();
        set_respondent(&client, "returning-visitor").await;
        client.goto(&format!("{shop}/done")).await.unwrap();
        let root = card(&client).await;
        choose_score(&root, 3).await;
        assert_eq!(
            legend(&root).await,
            "We are sorry to hear that. What went wrong?"
        );
        in_card(&root, "input[value=delivery_late]")
            .await
            .click()
            .await
            .unwrap();
        send(&root).await;
    })
    .await;

    let rows = stack.export_csv().await;
    let latest = rows
        .iter()
        .find(|r| r.get(Stack::column("score")) == Some("3"))
        .unwrap();
    assert_eq!(latest.get(Stack::column("first_survey")), Some("false"));
    assert_eq!(
        latest.get(Stack::column("reason_ids")),
        Some("delivery_late")
    );
    assert_eq!(
        latest.get(Stack::column("respondent")),
        Some(respondent("returning-visitor").as_str())
    );
}

/// An answer of the respondent `label`'s from before, which only the collector knows.
async fn answered_earlier(stack: &Stack, label: &str) {
    let earlier = serde_json::json!({
        "id": "5d0c1f9e-2b3a-4c5d-8e6f-7a8b9c0d1e2f", "rev": 1, "site": "shop",
        "survey": "checkout_nps", "respondent": respondent(label), "score": 7, "locale": "en"
    });
    let stored = reqwest::Client::new()
        .post(format!("{}/v1/responses", stack.collector))
        .json(&earlier)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
}

/// Shows the card on the spy page for `respondent`, with the collector's
/// answer to "has this respondent answered before?" held back.
async fn card_with_the_lookup_held(
    client: &fantoccini::Client,
    page: &str,
    respondent: &str,
) -> fantoccini::elements::ShadowRoot {
    client.goto(page).await.unwrap();
    set_respondent(client, respondent).await;
    client.goto(page).await.unwrap();
    client
        .execute(
            "window.hold = /\\/history$/; pulso('track', 'checkout_done')",
            vec![],
        )
        .await
        .unwrap();
    let root = card(client).await;
    let fetched = spied(client, "fetched").await;
    assert!(
        fetched
            .iter()
            .any(|u| u.ends_with("/v1/sites/shop/history")),
        "{fetched:?}"
    );
    assert_eq!(held(client).await, 1, "the lookup is held back");
    root
}

/// How many of the spy page's fetches are held back.
async fn held(client: &fantoccini::Client) -> serde_json::Value {
    client
        .execute("return window.held.length", vec![])
        .await
        .unwrap()
}

/// The latest answer of the respondent `label` in the export.
async fn latest_of(stack: &Stack, label: &str) -> csv::StringRecord {
    let rows = stack.export_csv().await;
    let id = respondent(label);
    rows.into_iter()
        .rfind(|r| r.get(Stack::column("respondent")) == Some(id.as_str()))
        .expect("an answer of the respondent")
}

/// The card does not wait for the collector's memory of the respondent: it
/// shows while that lookup is held back; a score chosen meanwhile waits for
/// the lookup, and then gets the closed list a returning respondent gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_shows_before_the_collector_answers_who_this_is() {
    let stack = Stack::start().await;
    answered_earlier(&stack, "held-visitor").await;
    let page = format!("{}/t/spy/checkout", stack.shop);
    with_browser(move |client| async move {
        let root = card_with_the_lookup_held(&client, &page, "held-visitor").await;
        choose_score(&root, 3).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        for follow_up in ["fieldset.reasons", "textarea"] {
            assert!(
                shown_in_card(&root, follow_up).await.is_none(),
                "{follow_up} before the lookup answered"
            );
        }
        client.execute("window.release()", vec![]).await.unwrap();
        assert_eq!(
            legend(&root).await,
            "We are sorry to hear that. What went wrong?"
        );
        in_card(&root, "input[value=delivery_late]")
            .await
            .click()
            .await
            .unwrap();
        send(&root).await;
    })
    .await;

    let latest = latest_of(&stack, "held-visitor").await;
    assert_eq!(latest.get(Stack::column("score")), Some("3"));
    assert_eq!(latest.get(Stack::column("first_survey")), Some("false"));
    assert_eq!(
        latest.get(Stack::column("reason_ids")),
        Some("delivery_late")
    );
}

/// A lookup the collector never answers does not hold the card up for good:
/// after 3 s nobody knows, and then it is a first survey (the open question).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_that_never_ends_counts_as_a_first_survey() {
    let stack = Stack::start().await;
    answered_earlier(&stack, "unanswered-visitor").await;
    let page = format!("{}/t/spy/checkout", stack.shop);
    with_browser(move |client| async move {
        let root = card_with_the_lookup_held(&client, &page, "unanswered-visitor").await;
        choose_score(&root, 9).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Quick delivery")
            .await
            .unwrap();
        assert_eq!(held(&client).await, 1, "the lookup is still held back");
        send(&root).await;
    })
    .await;

    let latest = latest_of(&stack, "unanswered-visitor").await;
    assert_eq!(latest.get(Stack::column("score")), Some("9"));
    assert_eq!(latest.get(Stack::column("first_survey")), Some("true"));
    assert_eq!(
        latest.get(Stack::column("open_text")),
        Some("Quick delivery")
    );
}

/// Keyboard alone answers a closed list: arrows pick the score, Space ticks a
/// reason, Tab reaches Send, Enter sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_alone_answers_a_closed_list() {
    let stack = Stack::start().await;
    let shop = stack.shop.clone();
    let first_shown = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = first_shown.clone();
    with_browser(move |client| async move {
        client.goto(&shop).await.unwrap();
        // This browser answered before.
        answered_before(&client).await;
        client.goto(&format!("{shop}/done")).await.unwrap();
        let root = card(&client).await;
        tab_to(&client, "INPUT:radio").await;
        press(&client, &[Key::Right.into(), Key::Right.into()]).await;
        assert_eq!(focused_in_card(&client).await, "INPUT:radio:2");
        let shown = reason_ids(&root).await;
        tab_to(&client, "INPUT:checkbox").await;
        assert_eq!(
            focused_in_card(&client).await,
            format!("INPUT:checkbox:{}", shown[0])
        );
        press(&client, &[' ']).await;
        tab_to(&client, "BUTTON:submit").await;
        press(&client, &[Key::Enter.into()]).await;
        in_card(&root, ".thanks").await;
        *seen.lock().unwrap() = shown[0].clone();
    })
    .await;

    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get(Stack::column("score")), Some("2"));
    let first_shown = first_shown.lock().unwrap().clone();
    assert_eq!(
        rows[0].get(Stack::column("reason_ids")),
        Some(first_shown.as_str())
    );
    assert_eq!(rows[0].get(Stack::column("first_survey")), Some("false"));
}
