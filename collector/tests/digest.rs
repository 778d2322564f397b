//! The weekly digest, on SQLite and (with `PULSO_TEST_POSTGRES`)
//! PostgreSQL: its figures, sent once with two collectors on one database,
//! caught up after a stop, skipped when there is nothing to say, emailed to
//! the members who chose it (received by an SMTP server on loopback, with
//! its subject, text and HTML parts), a refused email tried again alone,
//! its webhook events and the trend alert, the printable page and
//! `pulso digest`.

mod common;

use collector::config::Settings;
use collector::digest::{self, Kind, Period};
use collector::store::{Cadence, Store};
use common::app::{App, make_member, spawn_app_edited};
use common::smtp::Sink;
use serde_json::{Value, json};
use sqlx::Connection;

/// The week of 24 Feb – 2 Mar 2025 (W09), and W08 before it: in the past,
/// so that the collector's own digest loop (which sends the latest week due
/// by the clock) never takes these weeks from the test.
const W09: &str = "2025-W09";
/// Monday 3 Mar 2025, 10:00 in Madrid: W09's digest is due (Monday 09:00).
const MONDAY_TEN: i64 = 1_740_992_400_000;
const DAY: i64 = 86_400_000;

async fn digest_app(sink: &Sink) -> App {
    let port = sink.port;
    spawn_app_edited(move |text| {
        text.replace(
            "[sites.shop]\n",
            &format!(
                "[server.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
                 from = \"Pulso <pulso@shop.test>\"\n\n[sites.shop]\ntime_zone = \"Europe/Madrid\"\n"
            ),
        ) + r#"
[[sites.shop.webhooks]]
id = "team"
url = "http://127.0.0.1:9/hook"
secret = "a-webhook-secret-0123456789"
classes = ["promoter"]
programme_events = ["digest.weekly", "nps.dropped"]
"#
    })
    .await
}

fn settings(app: &App) -> Settings {
    let text = std::fs::read_to_string(app.dir.path().join("pulso.toml")).unwrap();
    collector::config::parse("pulso.toml", &text).unwrap()
}

/// `n` answers of `score` at `at`, with an open text on the first.
async fn answers(app: &App, settings: &Settings, from: u32, n: u32, score: u8, at: i64) {
    let site = &settings.sites["shop"];
    for i in from..from + n {
        let mut a = common::app::answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-{i:012x}"));
        a["respondent"] = json!(format!("r-{i}"));
        a["score"] = json!(score);
        if i == from {
            a["rev"] = json!(2);
            a["follow_up"] = json!({"kind": "open", "text": format!("Said at score {score}")});
        }
        let answer: survey::Answer = serde_json::from_value(a).unwrap();
        let (mut record, _) = collector::http::prepare(site, answer).unwrap();
        record.at_millis = at + i64::from(i);
        app.store.upsert(record).await.unwrap();
    }
}

/// W08: 40 promoters and 10 detractors (NPS 60); W09: 20 promoters and 30
/// detractors (NPS −20): a significant fall.
async fn two_weeks(app: &App, settings: &Settings) {
    let w48 = MONDAY_TEN - DAY;
    answers(app, settings, 0, 40, 10, w48 - 8 * DAY).await;
    answers(app, settings, 100, 10, 2, w48 - 9 * DAY).await;
    answers(app, settings, 200, 20, 9, w48 - 2 * DAY).await;
    answers(app, settings, 300, 30, 3, w48 - 3 * DAY).await;
}

/// The shop's weekly digest as `send_due` sends it at `at` (it must be due).
async fn weekly_sent(app: &App, settings: &Settings, at: i64) -> digest::send::Sent {
    let site = &settings.sites["shop"];
    digest::send::send_due(settings, &app.store, site, Kind::Weekly, at)
        .await
        .unwrap()
        .expect("a digest due")
}

async fn outbox(app: &App) -> Vec<(String, String, Value)> {
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT key, kind, body FROM webhook_events ORDER BY key")
            .fetch_all(&mut db)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(k, kind, b)| (k, kind, serde_json::from_str(&b).unwrap()))
        .collect()
}

