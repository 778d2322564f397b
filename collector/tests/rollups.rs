//! The report counted from the rollups is the report counted answer by
//! answer, on random answers that are revised, dismissed in the inbox and
//! erased, for random filters and time zones; and `pulso rollup --rebuild`
//! makes rollups that were tampered with whole again. On SQLite, and on PostgreSQL
//! when `PULSO_TEST_POSTGRES` names a server. The random data's seed is
//! printed, and `PULSO_TEST_SEED` replays one.

mod common;

use collector::config::Site;
use collector::report::{report, report_by_rows};
use collector::store::{
    AnswerChange, AuditEntry, Changed, Dismissed, Filter, NewAnswer, NewDisplay, Records, Store,
    Subject,
};
use futures_util::StreamExt;
use serde_json::Value;
use sqlx::Connection;

/// Monday 7 Sep 2026, 00:00 UTC.
const START: i64 = 1_788_739_200_000;
const DAY: i64 = 86_400_000;
const ZONES: [&str; 7] = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Kiritimati",
];

fn new_answer(rng: &mut fastrand::Rng, n: u32, at: i64) -> NewAnswer {
    let score = rng.u8(0..=10);
    let (class, band) = match score {
        0..=6 => ("detractor", "unhappy"),
        7..=8 => ("passive", "happy"),
        _ => ("promoter", "happy"),
    };
    let step = match rng.u8(0..3) {
        0 => None,
        1 => Some("checkout_done".to_owned()),
        _ => Some("onboarding".to_owned()),
    };
    NewAnswer {
        id: format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}"),
        rev: 1,
        site: if rng.u8(0..10) == 0 { "blog" } else { "shop" }.into(),
        survey: if rng.bool() {
            "checkout_nps"
        } else {
            "reader_nps"
        }
        .into(),
        respondent: format!("respondent-{}", rng.u32(0..40)),
        score,
        class,
        band: band.into(),
        step,
        page: None,
        locale: "en".into(),
        user_id: None,
        user_verified: None,
        props: "{}".into(),
        traits: None,
        first_survey: Some(false),
        // Cards say it with the follow-up; a forged post may say it at once.
        cta: match rng.u8(0..8) {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        },
        follow_up: None,
        open_text: None,
        reason_ids: None,
        reason_texts: None,
        other_text: None,
        owner: None,
        at_millis: at,
        events: None,
    }
}

/// The answer's next revision: a closed follow-up (some with an "Other"
/// text), an open one, or (now and then) another score.
fn revise(rng: &mut fastrand::Rng, mut a: NewAnswer) -> NewAnswer {
    a.rev += 1;
    a.at_millis += 5_000;
    match rng.u8(0..4) {
        0 => {
            a.follow_up = Some("open");
            a.open_text = Some("It was fine".into());
        }
        1 => {
            a.score = 10 - a.score;
            (a.class, a.band) = match a.score {
                0..=6 => ("detractor", "unhappy".into()),
                7..=8 => ("passive", "happy".into()),
                _ => ("promoter", "happy".into()),
            };
        }
        _ => {
            let choices: &[&str] = if a.band == "unhappy" {
                &["late", "price", "late;price", "late;other", "other", ""]
            } else {
                &["quality", "quality;other", "other"]
            };
            let ids = choices[rng.usize(0..choices.len())];
            a.follow_up = Some("closed");
            a.reason_ids = Some(ids.to_owned());
            a.other_text = ids
                .contains("other")
                .then(|| format!("Other text {}", rng.u32(0..1000)));
        }
    }
    // The thank-you offers a call to action (with the follow-up), and it is
    // clicked (a revision of its own).
    a.cta = match (a.cta, rng.u8(0..3)) {
        (None, 0) => Some(false),
        (Some(false), 0) => Some(true),
        (cta, _) => cta,
    };
    a
}

fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap()
}

