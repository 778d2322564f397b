//! The analysts' side in a real browser: answers made in the widget appear on
//! the dashboard of a signed-in analyst.

use fantoccini::Locator;
use pulso_e2e::{
    Stack, TOKEN, answered_before, card, choose_score, eventually, in_card, page_html,
    save_doc_image, send, with_browser,
};

const PASSWORD: &str = "harbour-pepper-quill-5";

/// Six weeks of history, so the trend has something to show.
async fn history(stack: &Stack) -> u64 {
    let store = collector::store::Store::open(&format!("sqlite://{}", stack.database().display()))
        .await
        .unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    let week = 7 * 24 * 3600 * 1000;
    let reasons = [
        ("detractor_0_3", "delivery_late", "My order arrived late"),
        ("detractor_4_6", "prices", "Lower prices"),
        ("passive", "faster_delivery", "Faster delivery"),
        ("promoter", "product_quality", "The quality of the products"),
    ];
    let mut n = 0;
    for w in 1..=6u64 {
        for i in 0..14u64 {
            n += 1;
            // Scores drift upwards over the weeks.
            let score = ((i * 7 + w * 3) % 11).max(if w > 3 { 4 } else { 0 }) as u8;
            let class = survey::Score::new(score).unwrap().class().as_str();
            let (band, reason, text) = reasons[match score {
                0..=3 => 0,
                4..=6 => 1,
                7..=8 => 2,
                _ => 3,
            }];
            let answer = collector::store::NewAnswer {
                id: format!("00000000-0000-4000-8000-{n:012x}"),
                rev: 2,
                site: "shop".into(),
                survey: "checkout_nps".into(),
                respondent: format!("history-{n}"),
                score,
                class,
                band: band.into(),
                step: Some(
                    if i.is_multiple_of(3) {
                        "onboarding"
                    } else {
                        "checkout_done"
                    }
                    .into(),
                ),
                page: Some("/done".into()),
                locale: "en".into(),
                user_id: None,
                user_verified: None,
                props: "{}".into(),
                traits: None,
                first_survey: Some(false),
                cta: None,
                follow_up: Some("closed"),
                open_text: None,
                reason_ids: Some(reason.into()),
                reason_texts: Some(text.into()),
                other_text: None,
                owner: None,
                at_millis: now - (6 - w as i64) * week - (i as i64) * 3_600_000,
                events: None,
            };
            store.upsert(answer).await.unwrap();
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_made_in_the_browser_appear_on_the_dashboard() {
    let stack = Stack::start().await;
    let stored = history(&stack).await;
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
            "admin",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        // A returning visitor answers the closed list with "Other".
        client.goto(&shop).await.unwrap();
        answered_before(&client).await;
        client.goto(&format!("{shop}/done")).await.unwrap();
        let root = card(&client).await;
        choose_score(&root, 3).await;
        in_card(&root, "input[value=other]")
            .await
            .click()
            .await
            .unwrap();
        in_card(&root, "#pulso-other")
            .await
            .send_keys("Made in the browser")
            .await
            .unwrap();
        send(&root).await;

        // The analyst opens the dashboard and signs in on the way.
        client.set_window_size(1000, 2300).await.unwrap();
        client
            .goto(&format!("{collector}/dashboard/shop"))
            .await
            .unwrap();
        for (field, text) in [("email", "ana@shop.test"), ("password", PASSWORD)] {
            client
                .find(Locator::Id(field))
                .await
                .unwrap()
                .send_keys(text)
                .await
                .unwrap();
        }
        client
            .find(Locator::Css("form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The form posts, the collector redirects: wait for the page that follows.
        let headline = eventually("the dashboard after signing in", || async {
            client
                .find(Locator::Css(".headline"))
                .await
                .ok()?
                .text()
                .await
                .ok()
        })
        .await;
        assert!(
            headline.contains(&format!("NPS from {} answers", stored + 1)),
            "{headline}"
        );
        let html = page_html(&client).await;
        assert!(
            html.contains("Made in the browser"),
            "the browser's answer is on the page"
        );
        assert!(html.contains("The quality of the products"));
        let png = client.screenshot().await.unwrap();
        save_doc_image("dashboard.png", &png);
    })
    .await;
}

/// The CSV export opens correctly in LibreOffice: converted to a spreadsheet and
/// back, every cell is what the export said (UTF-8, quotes, commas, line breaks),
/// and a formula-looking text stays text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_opens_in_libreoffice() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    for (n, score, follow_up) in [
        (
            1,
            2,
            serde_json::json!({"kind": "open", "text": "Llegó tarde, \"muy\" tarde\ny roto: ñandú ☃"}),
        ),
        (
            2,
            9,
            serde_json::json!({"kind": "closed", "reasons": ["other"], "other": "=HYPERLINK(\"http://x\")"}),
        ),
        (
            3,
            7,
            serde_json::json!({"kind": "closed", "reasons": ["faster_delivery", "discounts"]}),
        ),
    ] {
        let answer = serde_json::json!({
            "id": format!("5d0c1f9e-2b3a-4c5d-8e6f-7a8b9c0d1e2{n}"), "rev": 1, "site": "shop",
            "survey": "checkout_nps", "respondent": format!("r-{n}"), "score": score,
            "locale": "es", "first_survey": n == 1, "props": {"plan": "pro", "items": n},
            "follow_up": follow_up
        });
        let response = http
            .post(format!("{}/v1/responses", stack.collector))
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let csv = http
        .get(format!(
            "{}/v1/sites/shop/export?format=csv",
            stack.collector
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = stack.dir.path();
    std::fs::write(dir.join("export.csv"), &csv).unwrap();

    let soffice = |args: &[&str]| {
        let profile = format!("-env:UserInstallation=file://{}/lo-profile", dir.display());
        let out = std::process::Command::new(
            std::env::var_os("PULSO_E2E_SOFFICE").expect("PULSO_E2E_SOFFICE"),
        )
        .args(["--headless", &profile])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run soffice");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Import as UTF-8 CSV (44 = comma, 34 = quote, 76 = UTF-8), save as a spreadsheet,
    // then write that spreadsheet out as CSV again.
    soffice(&[
        "--infilter=CSV:44,34,76,1",
        "--convert-to",
        "xlsx",
        "--outdir",
        "sheet",
        "export.csv",
    ]);
    soffice(&[
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
        "--outdir",
        "back",
        "sheet/export.xlsx",
    ]);

    let read = |text: &str| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let original = read(&csv);
    let round_trip = read(&std::fs::read_to_string(dir.join("back/export.csv")).unwrap());
    assert_eq!(original.len(), 4, "header and three answers");
    // Every cell reads back as the export wrote it; first_survey is read as a
    // spreadsheet boolean (true -> TRUE), which is what it is.
    let flag = Stack::column("first_survey");
    let upper = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == flag {
                            c.to_uppercase()
                        } else {
                            c.clone()
                        }
                    })
                    .collect()
            })
            .collect()
    };
    assert_eq!(upper(&round_trip), upper(&original));
    assert_eq!(round_trip[1][flag], "TRUE");
    let text = Stack::column("open_text");
    assert_eq!(
        original[1][text],
        "Llegó tarde, \"muy\" tarde\ny roto: ñandú ☃"
    );
    assert_eq!(
        original[2][Stack::column("other_text")],
        "'=HYPERLINK(\"http://x\")"
    );
}