#[tokio::test]
async fn the_digest_holds_the_weeks_figures_and_says_whether_the_change_is_real() {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let settings = settings(&app);
    two_weeks(&app, &settings).await;
    let site = &settings.sites["shop"];
    let week = Period::parse_week(W09).unwrap();
    let d = digest::build(&app.store, site, week, "https://pulso.example", MONDAY_TEN)
        .await
        .unwrap();
    assert_eq!(
        (d.first_day.as_str(), d.last_day.as_str()),
        ("2025-02-24", "2025-03-02")
    );
    assert_eq!(d.series.len(), 8);
    let (now, before) = (d.now(), d.before().unwrap());
    assert_eq!(
        (now.period.as_str(), now.answers, now.nps),
        ("2025-W09", 50, Some(-20.0))
    );
    assert_eq!(
        (before.period.as_str(), before.answers, before.nps),
        ("2025-W08", 50, Some(60.0))
    );
    let change = d.change.unwrap();
    assert_eq!(change.change, -80.0);
    assert!(change.significant);
    let w = digest::render::words("en");
    assert_eq!(
        digest::render::sentence(w, &d),
        "80 points below the period before (60 ± 22): more than the samples explain, a real change (95%)."
    );
    // Every detractor still new (the inbox's, whenever they answered).
    assert_eq!(d.detractors.open, 40, "{:?}", d.detractors);
    let classes: Vec<&str> = d.comments.iter().map(|c| c.class).collect();
    assert_eq!(classes, ["detractor", "promoter"]);
    assert_eq!(d.comments[0].comments[0].text, "Said at score 3");
    assert_eq!(d.dashboard_url, "https://pulso.example/dashboard/shop");
    let text = digest::render::text(w, &d);
    assert!(
        text.starts_with("Pulso · shop · week 2025-W09: NPS -20 (-80)\n"),
        "{text}"
    );
    assert!(text.contains("NPS -20 ± 27 from 50 answers."), "{text}");
    let es = digest::render::text(digest::render::words("es"), &d);
    assert!(
        es.contains("80 puntos por debajo del periodo anterior"),
        "{es}"
    );
}