/// A filter as a user sets one: times to the millisecond or at a day's
/// start, or none; the other fields now and then.
fn random_filter(rng: &mut fastrand::Rng, tz: &jiff::tz::TimeZone) -> Filter {
    let time = |rng: &mut fastrand::Rng| match rng.u8(0..3) {
        0 => None,
        1 => Some(START - DAY + rng.i64(0..80 * DAY)),
        _ => {
            let day = START + rng.i64(-2..80) * DAY;
            let date = tz
                .to_datetime(jiff::Timestamp::from_millisecond(day).unwrap())
                .date();
            Some(
                date.to_zoned_datetime(tz.clone())
                    .unwrap()
                    .start_of_day()
                    .unwrap()
                    .timestamp()
                    .as_millisecond(),
            )
        }
    };
    let (from, to) = (time(rng), time(rng));
    let mut pick =
        |options: &[Option<&str>]| options[rng.usize(0..options.len())].map(str::to_owned);
    Filter {
        from,
        to,
        survey: pick(&[None, None, Some("checkout_nps"), Some("nope")]),
        step: pick(&[None, None, Some("onboarding"), Some("")]),
        class: pick(&[None, None, None, Some("detractor"), Some("promoter")]),
        band: pick(&[None, None, None, Some("happy")]),
        dismissed: [Dismissed::Exclude, Dismissed::Include, Dismissed::Only][rng.usize(0..3)],
        segments: Vec::new(),
    }
}

async fn both(store: &Store, site: &Site, filter: &Filter, tz: &str) -> (Value, Value) {
    let tz = zone(tz);
    let rolled = report(store, site, filter, &tz).await.unwrap();
    let rows = report_by_rows(store, site, filter, &tz).await.unwrap();
    (
        serde_json::to_value(rolled).unwrap(),
        serde_json::to_value(rows).unwrap(),
    )
}

