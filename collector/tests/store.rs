//! The store on its own, on SQLite and (through `cargo xtask test`) PostgreSQL:
//! answers that arrive together are committed together, each judged in order.

mod common;

use collector::store::{Filter, NewAnswer, Store, Upsert};
use futures_util::StreamExt;

fn answer(id: &str, rev: u32, respondent: &str, open: Option<&str>) -> NewAnswer {
    NewAnswer {
        id: id.into(),
        rev,
        site: "shop".into(),
        survey: "checkout_nps".into(),
        respondent: respondent.into(),
        score: 4,
        class: "detractor",
        band: "detractor_4_6".into(),
        step: Some("checkout_done".into()),
        page: Some("/done".into()),
        locale: "en".into(),
        user_id: None,
        props: "{}".into(),
        first_survey: Some(true),
        follow_up: open.map(|_| "open"),
        open_text: open.map(str::to_owned),
        reason_ids: None,
        reason_texts: None,
        other_text: None,
        at_millis: 1_764_000_000_000 + i64::from(rev),
        webhooks: Vec::new(),
    }
}

async fn rows(store: &Store) -> Vec<collector::store::AnswerRow> {
    store
        .answers("shop", &Filter::default())
        .map(|r| r.unwrap())
        .collect()
        .await
}

/// Sixty revisions of one answer and forty other answers, all at once: they
/// share batches, the highest revision wins, nothing is stored twice, and an
/// intruder's post for a taken id is refused in the same batch.
#[tokio::test]
async fn answers_posted_together_are_judged_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&common::database_url(dir.path()).await)
        .await
        .unwrap();
    let id = "6f1c2a3b-4d5e-4f60-8a7b-000000000001";
    assert_eq!(
        store.upsert(answer(id, 1, "owner", None)).await.unwrap(),
        Upsert::Stored
    );
    let mut revisions: Vec<u32> = (2..=61).collect();
    // A fixed shuffle: later revisions often arrive before earlier ones.
    revisions.sort_by_key(|r| (r * 37) % 61);
    let mut posts = Vec::new();
    for rev in &revisions {
        let text = (*rev == 61).then_some("the last word");
        posts.push(store.upsert(answer(id, *rev, "owner", text)));
    }
    posts.push(store.upsert(answer(id, 99, "intruder", None)));
    for n in 0..40 {
        let other = format!("6f1c2a3b-4d5e-4f60-8a7b-1000000000{n:02}");
        posts.push(store.upsert(answer(&other, 1, "someone", None)));
        posts.push(store.upsert(answer(&other, 1, "someone", None)));
    }
    let outcomes = futures_util::future::join_all(posts).await;
    let outcomes: Vec<Upsert> = outcomes.into_iter().map(|o| o.unwrap()).collect();
    assert_eq!(outcomes[revisions.len()], Upsert::IdTaken, "the intruder");
    let last = revisions.iter().position(|r| *r == 61).unwrap();
    assert_eq!(outcomes[last], Upsert::Stored, "the highest revision");
    for pair in outcomes[revisions.len() + 1..].chunks(2) {
        assert_eq!(
            (
                pair.contains(&Upsert::Stored),
                pair.contains(&Upsert::AlreadyNewer)
            ),
            (true, true),
            "one of two copies is stored"
        );
    }

    let stored = rows(&store).await;
    assert_eq!(stored.len(), 41);
    let first = stored.iter().find(|r| r.id == id).unwrap();
    assert_eq!(first.respondent, "owner");
    assert_eq!(first.open_text.as_deref(), Some("the last word"));
    assert_eq!(first.follow_up.as_deref(), Some("open"));
    assert_eq!(
        first.created_at, 1_764_000_000_001,
        "created once, at the first revision"
    );
}