#[tokio::test]
async fn sent_once_by_two_collectors_emailed_to_who_chose_it_with_its_webhook_events() {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let settings = settings(&app);
    two_weeks(&app, &settings).await;
    let weekly = make_member(&app.store, "ana@shop.test", false, &[("shop", "viewer")]).await;
    make_member(&app.store, "owner@shop.test", true, &[]).await;
    make_member(&app.store, "blog@shop.test", false, &[("blog", "admin")]).await;
    make_member(&app.store, "quiet@shop.test", false, &[("shop", "agent")]).await;
    let daily = make_member(&app.store, "dani@shop.test", false, &[("shop", "agent")]).await;
    let id = |email: &str| {
        let store = app.store.clone();
        let email = email.to_owned();
        async move { store.user_by_email(&email).await.unwrap().unwrap().id }
    };
    app.store
        .set_digest_cadence(id("quiet@shop.test").await, Cadence::Never)
        .await
        .unwrap();
    app.store
        .set_digest_cadence(id(&daily.email).await, Cadence::Daily)
        .await
        .unwrap();

    // A second collector on the same database, at the same moment.
    let other = Store::open(&app.database_url).await.unwrap();
    let site = &settings.sites["shop"];
    let (a, b) = tokio::join!(
        digest::send::send_due(&settings, &app.store, site, Kind::Weekly, MONDAY_TEN),
        digest::send::send_due(&settings, &other, site, Kind::Weekly, MONDAY_TEN),
    );
    let sent: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].emails,
        [weekly.email.clone(), "owner@shop.test".into()]
    );
    assert_eq!(sent[0].events, 2);
    // Later that day, and on the other collector: nothing more.
    for store in [&app.store, &other] {
        let again =
            digest::send::send_due(&settings, store, site, Kind::Weekly, MONDAY_TEN + 3_600_000)
                .await
                .unwrap();
        assert_eq!(again, None);
    }
    let mails = sink.received();
    assert_eq!(mails.len(), 2, "{mails:?}");
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ana@shop.test", "owner@shop.test"]);
    assert_eq!(mails[0].from, "pulso@shop.test");
    let mail = mailparse::parse_mail(mails[0].data.as_bytes()).unwrap();
    let subject = mail
        .headers
        .iter()
        .find(|h| h.get_key() == "Subject")
        .unwrap()
        .get_value();
    assert_eq!(subject, "Pulso · shop · week 2025-W09: NPS -20 (-80)");
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let parts: Vec<(String, String)> = mail
        .subparts
        .iter()
        .map(|p| (p.ctype.mimetype.clone(), p.get_body().unwrap()))
        .collect();
    assert_eq!(parts[0].0, "text/plain");
    assert!(
        parts[0].1.contains("NPS -20 ± 27 from 50 answers."),
        "{}",
        parts[0].1
    );
    assert!(parts[0].1.contains("a real change (95%)"));
    assert_eq!(parts[1].0, "text/html");
    assert!(
        parts[1].1.contains("<h1>Pulso · shop · week 2025-W09"),
        "{}",
        parts[1].1
    );
    assert!(parts[1].1.contains("&ldquo;") || parts[1].1.contains("“Said at score 3”"));

    // The webhook's events: the digest (a promoters-only filter does not
    // apply to it), and the alert of a significant fall.
    let events = outbox(&app).await;
    let kinds: Vec<&str> = events.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["digest.weekly", "nps.dropped"]);
    assert_eq!(events[0].0, "shop/team/digest-2025-W09");
    assert_eq!(events[0].2["digest"]["series"][7]["nps"], json!(-20.0));
    assert_eq!(events[1].2["change"]["change"], json!(-80.0));

    // The daily digest of Sunday 2 Mar (5 promoters that day) goes to who
    // chose daily alone.
    answers(&app, &settings, 400, 5, 9, MONDAY_TEN - DAY).await;
    let daily_sent = digest::send::send_due(&settings, &other, site, Kind::Daily, MONDAY_TEN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(daily_sent.emails, std::slice::from_ref(&daily.email));
    assert_eq!(daily_sent.events, 0);
    let subjects: Vec<String> = sink
        .received()
        .iter()
        .map(|m| {
            mailparse::parse_mail(m.data.as_bytes())
                .unwrap()
                .headers
                .iter()
                .find(|h| h.get_key() == "Subject")
                .unwrap()
                .get_value()
        })
        .collect();
    assert!(
        subjects.contains(&"Pulso · shop · 2025-03-02: NPS 100".to_owned()),
        "{subjects:?}"
    );
}

/// An email refused for a while (a busy mailbox) is tried again when the
/// claim runs out, to that member alone: who got the digest the first time
/// never gets it twice, and its webhook events are not queued again.
#[tokio::test]
async fn a_failed_email_is_tried_again_without_sending_twice_to_the_others() {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let settings = settings(&app);
    two_weeks(&app, &settings).await;
    make_member(&app.store, "ana@shop.test", false, &[("shop", "viewer")]).await;
    make_member(&app.store, "owner@shop.test", true, &[]).await;
    sink.refuse("owner@shop.test", true);
    let site = &settings.sites["shop"];

    let first = weekly_sent(&app, &settings, MONDAY_TEN).await;
    assert_eq!(first.emails, ["ana@shop.test"]);
    assert_eq!(first.failed.len(), 1, "{:?}", first.failed);
    assert!(
        first.failed[0].starts_with("owner@shop.test: "),
        "{:?}",
        first.failed
    );
    assert_eq!(first.events, 2);
    assert_eq!(
        app.store.digest_sent("shop", "weekly", W09).await.unwrap(),
        None
    );

    // Within the claim nothing goes; after it, the owner's email alone.
    sink.refuse("owner@shop.test", false);
    let minute = MONDAY_TEN + 60_000;
    let held = digest::send::send_due(&settings, &app.store, site, Kind::Weekly, minute).await;
    assert_eq!(held.unwrap(), None);
    let later = MONDAY_TEN + 11 * 60_000;
    let second = weekly_sent(&app, &settings, later).await;
    assert_eq!(second.emails, ["owner@shop.test"]);
    assert!(second.failed.is_empty(), "{:?}", second.failed);
    assert_eq!(
        app.store.digest_sent("shop", "weekly", W09).await.unwrap(),
        Some(false)
    );
    let again = digest::send::send_due(&settings, &app.store, site, Kind::Weekly, later + 60_000);
    assert_eq!(again.await.unwrap(), None);

    let mut to: Vec<String> = sink.received().iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ana@shop.test", "owner@shop.test"]);
    let kinds: Vec<String> = outbox(&app).await.into_iter().map(|(_, k, _)| k).collect();
    assert_eq!(kinds, ["digest.weekly", "nps.dropped"]);
}

