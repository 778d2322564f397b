//! The inbox closes the loop in real browsers: a detractor answers on the
//! demo shop; an agent signs in, finds the answer under "Unassigned
//! detractors", takes it, adds a note, replies and resolves it; the
//! respondent's next page view of the shop shows the reply once, and the one
//! after it does not; the agent sees that the reply was read. axe-core on the
//! inbox and the answer page, in English and Spanish; screenshots for the
//! README.

use std::time::Duration;

use fantoccini::{Client, Locator};
use pulso_e2e::{
    Stack, card, choose_score, click, click_when_there, eventually, in_card, link_in,
    no_violations, page_html, save_page_image, set_password, sign_in, text_when, type_into,
    with_browser, with_browser_in,
};

const PASSWORD: &str = "lantern-quince-harbour-31";
const COMPLAINT: &str = "The parcel arrived a week late";
const NOTE: &str = "Courier lost the first van; refund of shipping issued";
const REPLY: &str = "Sorry about the late parcel. We changed courier, and refunded the shipping.";

/// The agent's part, in its own browser: from the sign-in to "resolved".
/// Returns the answer page's path.
async fn agent_works_the_answer(client: Client, collector: String, link: String) -> String {
    client.set_window_size(1200, 1300).await.unwrap();
    set_password(&client, &format!("{collector}{link}"), PASSWORD).await;
    sign_in(&client, &collector, "ana@shop.test", PASSWORD).await;

    client
        .goto(&format!("{collector}/dashboard/shop/answers"))
        .await
        .unwrap();
    client
        .find(Locator::LinkText("Unassigned detractors"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the filtered inbox", || async {
        let url = client.current_url().await.ok()?;
        url.query()
            .is_some_and(|q| q.contains("owner=none") && q.contains("class=detractor"))
            .then_some(())
    })
    .await;
    let row = text_when(&client, "table tbody tr", |_| true).await;
    assert!(row.contains(COMPLAINT), "{row}");
    assert!(row.contains("checkout_done"), "{row}");
    no_violations(&client, "the inbox").await;
    // Every answer, for the README.
    client
        .goto(&format!("{collector}/dashboard/shop/answers?status=all"))
        .await
        .unwrap();
    save_page_image(&client, "inbox.png").await;
    client.back().await.unwrap();
    let again = text_when(&client, "table tbody tr", |_| true).await;
    assert_eq!(again, row, "back to unassigned detractors");

    click(
        &client,
        "table tbody tr a[href^='/dashboard/shop/answers/']",
    )
    .await;
    let path = arrive_answer(&client).await;
    no_violations(&client, "the answer page").await;

    // Take it: Ana owns it, and it is open.
    click(&client, "form.take button").await;
    let notice = text_when(&client, ".notice", |_| true).await;
    assert!(!notice.is_empty());
    let facts = text_when(&client, "dl.facts", |_| true).await;
    assert!(facts.contains("ana@shop.test"), "{facts}");

    // A note for the team, then the reply to the respondent.
    type_into(&client, "w-note", NOTE).await;
    click(&client, "form[action$='/notes'] button").await;
    text_when(&client, "ol.feed", |t| t.contains(NOTE)).await;
    let reply_box = client.find(Locator::Id("w-reply")).await.unwrap();
    reply_box.clear().await.unwrap();
    reply_box.send_keys(REPLY).await.unwrap();
    click(&client, "form[action$='/replies'] button").await;
    text_when(&client, "ol.feed", |t| t.contains(REPLY)).await;

    // Resolved.
    click(&client, "#w-status option[value=resolved]").await;
    click(&client, &format!("form.stack[action='{path}'] button")).await;
    text_when(&client, "dl.facts", |t| t.contains("Resolved")).await;
    no_violations(&client, "the answer page, worked").await;
    // The respondent's id is new each run: shown as a fixed example.
    client
        .execute(
            "document.querySelectorAll('dd code').forEach(function (c) {
               c.textContent = '5e3d1c0b-9a8f-4e7d-8c6b-0a1b2c3d4e5f';
             });",
            vec![],
        )
        .await
        .unwrap();
    save_page_image(&client, "answer.png").await;
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_detractor_and_the_reply_reaches_them() {
    let stack = Stack::start().await;
    let link = link_in(&stack.pulso_user(
        &[
            "add",
            "--email",
            "ana@shop.test",
            "--name",
            "Ana Alba",
            "--site",
            "shop",
            "--role",
            "agent",
        ],
        "",
    ));
    // Answers from earlier in the week, so that the inbox is not empty.
    let http = reqwest::Client::new();
    for (n, score, follow_up) in [
        (
            1,
            10,
            serde_json::json!({"kind": "open", "text": "Fast checkout, lovely packaging"}),
        ),
        (
            2,
            7,
            serde_json::json!({"kind": "closed", "reasons": ["faster_delivery"]}),
        ),
        (
            3,
            4,
            serde_json::json!({"kind": "open", "text": "The coupon code did not work"}),
        ),
    ] {
        let answer = serde_json::json!({
            "id": format!("7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5{n}"), "rev": 1, "site": "shop",
            "survey": "checkout_nps", "respondent": format!("b7e4c2a0-0000-4000-8000-00000000000{n}"),
            "score": score, "locale": "en", "first_survey": true, "step": "checkout_done",
            "follow_up": follow_up
        });
        let response = http
            .post(format!("{}/v1/responses", stack.collector))
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
    let (collector, shop) = (stack.collector.clone(), stack.shop.clone());
    with_browser(move |respondent| async move {
        // A detractor, through the funnel.
        respondent.goto(&shop).await.unwrap();
        for button in ["add-to-cart", "checkout", "place-order"] {
            click_when_there(&respondent, button).await;
        }
        let root = card(&respondent).await;
        choose_score(&root, 2).await;
        in_card(&root, "textarea")
            .await
            .send_keys(COMPLAINT)
            .await
            .unwrap();
        in_card(&root, "button.send").await.click().await.unwrap();
        in_card(&root, ".thanks").await;

        // The agent, on another computer.
        let answer = tokio::sync::Mutex::new(String::new());
        let answer = std::sync::Arc::new(answer);
        with_browser({
            let (collector, answer) = (collector.clone(), answer.clone());
            move |agent| async move {
                *answer.lock().await = agent_works_the_answer(agent, collector, link).await;
            }
        })
        .await;
        let answer = answer.lock().await.clone();

        // The respondent comes back: the reply shows on the next page view
        // (the collector lists waiting replies within seconds).
        let reply = eventually("the reply card", || async {
            respondent.goto(&shop).await.ok()?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let host = respondent.find(Locator::Css("pulso-survey")).await.ok()?;
            let root = host.shadow_root().await.ok()?;
            root.find(Locator::Css("p.reply")).await.ok()?.text().await.ok()
        })
        .await;
        assert_eq!(reply, REPLY);
        let root = card(&respondent).await;
        let title = in_card(&root, ".question").await.text().await.unwrap();
        assert_eq!(title, "A reply to your feedback");
        let violations = pulso_e2e::axe_violations(&respondent).await;
        assert_eq!(violations, Vec::<String>::new(), "the reply card");
        in_card(&root, "button.close").await.click().await.unwrap();
        eventually("the card closed", || async {
            respondent
                .find(Locator::Css("pulso-survey"))
                .await
                .is_err()
                .then_some(())
        })
        .await;

        // Seen: the next page view shows nothing, and the agent's feed says so.
        respondent.goto(&shop).await.unwrap();
        eventually("the configuration fetch", || async {
            let list = respondent
                .execute(
                    "return performance.getEntriesByType('resource').map(function (e) { return e.name })",
                    vec![],
                )
                .await
                .ok()?;
            let list: Vec<String> = serde_json::from_value(list).ok()?;
            list.iter().any(|r| r.ends_with("/v1/sites/shop/config")).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(
            respondent.find(Locator::Css("pulso-survey")).await.is_err(),
            "the reply shows once"
        );
        with_browser(move |agent| async move {
            sign_in(&agent, &collector, "ana@shop.test", PASSWORD).await;
            agent.goto(&format!("{collector}{answer}")).await.unwrap();
            let feed = text_when(&agent, "ol.feed", |_| true).await;
            assert!(feed.contains("The respondent saw the reply"), "{feed}");
        })
        .await;
    })
    .await;

    // The inbox and the answer page in Spanish.
    let collector = stack.collector.clone();
    with_browser_in("es-ES,es", move |client| async move {
        sign_in(&client, &collector, "ana@shop.test", PASSWORD).await;
        client
            .goto(&format!("{collector}/dashboard/shop/answers?status=all"))
            .await
            .unwrap();
        let html = page_html(&client).await;
        assert!(html.contains("<html lang=\"es\">"), "{html}");
        no_violations(&client, "la bandeja").await;
        click(
            &client,
            "table tbody tr a[href^='/dashboard/shop/answers/']",
        )
        .await;
        arrive_answer(&client).await;
        let html = page_html(&client).await;
        assert!(html.contains("Resuelta"), "{html}");
        no_violations(&client, "la respuesta").await;
        // The dashboard's inbox section: the follow-up times of the work done.
        client
            .goto(&format!("{collector}/dashboard/shop"))
            .await
            .unwrap();
        let html = page_html(&client).await;
        assert!(html.contains("Tiempos de seguimiento"), "{html}");
        assert!(html.contains("n = 1"), "{html}");
        no_violations(&client, "el panel").await;
    })
    .await;
}

/// Waits for an answer page, and returns its path.
async fn arrive_answer(client: &Client) -> String {
    eventually("an answer page", || async {
        let url = client.current_url().await.ok()?;
        let path = url.path().to_owned();
        let id = path.strip_prefix("/dashboard/shop/answers/")?;
        (id.len() > 20 && !id.contains('/')).then_some(path)
    })
    .await
}
