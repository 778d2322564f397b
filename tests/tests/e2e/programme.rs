//! The NPS programme in a real browser: the card's displays reach the
//! report's response and dismissal rates; the dashboard's segment table.

use fantoccini::Locator;
use pulso_e2e::{
    Stack, TOKEN, axe_violations, card, choose_score, click_when_there, eventually, in_card,
    no_violations, page_html, press, save_doc_image, send, shown_in_card, sign_in, tab_to,
    text_when, with_browser, with_browser_in,
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

/// A promoter's thank-you asks for a review (the demo shop's call to
/// action); the promoter reaches it by keyboard and follows it; the report
/// counts the offer and the click. A detractor's thank-you says when the
/// team will be in touch, and offers nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoter_follows_the_call_to_action_and_the_report_counts_it() {
    let stack = Stack::start_edited(|text| {
        text.replacen(
            "id = \"detractor_0_3\"\nmin = 0\nmax = 3\n",
            "id = \"detractor_0_3\"\nmin = 0\nmax = 3\nthanks = { in_touch = true }\n",
            1,
        )
    })
    .await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        let root = to_the_card(&client, &shop).await;
        choose_score(&root, 9).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Quick delivery")
            .await
            .unwrap();
        assert_eq!(send(&root).await, "Thank you for your feedback!");
        let link = in_card(&root, "a.cta").await;
        assert_eq!(link.text().await.unwrap(), "Leave us a review");
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some("https://reviews.example/pulso-demo-shop")
        );
        assert_eq!(
            link.attr("target").await.unwrap().as_deref(),
            Some("_blank")
        );
        assert_eq!(axe_violations(&client).await, Vec::<String>::new());
        let shot = in_card(&root, ".card").await.screenshot().await.unwrap();
        save_doc_image("thanks.png", &shot);
        // Offered with the follow-up, not clicked yet.
        let offered = eventually("the offer", || async {
            let ctas = report(&collector).await["calls_to_action"].clone();
            (ctas["promoter"]["offered"] == 1).then_some(ctas)
        })
        .await;
        assert_eq!(offered["promoter"]["clicked"], 0, "{offered}");
        // By keyboard, as a link is followed: Tab to it, Enter.
        tab_to(&client, "A:").await;
        press(&client, &[fantoccini::key::Key::Enter.into()]).await;
        let clicked = eventually("the click", || async {
            let ctas = report(&collector).await["calls_to_action"].clone();
            (ctas["promoter"]["clicked"] == 1).then_some(ctas)
        })
        .await;
        assert_eq!(
            clicked,
            serde_json::json!({"promoter": {"offered": 1, "clicked": 1, "click_rate": 1.0}})
        );
    })
    .await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        let root = to_the_card(&client, &shop).await;
        choose_score(&root, 2).await;
        assert_eq!(
            send(&root).await,
            "Thank you for telling us. Our team will get back to you within 24 hours."
        );
        assert!(shown_in_card(&root, "a.cta").await.is_none());
        once(&collector, "the detractor's answer", |o| o["answers"] == 2).await;
    })
    .await;
    let report = report(&stack.collector).await;
    assert_eq!(report["calls_to_action"]["promoter"]["clicked"], 1);
    assert!(report["calls_to_action"].get("detractor_0_3").is_none());
    let rows = stack.export_csv().await;
    let cta = Stack::column("cta");
    let mut marks: Vec<&str> = rows.iter().map(|r| &r[cta]).collect();
    marks.sort_unstable();
    assert_eq!(marks, ["", "clicked"]);

    // The dashboard's table of calls to action, in English and Spanish.
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
    for (languages, row) in [
        ("en-US,en", "promoter 1 1 100%"),
        ("es-ES,es", "promoter 1 1 100 %"),
    ] {
        let collector = stack.collector.clone();
        with_browser_in(languages, move |client| async move {
            sign_in(&client, &collector, "ana@shop.test", PASSWORD).await;
            client
                .goto(&format!("{collector}/dashboard/shop"))
                .await
                .unwrap();
            let table = text_when(&client, "table.ctas", |t| t.contains("promoter")).await;
            assert!(table.lines().any(|l| l == row), "{table}");
            no_violations(&client, "the calls to action").await;
        })
        .await;
    }
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