/// Two weeks of answers and, as viewers of the shop, `others` and
/// gone@shop.test, whose mailbox the mail server says does not exist.
async fn gone_among(others: &[&str]) -> (Sink, App, Settings) {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let settings = settings(&app);
    two_weeks(&app, &settings).await;
    for email in others.iter().chain(&["gone@shop.test"]) {
        make_member(&app.store, email, false, &[("shop", "viewer")]).await;
    }
    sink.refuse_for_good("gone@shop.test");
    (sink, app, settings)
}

/// A mailbox the mail server says does not exist (550) is settled for the
/// period: the digest is done for the others, and the next claims do not
/// knock on it again; its reply is kept.
#[tokio::test]
async fn an_address_refused_for_good_is_not_tried_again() {
    let (sink, app, settings) = gone_among(&["ana@shop.test"]).await;
    let site = &settings.sites["shop"];
    let first = weekly_sent(&app, &settings, MONDAY_TEN).await;
    assert_eq!(first.emails, ["ana@shop.test"]);
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(first.refused.len(), 1, "{:?}", first.refused);
    assert!(
        first.refused[0].starts_with("gone@shop.test: ") && first.refused[0].contains("550"),
        "{:?}",
        first.refused
    );
    // Done for the period: a later claim sends nothing, to no one.
    assert_eq!(
        app.store.digest_sent("shop", "weekly", W09).await.unwrap(),
        Some(false)
    );
    let later = MONDAY_TEN + 11 * 60_000;
    let again = digest::send::send_due(&settings, &app.store, site, Kind::Weekly, later);
    assert_eq!(again.await.unwrap(), None);
    let settled = app
        .store
        .digest_emailed("shop", "weekly", W09)
        .await
        .unwrap();
    assert_eq!(settled.len(), 2, "{settled:?}");
    let to: Vec<String> = sink.received().iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(to, ["ana@shop.test"]);
    // The server's reply, kept for the operator.
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let refusals: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT email, refused FROM digest_emails ORDER BY email")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(refusals[0], ("ana@shop.test".into(), None));
    assert_eq!(refusals[1].0, "gone@shop.test");
    assert!(
        refusals[1].1.as_deref().is_some_and(|r| r.contains("550")),
        "{refusals:?}"
    );
}

/// A server that took none of the digest's emails may be refusing the
/// sender, not the address: its 550 is tried again with the next claim.
#[tokio::test]
async fn a_refusal_by_a_server_that_took_no_email_is_tried_again() {
    let (_sink, app, settings) = gone_among(&[]).await;
    let first = weekly_sent(&app, &settings, MONDAY_TEN).await;
    assert!(
        first.emails.is_empty() && first.refused.is_empty(),
        "{first:?}"
    );
    assert_eq!(first.failed.len(), 1, "{:?}", first.failed);
    assert_eq!(
        app.store.digest_sent("shop", "weekly", W09).await.unwrap(),
        None
    );
    let emailed = app.store.digest_emailed("shop", "weekly", W09);
    assert!(emailed.await.unwrap().is_empty());
}

