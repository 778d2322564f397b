//! What a respondent is owed, end to end: a verified identify carried from
//! the page to the stored answer, and the collector's retention run.

use pulso_e2e::{Stack, card, choose_score, in_card, send, with_browser};
use sqlx::Connection;

const SECRET: &str = "identity-secret-0123456789";

/// The site's backend vouches for its user with the HMAC of the id; the
/// card carries it, and the answer is stored as verified. A page that only
/// claims a user id gets it stored as unverified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_identify_reaches_the_stored_answer() {
    let stack = Stack::start_edited(|text| {
        text.replace(
            "[sites.shop]\n",
            &format!("[sites.shop]\nidentity_secret = \"{SECRET}\"\n"),
        )
    })
    .await;
    let hash = collector::identity::user_hash(&collector::config::Secret::new(SECRET), "u-42");
    let page = format!("{}/t/checkout", stack.shop);
    with_browser(move |client| async move {
        for (user, hash) in [("u-42", Some(hash)), ("u-43", None)] {
            client.goto(&page).await.unwrap();
            client.execute("localStorage.clear()", vec![]).await.unwrap();
            client.goto(&page).await.unwrap();
            client
                .execute(
                    "pulso('identify', arguments[0], {}, arguments[1] ? {hash: arguments[1]} : undefined); \
                     pulso('track', 'checkout_done')",
                    vec![user.into(), serde_json::json!(hash)],
                )
                .await
                .unwrap();
            let root = card(&client).await;
            choose_score(&root, 4).await;
            in_card(&root, "textarea").await.send_keys("Who am I").await.unwrap();
            send(&root).await;
        }
    })
    .await;
    let rows = stack.export_csv().await;
    let verified: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[Stack::column("user_id")].to_owned(),
                r[Stack::column("user_verified")].to_owned(),
            )
        })
        .collect();
    assert_eq!(
        verified,
        [
            ("u-42".into(), "true".into()),
            ("u-43".into(), "false".into())
        ]
    );
}

/// A site with `retention_days` loses its older answers when the collector
/// starts (and daily after): an answer of 400 days ago goes, today's stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_when_the_collector_starts() {
    let mut stack = Stack::start_edited(|text| {
        text.replace("[sites.shop]\n", "[sites.shop]\nretention_days = 30\n")
    })
    .await;
    let http = reqwest::Client::new();
    for n in 1..=2 {
        let answer = serde_json::json!({
            "id": format!("00000000-0000-4000-8000-00000000000{n}"), "rev": 1, "site": "shop",
            "survey": "checkout_nps", "respondent": format!("r-{n}"), "score": 9, "locale": "en"
        });
        let r = http
            .post(format!("{}/v1/responses", stack.collector))
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The first answer was given 400 days ago.
    let old = jiff::Timestamp::now().as_millisecond() - 400 * 86_400_000;
    let database = format!("sqlite://{}", stack.database().display());
    let mut db = sqlx::SqliteConnection::connect(&database).await.unwrap();
    sqlx::query("UPDATE answers SET created_at = $1 WHERE respondent = 'r-1'")
        .bind(old)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    stack.kill().await;
    stack.restart().await;
    let left = pulso_e2e::eventually("the old answer to go", || async {
        let rows = stack.export_csv().await;
        (rows.len() == 1).then_some(rows)
    })
    .await;
    assert_eq!(&left[0][Stack::column("respondent")], "r-2");
}
