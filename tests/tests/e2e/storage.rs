//! What the loader keeps in the browser: its own keys per collector and site,
//! only what it wrote (a planted outbox or id is not believed), everything
//! forgotten on `reset`, and nothing at all before consent where the site
//! asks for it.

use std::time::Duration;

use pulso_e2e::{
    Stack, card, choose_score, eventually, in_card, send, spied, storage_key, with_browser,
};
use serde_json::{Value, json};

/// An answer's outbox entry, as boot.js writes one.
fn entry(n: u64) -> Value {
    let id = format!("00000000-0000-4000-8000-{n:012x}");
    let body = json!({
        "id": id, "rev": 1, "site": "shop", "survey": "checkout_nps",
        "respondent": format!("planted-{n}"), "score": n % 11, "locale": "en"
    });
    json!({"id": id, "rev": 1, "body": body.to_string(), "tries": 0, "at": 0})
}

/// The page's storage keys of the shop's loaders, and their values.
async fn ours(client: &fantoccini::Client) -> serde_json::Map<String, Value> {
    let value = client
        .execute(
            "const o = {}; for (const k of Object.keys(localStorage)) if (k.startsWith('pulso')) o[k] = localStorage[k]; return o",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

async fn posts(client: &fantoccini::Client) -> usize {
    spied(client, "fetched")
        .await
        .iter()
        .filter(|u| u.ends_with("/v1/responses"))
        .count()
}

/// Another collector's outbox on the same origin, and the old shared key,
/// are not this loader's to send; an outbox planted with ten thousand
/// entries costs at most twenty posts; a respondent id that is no UUID is
/// replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_believes_only_its_own_keys() {
    let stack = Stack::start().await;
    let (page, ours_key, rid_key) = (
        format!("{}/t/spy/blog", stack.shop),
        storage_key(&stack.collector, "o"),
        storage_key(&stack.collector, "r"),
    );
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        let foreign = json!([entry(1)]).to_string();
        client
            .execute(
                "localStorage.setItem('pulso:https://other.example:shop:o', arguments[0]); \
                 localStorage.setItem('pulso.outbox', arguments[0]); \
                 localStorage.setItem(arguments[1], 'not-a-uuid\"><script>');",
                vec![foreign.into(), rid_key.clone().into()],
            )
            .await
            .unwrap();
        client.goto(&page).await.unwrap();
        eventually("the configuration fetch", || async {
            (!spied(&client, "fetched").await.is_empty()).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            posts(&client).await,
            0,
            "nothing of another collector's is sent"
        );
        let rid = ours(&client).await[&rid_key].as_str().unwrap().to_owned();
        assert!(
            rid.len() == 36 && rid.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
            "a new respondent id: {rid}"
        );

        let planted: Vec<Value> = (100..10_100).map(entry).collect();
        client
            .execute(
                "localStorage.setItem(arguments[0], JSON.stringify(arguments[1]))",
                vec![ours_key.clone().into(), Value::Array(planted)],
            )
            .await
            .unwrap();
        client.goto(&page).await.unwrap();
        eventually("the outbox to be sent", || async {
            (posts(&client).await > 0).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let sent = posts(&client).await;
        assert!((1..=20).contains(&sent), "{sent} posts");
    })
    .await;
    assert!(stack.export_csv().await.len() <= 20);
}

/// `pulso('reset')` (a sign-out on a shared device) forgets everything of
/// the shop's in this browser: the survey history, the outbox, and the
/// respondent id, which is a new one afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_forgets_everything() {
    let stack = Stack::start().await;
    let (page, collector) = (
        format!("{}/t/spy/checkout", stack.shop),
        stack.collector.clone(),
    );
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        client
            .execute("pulso('track', 'checkout_done')", vec![])
            .await
            .unwrap();
        let root = card(&client).await;
        choose_score(&root, 9).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Fine")
            .await
            .unwrap();
        send(&root).await;
        client
            .execute(
                "localStorage.setItem(arguments[0], JSON.stringify([arguments[1]]))",
                vec![storage_key(&collector, "o").into(), entry(7)],
            )
            .await
            .unwrap();
        let before = ours(&client).await;
        assert!(
            before.contains_key(&storage_key(&collector, "t")),
            "{before:?}"
        );
        client.execute("pulso('reset')", vec![]).await.unwrap();
        let after = eventually("the history to go", || async {
            let now = ours(&client).await;
            (!now.contains_key(&storage_key(&collector, "t"))).then_some(now)
        })
        .await;
        let rid = storage_key(&collector, "r");
        assert!(
            !after.contains_key(&storage_key(&collector, "o")),
            "{after:?}"
        );
        let new = eventually("a new respondent id", || async {
            let now = ours(&client).await;
            now.get(&rid).cloned()
        })
        .await;
        assert_ne!(Some(&new), before.get(&rid), "a new respondent");
    })
    .await;
}

/// With `data-consent="required"`, the loader reads and writes nothing and
/// shows no survey (it does not even fetch the configuration) until
/// `pulso('consent', true)`; `pulso('consent', false)` forgets everything
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_stored_or_shown_before_consent() {
    let stack = Stack::start().await;
    let page = format!("{}/t/consent/done", stack.shop);
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        client
            .execute("pulso('track', 'checkout_done', {total: 30})", vec![])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(
            ours(&client).await.is_empty(),
            "nothing written before consent"
        );
        assert!(
            spied(&client, "fetched").await.is_empty(),
            "nothing fetched before consent"
        );
        assert!(
            client
                .find(fantoccini::Locator::Css("pulso-survey"))
                .await
                .is_err()
        );

        client
            .execute(
                "pulso('consent', true); pulso('track', 'checkout_done', {total: 30})",
                vec![],
            )
            .await
            .unwrap();
        let root = card(&client).await;
        choose_score(&root, 8).await;
        in_card(&root, "textarea")
            .await
            .send_keys("After consent")
            .await
            .unwrap();
        send(&root).await;
        assert!(!ours(&client).await.is_empty());

        client
            .execute("pulso('consent', false)", vec![])
            .await
            .unwrap();
        eventually("everything forgotten", || async {
            ours(&client).await.is_empty().then_some(())
        })
        .await;
    })
    .await;
    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][Stack::column("open_text")], "After consent");
}
