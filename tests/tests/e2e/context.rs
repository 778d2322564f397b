//! What a page passes in never costs a respondent's answer: the card drops
//! what the collector would refuse (and says so once), and an answer the
//! collector refuses for good is reported in the console, never lost in
//! silence.

use pulso_e2e::{Stack, card, choose_score, eventually, in_card, send, spied, with_browser};

/// Props the collector would refuse (a name outside the id characters, a
/// value over the cap, NaN, an object) cost the answer nothing: the card
/// leaves them out, names them in one console warning, and the answer with
/// the rest of its props is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn props_a_collector_would_refuse_are_dropped_with_one_warning() {
    let stack = Stack::start().await;
    let page = format!("{}/t/spy/checkout", stack.shop);
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        client
            .execute(
                "pulso('track', 'checkout_done', {'plan.tier': 'pro', plan: 'pro', n: NaN, \
                 note: 'x'.repeat(600), cart: {items: 2}, total: 24})",
                vec![],
            )
            .await
            .unwrap();
        let root = card(&client).await;
        choose_score(&root, 3).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Props or not, here is my answer")
            .await
            .unwrap();
        assert_eq!(send(&root).await, "Thank you for your feedback!");
        let warned: Vec<String> = spied(&client, "warned")
            .await
            .into_iter()
            .filter(|w| w.starts_with("pulso: dropped"))
            .collect();
        assert_eq!(
            warned,
            ["pulso: dropped: props.plan.tier, props.n, props.note, props.cart"],
            "one warning naming each"
        );
    })
    .await;
    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(&rows[0][Stack::column("score")], "3");
    assert_eq!(
        &rows[0][Stack::column("props")],
        r#"{"plan":"pro","total":24.0}"#
    );
}

/// An answer the collector refuses for good is not dropped in silence: the
/// loader logs the collector's error once, whether the refusal meets the
/// card's own post (its survey is gone from a collector restarted with a new
/// configuration) or an answer waiting in the outbox; a refused display
/// is named as one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_answer_is_logged_with_the_collectors_error() {
    let stack = std::sync::Arc::new(tokio::sync::Mutex::new(Stack::start().await));
    let (page, collector, handle) = {
        let s = stack.lock().await;
        (
            format!("{}/t/spy/checkout", s.shop),
            s.collector.clone(),
            stack.clone(),
        )
    };
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        client
            .execute("pulso('track', 'checkout_done')", vec![])
            .await
            .unwrap();
        let root = card(&client).await;
        // The survey is renamed while the card is on screen.
        {
            let mut stack = handle.lock().await;
            let config = stack.dir.path().join("pulso.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            std::fs::write(
                &config,
                text.replace("id = \"checkout_nps\"", "id = \"renamed_nps\""),
            )
            .unwrap();
            stack.kill().await;
            stack.restart().await;
        }
        choose_score(&root, 6).await;
        let refused = eventually("the refusal in the console", || async {
            let warned = spied(&client, "warned").await;
            let refused: Vec<String> = warned
                .into_iter()
                .filter(|w| w.starts_with("pulso: answer refused"))
                .collect();
            (!refused.is_empty()).then_some(refused)
        })
        .await;
        assert_eq!(refused, ["pulso: answer refused: unknown_survey survey"]);

        // An answer left in the outbox that the collector refuses.
        let bad = serde_json::json!({
            "id": "00000000-0000-4000-8000-00000000abcd", "rev": 1, "site": "shop",
            "survey": "renamed_nps", "respondent": "r-outbox", "score": 11, "locale": "en"
        });
        assert_eq!(
            refused_from_outbox(&client, &page, &collector, &bad).await,
            "pulso: answer refused: score_out_of_range score"
        );
        // A display of the survey that is gone: named as a display.
        let display = serde_json::json!({
            "id": "00000000-0000-4000-8000-00000000dcba", "rev": 1, "site": "shop",
            "survey": "checkout_nps", "display": "shown"
        });
        assert_eq!(
            refused_from_outbox(&client, &page, &collector, &display).await,
            "pulso: display refused: unknown_survey survey"
        );
    })
    .await;
}

/// Leaves `body` alone in the outbox, loads `page` (whose loader sends the
/// outbox at once) and returns the refusal it logs.
async fn refused_from_outbox(
    client: &fantoccini::Client,
    page: &str,
    collector: &str,
    body: &serde_json::Value,
) -> String {
    client
        .execute(
            "localStorage.setItem(arguments[2], JSON.stringify([{id: arguments[0], rev: 1, \
             body: arguments[1], tries: 0, at: 0}]))",
            vec![
                body["id"].clone(),
                body.to_string().into(),
                pulso_e2e::storage_key(collector, "o").into(),
            ],
        )
        .await
        .unwrap();
    client.goto(page).await.unwrap();
    eventually("the outbox's refusal in the console", || async {
        let warned = spied(client, "warned").await;
        warned.into_iter().find(|w| w.contains(" refused: "))
    })
    .await
}