#[tokio::test]
async fn the_report_from_rollups_is_the_report_counted_answer_by_answer() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let text = common::app::config_text(dir.path(), &url);
    let settings = collector::config::parse("pulso.toml", &text).unwrap();
    let site = &settings.sites["shop"];
    let store = Store::open(&url).await.unwrap();
    let seed = std::env::var("PULSO_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("PULSO_TEST_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);

    // The day rollups hold the first 20 days (time moved by the test):
    // later answers count in the hours alone until a fold.
    let first = START / DAY;
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE rollup_folded SET day = $1")
        .bind(first + 20)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();

    // 70 days of answers, posted a few at a time (they share batches), a
    // third of them revised once or twice. Halfway, 25 more days are folded
    // while answers are written.
    let mut stored = Vec::new();
    for chunk in 0..60u32 {
        let mut posts = Vec::new();
        for i in 0..12u32 {
            let n = chunk * 12 + i;
            let at = START + rng.i64(0..70 * DAY);
            let mut a = new_answer(&mut rng, n, at);
            posts.push(a.clone());
            for _ in 0..rng.u8(0..3) {
                if rng.u8(0..3) == 0 {
                    a = revise(&mut rng, a);
                    posts.push(a.clone());
                }
            }
            stored.push(a);
        }
        // Displays of the same days, a third of them dismissed (some in a
        // second post, as the card's outbox sends them).
        for i in 0..20u32 {
            let display = NewDisplay {
                id: format!("0b9c8a7e-1f2d-4c3b-9a8e-{:012x}", chunk * 20 + i),
                site: if rng.u8(0..10) == 0 { "blog" } else { "shop" }.into(),
                survey: ["checkout_nps", "reader_nps"][rng.usize(0..2)].into(),
                step: [None, Some("checkout_done"), Some("onboarding")][rng.usize(0..3)]
                    .map(str::to_owned),
                dismissed: rng.u8(0..6) == 0,
                at: START + rng.i64(0..70 * DAY),
            };
            store.record_display(display.clone()).await.unwrap();
            if rng.u8(0..6) == 0 {
                let later = NewDisplay {
                    dismissed: true,
                    at: display.at + 60_000,
                    ..display
                };
                store.record_display(later).await.unwrap();
            }
        }
        let writes = futures_util::future::join_all(posts.into_iter().map(|a| store.upsert(a)));
        let outcomes = if chunk == 30 {
            let (outcomes, folded) = tokio::join!(writes, store.fold_rollups(first + 45));
            assert_eq!(folded.unwrap(), 25);
            outcomes
        } else {
            writes.await
        };
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    }
    assert_eq!(store.folded_day().await.unwrap(), first + 45);
    assert_eq!(store.fold_rollups(first + 45).await.unwrap(), 0);
    // The inbox dismisses some and brings one of them back; two people are
    // erased.
    let mut dismissed = Vec::new();
    for a in stored.iter().filter(|a| a.site == "shop").step_by(9) {
        let change = AnswerChange {
            status: Some("dismissed".into()),
            ..AnswerChange::default()
        };
        let done = store
            .change_answer("shop", &a.id, 1, &change, START, &Records::default())
            .await
            .unwrap();
        assert_eq!(done, Changed::Done(2));
        dismissed.push(a.id.clone());
    }
    let back = AnswerChange {
        status: Some("open".into()),
        ..AnswerChange::default()
    };
    store
        .change_answer("shop", &dismissed[0], 2, &back, START, &Records::default())
        .await
        .unwrap();
    for who in ["respondent-3", "respondent-17"] {
        let audit = AuditEntry {
            at: START,
            site: Some("shop".into()),
            actor: "cli".into(),
            action: "erase".into(),
            detail: "{}".into(),
            client: None,
        };
        store
            .erase("shop", &Subject::Respondent(who.into()), audit)
            .await
            .unwrap();
    }

    // Every zone without a filter, then random filters.
    for tz in ZONES {
        let (rolled, rows) = both(&store, site, &Filter::default(), tz).await;
        assert!(rows["overall"]["answers"].as_u64().unwrap() > 400);
        assert!(rows["overall"]["displays"].as_u64().unwrap() > 800);
        assert!(rows["overall"]["with_follow_up"].as_u64().unwrap() > 100);
        let ctas = &rows["calls_to_action"];
        for band in ["happy", "unhappy"] {
            assert!(ctas[band]["offered"].as_u64().unwrap() > 20, "{ctas}");
            assert!(ctas[band]["clicked"].as_u64().unwrap() > 5, "{ctas}");
        }
        assert_eq!(rolled, rows, "no filter, {tz} (seed {seed})");
    }
    for round in 0..120 {
        let tz = ZONES[rng.usize(0..ZONES.len())];
        let filter = random_filter(&mut rng, &zone(tz));
        let (rolled, rows) = both(&store, site, &filter, tz).await;
        assert_eq!(
            rolled, rows,
            "round {round}: {filter:?}, {tz} (seed {seed})"
        );
    }

    // Folded up to the last day, the same reports; then changes of folded
    // days (a dismissal brought back, an erasure) move their days.
    assert_eq!(store.fold_rollups(first + 71).await.unwrap(), 26);
    for tz in ZONES {
        let (rolled, rows) = both(&store, site, &Filter::default(), tz).await;
        assert_eq!(rolled, rows, "folded, {tz} (seed {seed})");
    }
    store
        .change_answer("shop", &dismissed[1], 2, &back, START, &Records::default())
        .await
        .unwrap();
    let audit = AuditEntry {
        at: START,
        site: Some("shop".into()),
        actor: "cli".into(),
        action: "erase".into(),
        detail: "{}".into(),
        client: None,
    };
    store
        .erase("shop", &Subject::Respondent("respondent-5".into()), audit)
        .await
        .unwrap();
    for round in 0..40 {
        let tz = ZONES[rng.usize(0..ZONES.len())];
        let filter = random_filter(&mut rng, &zone(tz));
        let (rolled, rows) = both(&store, site, &filter, tz).await;
        assert_eq!(
            rolled, rows,
            "folded, round {round}: {filter:?}, {tz} (seed {seed})"
        );
    }

    // Rollups tampered with give another report; rebuilt, the same again.
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE rollup_days SET n = n + 1 WHERE n > 0")
        .execute(&mut db)
        .await
        .unwrap();
    for tamper in [
        "DELETE FROM reason_hours",
        "UPDATE display_days SET shown = shown + 2",
    ] {
        sqlx::query(tamper).execute(&mut db).await.unwrap();
    }
    db.close().await.unwrap();
    let (rolled, rows) = both(&store, site, &Filter::default(), "Asia/Kolkata").await;
    assert_ne!(rolled, rows);
    // `pulso rollup --rebuild`, as an operator runs it, beside the running store.
    let config = dir.path().join("pulso.toml");
    std::fs::write(&config, &text).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
            .args(["rollup", "--rebuild", "--config"])
            .arg(config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let counted: u64 = said
        .strip_prefix("rollups rebuilt from ")
        .and_then(|rest| rest.strip_suffix(" answers"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("pulso rollup said `{said}`"));
    let mut answers = 0;
    for site in ["shop", "blog"] {
        let all = Filter {
            dismissed: Dismissed::Include,
            ..Filter::default()
        };
        answers += store.answers(site, &all).count().await as u64;
    }
    assert_eq!(counted, answers);
    for tz in ZONES {
        let (rolled, rows) = both(&store, site, &Filter::default(), tz).await;
        assert_eq!(rolled, rows, "rebuilt, {tz} (seed {seed})");
    }
}
