//! The NPS programme in a real browser: the card's displays reach the
//! report's response and dismissal rates; the dashboard's segment table.

use fantoccini::Locator;
use pulso_e2e::{
    Stack, TOKEN, card, choose_score, click_when_there, eventually, in_card, no_violations,
    page_html, save_doc_image, send, sign_in, text_when, with_browser, with_browser_in,
};
use serde_json::Value;

/// Through the shop's funnel to its done page, where the card shows.
async fn to_the_card(client: &fantoccini::Client, shop: &str) -> fantoccini::elements::ShadowRoot {
    client.goto(shop).await.unwrap();
    for button in ["add-to-cart", "checkout", "place-order"] {
        click_when_there(client, button).await;
    }
    card(client).await
}

async fn report(collector: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{collector}/v1/sites/shop/report"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The report's overall figures once `holds` is true of them.
async fn once(collector: &str, what: &str, holds: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || async {
        let overall = report(collector).await["overall"].clone();
        holds(&overall).then_some(overall)
    })
    .await
}

/// One visitor closes the card without a score, another answers: two
/// displays, one dismissed, one answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dismissed_card_counts_in_the_dismissal_rate() {
    let stack = Stack::start().await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        let root = to_the_card(&client, &shop).await;
        // Shown: posted as the card appears.
        once(&collector, "a display", |o| o["displays"] == 1).await;
        in_card(&root, "button.close").await.click().await.unwrap();
        once(&collector, "a dismissed display", |o| {
            o["dismissed_displays"] == 1
        })
        .await;
    })
    .await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        let root = to_the_card(&client, &shop).await;
        choose_score(&root, 9).await;
        send(&root).await;
        once(&collector, "the second display", |o| o["displays"] == 2).await;
    })
    .await;
    let o = report(&stack.collector).await["overall"].clone();
    assert_eq!(o["displays"], 2, "{o}");
    assert_eq!(o["dismissed_displays"], 1, "{o}");
    assert_eq!(o["answers"], 1, "{o}");
    assert_eq!(o["response_rate"], 0.5);
    assert_eq!(o["dismissal_rate"], 0.5);
    let step = &report(&stack.collector).await["by_step"]["checkout_done"];
    assert_eq!(step["displays"], 2, "{step}");
}

const PASSWORD: &str = "juniper-anvil-lotus-7";

/// The dashboard's segment table, in English and Spanish, by a signed-in
/// analyst who picks the breakdown in the filter form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_breaks_the_nps_down_by_a_kept_trait() {
    let stack = Stack::start_edited(|text| {
        text.replace(
            "[sites.shop]",
            "[server.limits]\nper_ip_burst = 1000\n\n[sites.shop]\nkeep_traits = [\"plan\"]",
        )
    })
    .await;
    let http = reqwest::Client::new();
    let mut n = 0;
    for (plan, scores) in [
        ("team", [10, 9, 9, 10, 8, 9, 10, 7]),
        ("pro", [9, 8, 7, 10, 6, 9, 8, 9]),
        ("free", [3, 6, 8, 2, 9, 5, 7, 4]),
    ] {
        for _ in 0..5 {
            for score in scores {
                n += 1;
                let answer = serde_json::json!({
                    "id": format!("5d0c1f9e-2b3a-4c5d-8e6f-{n:012x}"), "rev": 1, "site": "shop",
                    "survey": "checkout_nps", "respondent": format!("r-{n}"), "score": score,
                    "locale": "en", "traits": {"plan": plan},
                });
                let response = http
                    .post(format!("{}/v1/responses", stack.collector))
                    .json(&answer)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        }
    }
    stack.pulso_user(
        &[
            "add",
            "--email",
            "ana@shop.test",
            "--name",
            "Ana",
            "--site",
            "shop",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    for (languages, heading, free) in [
        ("en-US,en", "NPS by segment", "free"),
        ("es-ES,es", "NPS por segmento", "free"),
    ] {
        let collector = stack.collector.clone();
        with_browser_in(languages, move |client| async move {
            client.set_window_size(1000, 1900).await.unwrap();
            sign_in(&client, &collector, "ana@shop.test", PASSWORD).await;
            client
                .goto(&format!("{collector}/dashboard/shop"))
                .await
                .unwrap();
            // The breakdown is chosen in the form, as an analyst does.
            client
                .find(Locator::Css("select[name=by] option[value='trait:plan']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            client
                .find(Locator::Css("form.filters button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let table = text_when(&client, "table.segments", |t| t.contains(free)).await;
            let html = page_html(&client).await;
            assert!(html.contains(heading), "{heading}");
            // free: 1 promoter, 2 passives, 5 detractors per 8: NPS −50,
            // far below the rest: significant.
            let row = table.lines().find(|l| l.starts_with("free")).unwrap();
            assert!(row.starts_with("free 40 -50 ±"), "{row}");
            assert!(
                row.ends_with("(significant)") || row.ends_with("(significativo)"),
                "{row}"
            );
            no_violations(&client, "the segment table").await;
            if languages.starts_with("en") {
                let png = client.screenshot().await.unwrap();
                save_doc_image("segments.png", &png);
            }
            // This week's digest as its printable page.
            let today = jiff::Timestamp::now()
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date();
            let week = collector::digest::Period::week_of(today).label();
            client
                .goto(&format!("{collector}/dashboard/shop/weekly?week={week}"))
                .await
                .unwrap();
            let heading = text_when(&client, "h1", |t| t.contains(&week)).await;
            let html = page_html(&client).await;
            let (named, says) = if languages.starts_with("en") {
                ("week", "from 120 answers")
            } else {
                ("semana", "de 120 respuestas")
            };
            assert!(heading.contains(named), "{heading}");
            assert!(html.contains(says), "{html}");
            no_violations(&client, "the weekly digest's page").await;
            if languages.starts_with("en") {
                let png = client.screenshot().await.unwrap();
                save_doc_image("weekly.png", &png);
            }
        })
        .await;
    }
}