#[tokio::test]
async fn caught_up_after_a_stop_and_skipped_when_there_is_nothing_to_say() {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let settings = settings(&app);
    make_member(&app.store, "ana@shop.test", false, &[("shop", "viewer")]).await;
    let site = &settings.sites["shop"];
    // Nothing in W09: nothing sent, nothing written (a quiet week's
    // digest would still go if answers came for it).
    let sent = digest::send::send_due(&settings, &app.store, site, Kind::Weekly, MONDAY_TEN)
        .await
        .unwrap();
    assert_eq!(sent, None);
    assert_eq!(
        app.store.digest_sent("shop", "weekly", W09).await.unwrap(),
        None
    );
    assert!(sink.received().is_empty());
    // Answers in W10; the collector is down on Monday 10 Mar and comes back
    // on Wednesday: W10's digest goes then.
    answers(&app, &settings, 0, 5, 9, MONDAY_TEN + DAY).await;
    let wednesday = MONDAY_TEN + 9 * DAY;
    let sent = weekly_sent(&app, &settings, wednesday).await;
    assert_eq!(sent.emails, ["ana@shop.test"]);
    assert_eq!(
        app.store
            .digest_sent("shop", "weekly", "2025-W10")
            .await
            .unwrap(),
        Some(false)
    );
    // A claim left by a collector that died mid-send is taken over once it
    // runs out.
    assert!(
        app.store
            .claim_digest("shop", "weekly", "2025-W11", 1_000, 60_000)
            .await
            .unwrap()
    );
    assert!(
        !app.store
            .claim_digest("shop", "weekly", "2025-W11", 30_000, 60_000)
            .await
            .unwrap()
    );
    assert!(
        app.store
            .claim_digest("shop", "weekly", "2025-W11", 70_000, 60_000)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_printable_page_and_the_command_line() {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let settings = settings(&app);
    two_weeks(&app, &settings).await;
    let member = app
        .member("ana@shop.test", false, &[("shop", "viewer")])
        .await;
    let cookie = app.sign_in(&member.email, &member.password).await;
    let page = |query: &str| {
        let request = app
            .http
            .get(format!("{}/dashboard/shop/weekly{query}", app.url))
            .header("cookie", &cookie);
        async move { request.send().await.unwrap() }
    };
    let response = page("?week=2025-W09").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("NPS -20 ± 27 from 50 answers."), "{html}");
    assert!(html.contains("href=\"/dashboard/shop/weekly?week=2025-W08\""));
    assert_eq!(page("?week=48").await.status(), 400);
    // Not a member of blog.
    let blog = app
        .http
        .get(format!("{}/dashboard/blog/weekly", app.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(blog.status(), 404);

    // `pulso digest`, as an operator runs it.
    let config = app.dir.path().join("pulso.toml");
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
                .args(args)
                .env_remove("PULSO_CONFIG")
                .output()
                .unwrap()
        })
    };
    let base = |extra: &[&str]| {
        let mut args: Vec<String> = ["digest", "--config"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(config.display().to_string());
        args.extend(["--site", "shop"].iter().map(|s| s.to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let out = run(base(&["--week", W09])).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Pulso · shop · week 2025-W09: NPS -20 (-80)"),
        "{text}"
    );
    let out = run(base(&["--week", "nope"])).await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--week"));
    let out = run(base(&["--week", W09, "--send"])).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("emailed to 1 member(s), 2 webhook event(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_member_chooses_how_often_on_the_account_page() {
    let sink = Sink::start().await;
    let app = digest_app(&sink).await;
    let member = app
        .member("ana@shop.test", false, &[("shop", "viewer")])
        .await;
    let cookie = app.sign_in(&member.email, &member.password).await;
    let page = common::app::own_page(app.http.get(format!("{}/account", app.url)), &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"weekly\" checked"), "{page}");
    let choose = |value: &str| {
        common::app::own_page(
            common::app::no_redirects().post(format!("{}/account/digest", app.url)),
            &cookie,
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("digest={value}"))
        .send()
    };
    assert_eq!(choose("daily").await.unwrap().status(), 303);
    let id = app
        .store
        .user_by_email(&member.email)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(app.store.digest_cadence(id).await.unwrap(), Cadence::Daily);
    assert_eq!(choose("hourly").await.unwrap().status(), 422);
    assert_eq!(app.store.digest_cadence(id).await.unwrap(), Cadence::Daily);
    // From another origin: refused, unchanged.
    let forged = common::app::no_redirects()
        .post(format!("{}/account/digest", app.url))
        .header("cookie", &cookie)
        .header("origin", "http://evil.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("digest=never")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(app.store.digest_cadence(id).await.unwrap(), Cadence::Daily);
}
