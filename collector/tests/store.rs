//! The store on its own, on SQLite and (through `cargo xtask test`) PostgreSQL:
//! answers that arrive together are committed together, each judged in order.

mod common;

use std::time::{Duration, Instant};

use collector::store::{Filter, NewAnswer, Store, StoreError, Upsert};
use futures_util::StreamExt;
use sqlx::Connection;

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
        user_verified: None,
        props: "{}".into(),
        traits: None,
        first_survey: Some(true),
        cta: None,
        follow_up: open.map(|_| "open"),
        open_text: open.map(str::to_owned),
        reason_ids: None,
        reason_texts: None,
        other_text: None,
        owner: None,
        at_millis: 1_764_000_000_000 + i64::from(rev),
        events: None,
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

/// Holds the database's write lock as a backup (SQLite) or a long
/// maintenance statement (PostgreSQL) would, until dropped or rolled back.
async fn lock_answers(url: &str) -> sqlx::AnyConnection {
    let mut lock = sqlx::AnyConnection::connect(url).await.unwrap();
    if url.starts_with("postgres") {
        sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
        sqlx::query("LOCK TABLE answers IN EXCLUSIVE MODE")
            .execute(&mut lock)
            .await
            .unwrap();
    } else {
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut lock)
            .await
            .unwrap();
    }
    lock
}

/// The database locked and six hundred answers at once (more than two
/// batches): every one hears within its deadline, however many wait before
/// it (before, the last waited behind each batch's full lock timeout, and on
/// PostgreSQL for as long as the lock was held); none of them is stored; and
/// once the lock is gone the store takes answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upsert_hears_within_its_deadline_while_the_database_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let deadline = Duration::from_secs(1);
    let store = Store::open_with(&url, deadline).await.unwrap();
    let mut lock = lock_answers(&url).await;
    let posts = (0..600).map(|n| {
        let store = store.clone();
        async move {
            let id = format!("6f1c2a3b-4d5e-4f60-8a7b-2000000{n:05}");
            let started = Instant::now();
            let outcome = store.upsert(answer(&id, 1, "someone", None)).await;
            (outcome, started.elapsed())
        }
    });
    let outcomes = tokio::time::timeout(
        Duration::from_secs(30),
        futures_util::future::join_all(posts),
    )
    .await
    .expect("every upsert ends while the lock is held");
    let slowest = outcomes.iter().map(|(_, took)| *took).max().unwrap();
    for (outcome, _) in &outcomes {
        assert!(
            matches!(outcome, Err(StoreError::Unavailable(_))),
            "{outcome:?}"
        );
    }
    // The bound, with room for a busy machine; the three batches of the old
    // writer took 4.5 s.
    assert!(
        slowest < deadline * 2 + Duration::from_millis(500),
        "{slowest:?}"
    );
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    drop(lock);
    assert!(rows(&store).await.is_empty(), "a 503 hid a commit");
    let id = "6f1c2a3b-4d5e-4f60-8a7b-300000000001";
    assert_eq!(
        store.upsert(answer(id, 1, "someone", None)).await.unwrap(),
        Upsert::Stored
    );
}
