//! The NPS programme over HTTP, on SQLite and (with `PULSO_TEST_POSTGRES`)
//! PostgreSQL: displays posted by the card and counted into the report's
//! response and dismissal rates; surveys asked in waves, in the loader's
//! configuration only while a wave is open, and compared wave by wave.

mod common;

use common::app::{App, ID, ORIGIN, TOKEN, answer, follow, spawn_app, spawn_app_edited, with};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn display(n: u32, event: &str) -> Value {
    json!({
        "id": format!("0b9c8a7e-1f2d-4c3b-9a8e-{n:012x}"),
        "rev": if event == "shown" { 1 } else { 2 },
        "site": "shop", "survey": "checkout_nps", "step": "checkout_done",
        "display": event,
    })
}

impl App {
    async fn post_display(&self, body: &Value, origin: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/v1/displays", self.url))
            .header("content-type", "application/json")
            .header("origin", origin)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn report(&self, query: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/v1/sites/shop/report?{query}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

#[tokio::test]
async fn displays_are_idempotent_and_make_the_response_rate() {
    let app = spawn_app().await;
    // Ten cards shown; the first posted three times (the outbox repeats),
    // two closed unanswered, one of them twice, one dismissal posted alone
    // (its "shown" never got out).
    for n in 0..10 {
        assert_eq!(app.post_display(&display(n, "shown"), ORIGIN).await.0, 200);
    }
    for _ in 0..2 {
        let (status, body) = app.post_display(&display(0, "shown"), ORIGIN).await;
        assert_eq!(
            (status, body["stored"].clone()),
            (StatusCode::OK, json!(true))
        );
    }
    for n in [1, 2, 2, 10] {
        assert_eq!(
            app.post_display(&display(n, "dismissed"), ORIGIN).await.0,
            200
        );
    }
    // A late "shown" does not undo a dismissal.
    assert_eq!(app.post_display(&display(1, "shown"), ORIGIN).await.0, 200);
    // Two answers, one with a follow-up.
    assert_eq!(app.post(&answer()).await.0, 200);
    let second = with("/id", Some(json!("6f1c2a3b-4d5e-4f60-8a7b-000000000002")));
    assert_eq!(app.post(&second).await.0, 200);
    let mut followed = follow(json!({"kind": "open", "text": "Slow delivery"}));
    followed["rev"] = json!(2);
    assert_eq!(app.post(&followed).await.0, 200);

    let report = app.report("").await;
    let o = &report["overall"];
    assert_eq!(o["displays"], 11, "{o}");
    assert_eq!(o["dismissed_displays"], 3);
    assert_eq!(o["answers"], 2);
    assert_eq!(o["response_rate"], json!(0.1818));
    assert_eq!(o["dismissal_rate"], json!(0.2727));
    assert_eq!(o["low_response_rate"], false);
    assert_eq!(o["with_follow_up"], 1);
    assert_eq!(o["follow_up_rate"], json!(0.5));
    let step = &report["by_step"]["checkout_done"];
    assert_eq!(
        (step["displays"].clone(), step["answers"].clone()),
        (json!(11), json!(2))
    );
    let week = report["weekly"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(week["displays"], 11);
    // A class filter counts no displays: they have no score.
    let detractors = app.report("class=detractor").await;
    assert_eq!(detractors["overall"]["displays"], 0);
    assert_eq!(detractors["overall"]["response_rate"], Value::Null);

    // Ten more displays, no answer: 2 of 21, under 10%.
    for n in 100..110 {
        assert_eq!(app.post_display(&display(n, "shown"), ORIGIN).await.0, 200);
    }
    let o = app.report("").await["overall"].clone();
    assert_eq!(
        (o["displays"].clone(), o["low_response_rate"].clone()),
        (json!(21), json!(true))
    );
}

#[tokio::test]
async fn a_bad_display_is_refused_naming_its_field_and_changes_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            with_field("id", json!("not-a-uuid")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "id",
        ),
        (
            with_field("rev", json!(2)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rev",
        ),
        (
            with_field("survey", json!("nope")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "survey",
        ),
        (
            with_field("site", json!("nope")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "site",
        ),
        (
            with_field("display", json!("clicked")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "display",
        ),
        (
            with_field("extra", json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "extra",
        ),
    ];
    for (body, status, field) in cases {
        let (got, error) = app.post_display(&body, ORIGIN).await;
        assert_eq!(got, status, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    // A step the survey does not list is dropped, as an answer's is.
    let mut odd = display(3, "shown");
    odd["step"] = json!("nowhere");
    assert_eq!(app.post_display(&odd, ORIGIN).await.0, 200);
    let (got, error) = app
        .post_display(&display(1, "shown"), "http://evil.test")
        .await;
    assert_eq!(
        (got, error["error"]["field"].clone()),
        (StatusCode::FORBIDDEN, json!("origin"))
    );
    // The same id for another survey: a conflict, and the first stays.
    assert_eq!(app.post_display(&display(2, "shown"), ORIGIN).await.0, 200);
    let mut other = display(2, "dismissed");
    other["site"] = json!("blog");
    other["survey"] = json!("reader_nps");
    let (got, error) = app.post_display(&other, "http://blog.test").await;
    assert_eq!(
        (got, error["error"]["field"].clone()),
        (StatusCode::CONFLICT, json!("id"))
    );
    let report = app.report("").await;
    let o = &report["overall"];
    assert_eq!(
        (o["displays"].clone(), o["dismissed_displays"].clone()),
        (json!(2), json!(0))
    );
    assert_eq!(report["by_step"][""]["displays"], 1, "{report}");
}

fn with_field(name: &str, value: Value) -> Value {
    let mut body = display(1, "shown");
    body[name] = value;
    body
}

/// A wave survey whose waves are `every` apart from `first` (days from
/// today, in Madrid), open `open_days`.
async fn wave_app(every: &str, open_days: u32, first: i64) -> App {
    let today = jiff::ZonedDateTime::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Madrid").unwrap())
        .date();
    let first = today.checked_add(jiff::Span::new().days(first)).unwrap();
    spawn_app_edited(|text| {
        text.replace(
            "[sites.shop]\n",
            "[sites.shop]\ntime_zone = \"Europe/Madrid\"\n",
        )
        .replace(
            "steps = [\"checkout_done\", \"onboarding\"]\n",
            &format!(
                "steps = [\"checkout_done\", \"onboarding\"]\n\
                 waves = {{ every = \"{every}\", open_days = {open_days}, first = \"{first}\" }}\n"
            ),
        )
    })
    .await
}

async fn config_surveys(app: &App) -> (Vec<String>, String) {
    let response = app
        .http
        .get(format!("{}/v1/sites/shop/config", app.url))
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let config: Value = response.json().await.unwrap();
    let ids = config["surveys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, etag)
}

#[tokio::test]
async fn a_wave_survey_is_due_only_while_a_wave_is_open() {
    // Opened three days ago for a week: due.
    let open = wave_app("1 month", 7, -3).await;
    assert_eq!(config_surveys(&open).await.0, ["checkout_nps"]);
    // Opened ten days ago for a week, the next in about twenty: not due,
    // and another configuration (another ETag) than while open.
    let closed = wave_app("1 month", 7, -10).await;
    let (ids, etag) = config_surveys(&closed).await;
    assert!(ids.is_empty(), "{ids:?}");
    assert_ne!(etag, config_surveys(&open).await.1);
    // The first wave still to come: not due either.
    let later = wave_app("3 months", 14, 5).await;
    assert!(config_surveys(&later).await.0.is_empty());
}

#[tokio::test]
async fn waves_are_compared_each_with_the_one_before() {
    // Weekly waves of 3 days, the first 21 days ago: four waves so far.
    let app = wave_app("1 week", 3, -21).await;
    let day = 86_400_000i64;
    let now = jiff::Timestamp::now().as_millisecond();
    // Wave 1: 40 promoters. Wave 2: 40 detractors. Wave 3: nothing.
    // Wave 4 (open now): 5 promoters.
    let mut n = 0;
    let mut store = |at: i64, score: u8| {
        n += 1;
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}"));
        a["score"] = json!(score);
        a["respondent"] = json!(format!("r-{n}"));
        (a, at)
    };
    let mut posts = Vec::new();
    for _ in 0..40 {
        posts.push(store(now - 20 * day, 10));
        posts.push(store(now - 13 * day, 1));
    }
    for _ in 0..5 {
        posts.push(store(now - 1000, 9));
    }
    for (body, at) in posts {
        let answer: survey::Answer = serde_json::from_value(body).unwrap();
        let site = collector::config::parse(
            "pulso.toml",
            &std::fs::read_to_string(app.dir.path().join("pulso.toml")).unwrap(),
        )
        .unwrap()
        .sites["shop"]
            .clone();
        let (mut record, _) = collector::http::prepare(&site, answer).unwrap();
        record.at_millis = at;
        app.store.upsert(record).await.unwrap();
    }
    let report = app.report("").await;
    let waves = report["waves"]["checkout_nps"].as_array().unwrap();
    let numbers: Vec<i64> = waves
        .iter()
        .map(|w| w["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4], "{waves:?}");
    let stats = |i: usize| waves[i]["stats"].clone();
    assert_eq!(
        (stats(0)["answers"].clone(), stats(0)["nps"].clone()),
        (json!(40), json!(100.0))
    );
    assert_eq!(stats(0)["change"], Value::Null);
    let change = stats(1)["change"].clone();
    assert_eq!(change["change"], json!(-200.0));
    assert_eq!(change["significant"], json!(true));
    assert_eq!(stats(2)["answers"], 0);
    assert_eq!(stats(2)["change"], Value::Null);
    // Against an empty wave: nothing to compare.
    assert_eq!(stats(3)["answers"], 5);
    assert_eq!(stats(3)["change"], Value::Null);
    // The weekly series compares weeks the same way.
    let weekly = report["weekly"].as_object().unwrap();
    assert!(
        weekly
            .values()
            .any(|w| w["change"]["change"] == json!(-200.0)),
        "{weekly:?}"
    );
    let _ = ID;
}

/// `answer()` as respondent `n`, with `score` and these traits.
fn answer_of(n: u32, score: u8, traits: Value) -> Value {
    let mut a = answer();
    a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}"));
    a["respondent"] = json!(format!("r-{n}"));
    a["score"] = json!(score);
    if !traits.is_null() {
        a["traits"] = traits;
    }
    a
}

async fn segment_app() -> App {
    spawn_app_edited(|text| {
        text.replace(
            "[sites.shop]\n",
            "[server.limits]\nper_ip_burst = 1000\n\n\
             [sites.shop]\nkeep_traits = [\"plan\", \"country\"]\n",
        )
    })
    .await
}

#[tokio::test]
async fn traits_are_kept_only_when_the_site_lists_them() {
    let app = segment_app().await;
    let (status, body) = app
        .post(&answer_of(
            1,
            9,
            json!({"plan": "pro", "country": "ES", "email": "ana@example.com"}),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dropped"], json!(["traits.email"]));
    let rows = app.export().await;
    let traits = common::app::col(&rows[0], "traits");
    assert_eq!(traits, r#"{"country":"ES","plan":"pro"}"#);
    // The loader gets the list, for the card to send only those.
    let config: Value = app
        .http
        .get(format!("{}/v1/sites/shop/config", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["surveys"][0]["keep_traits"],
        json!(["plan", "country"])
    );
    // A site that keeps none stores none.
    let plain = spawn_app().await;
    let (_, body) = plain.post(&answer_of(2, 9, json!({"plan": "pro"}))).await;
    assert_eq!(body["dropped"], json!(["traits.plan"]));
    assert_eq!(common::app::col(&plain.export().await[0], "traits"), "{}");
}

#[tokio::test]
async fn the_nps_by_segment_with_each_value_against_the_rest() {
    let app = segment_app().await;
    let mut n = 0;
    let mut post = async |score: u8, traits: Value| {
        n += 1;
        let (status, body) = app.post(&answer_of(n, score, traits)).await;
        assert_eq!(status, 200, "{body}");
    };
    // 40 pro customers, promoters; 40 free ones, mostly detractors; 5
    // anonymous visitors, passives.
    for i in 0..40u8 {
        post(9 + i % 2, json!({"plan": "pro", "country": "ES"})).await;
        post(
            if i < 30 { i % 7 } else { 8 },
            json!({"plan": "free", "country": "MX"}),
        )
        .await;
    }
    for _ in 0..5 {
        post(7, Value::Null).await;
    }
    let report = app.report("by=trait:plan").await;
    let segments = &report["segments"];
    assert_eq!(segments["by"], "trait:plan");
    let values = segments["values"].as_array().unwrap();
    let names: Vec<Value> = values.iter().map(|v| v["value"].clone()).collect();
    assert_eq!(names, [json!("free"), json!("pro"), Value::Null]);
    let pro = &values[1];
    assert_eq!(
        (pro["answers"].clone(), pro["nps"].clone()),
        (json!(40), json!(100.0))
    );
    assert_eq!(pro["against_rest"]["significant"], true, "{pro}");
    let free = &values[0];
    assert_eq!(free["nps"], json!(-75.0));
    assert_eq!(free["against_rest"]["significant"], true);
    // Five answers: a small sample, never called significant.
    assert_eq!(values[2]["small_sample"], true);
    assert_eq!(values[2]["against_rest"]["significant"], false);

    // Filters on a trait or a prop, in the report and the export alike.
    let pro_only = app.report("trait=plan:pro").await;
    assert_eq!(pro_only["overall"]["answers"], 40);
    assert_eq!(pro_only["overall"]["nps"], json!(100.0));
    let both = app.report("trait=plan:free,country:MX").await;
    assert_eq!(both["overall"]["answers"], 40);
    let none = app.report("trait=plan:free,country:ES").await;
    assert_eq!(none["overall"]["answers"], 0);
    let rows = app
        .export_as("trait=plan:pro&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows.lines().count(), 41, "{rows}");
    // Every answer has prop plan = pro (from `answer()`).
    let by_prop = app.report("prop=plan:pro&by=prop:plan").await;
    assert_eq!(by_prop["overall"]["answers"], 85);
    assert_eq!(by_prop["segments"]["values"][0]["value"], "pro");
    assert_eq!(app.report("prop=plan:free").await["overall"]["answers"], 0);
}

#[tokio::test]
async fn bad_segment_parameters_name_themselves() {
    let app = segment_app().await;
    for (query, field) in [
        ("by=plan", "by"),
        ("by=colour:plan", "by"),
        ("by=trait:pl%20an", "by"),
        ("trait=plan", "trait"),
        ("prop=:pro", "prop"),
    ] {
        let response = app
            .http
            .get(format!("{}/v1/sites/shop/report?{query}", app.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let response = app.export_as("by=trait:plan").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "by");
}

/// The shop with a call to action for the happy band and, for the unhappy
/// one, a thank-you that says when the team will be in touch.
fn thanks_config(text: String) -> String {
    text.replace(
        "[sites.shop]\n",
        "[server.limits]\nper_ip_burst = 1000\n\n[sites.shop]\n",
    )
    .replace(
        "id = \"unhappy\"\nmin = 0\nmax = 6\n",
        "id = \"unhappy\"\nmin = 0\nmax = 6\nthanks = { in_touch = true }\n",
    )
    .replace(
        "id = \"happy\"\nmin = 7\nmax = 10\n",
        "id = \"happy\"\nmin = 7\nmax = 10\nthanks = { text.en = \"Thanks a lot!\", cta = { \
         text.en = \"Leave us a review\", text.es = \"Déjanos una reseña\", \
         url = \"https://reviews.example/shop\" } }\n",
    )
}

#[tokio::test]
async fn the_thank_you_offers_its_call_to_action_and_counts_the_clicks() {
    let app = spawn_app_edited(thanks_config).await;
    let config: Value = app
        .http
        .get(format!("{}/v1/sites/shop/config", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bands = &config["surveys"][0]["bands"];
    assert_eq!(
        bands[1]["thanks"],
        json!({"text": {"en": "Thanks a lot!"}, "cta": {
            "text": {"en": "Leave us a review", "es": "Déjanos una reseña"},
            "url": "https://reviews.example/shop"}})
    );
    // The inbox's deadline for detractors (24 hours by default), in words.
    assert_eq!(
        bands[0]["thanks"],
        json!({"text": {
            "en": "Thank you for telling us. Our team will get back to you within 24 hours.",
            "es": "Gracias por contárnoslo. Nuestro equipo te responderá en menos de 24 horas."}})
    );

    // Three promoters reach the thank-you (the card says it offered the
    // call to action with the follow-up); one clicks, twice (the click is
    // the answer's next revision: a repeat changes nothing). A detractor's
    // thank-you offers none.
    for n in 1..=3 {
        assert_eq!(app.post(&answer_of(n, 9, Value::Null)).await.0, 200);
        let mut done = answer_of(n, 9, Value::Null);
        done["rev"] = json!(2);
        done["follow_up"] = json!({"kind": "open", "text": "Great"});
        done["cta"] = json!(false);
        assert_eq!(app.post(&done).await.0, 200);
    }
    let mut clicked = answer_of(2, 9, Value::Null);
    clicked["rev"] = json!(3);
    clicked["follow_up"] = json!({"kind": "open", "text": "Great"});
    clicked["cta"] = json!(true);
    for _ in 0..2 {
        let (status, body) = app.post(&clicked).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(app.post(&answer_of(4, 3, Value::Null)).await.0, 200);

    let expected = json!({"happy": {"offered": 3, "clicked": 1, "click_rate": 0.3333}});
    let report = app.report("").await;
    assert_eq!(report["calls_to_action"], expected);
    // Counted answer by answer (a prop filter reads the rows), the same.
    let by_rows = app.report("prop=plan:pro").await;
    assert_eq!(by_rows["calls_to_action"], expected);
    // The inbox and the export see the click with the answer.
    let export = app
        .http
        .get(format!("{}/v1/sites/shop/export?format=json", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let ctas: Vec<Value> = export
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["cta"].clone())
        .collect();
    assert_eq!(
        ctas,
        [
            json!("offered"),
            json!("clicked"),
            json!("offered"),
            Value::Null
        ]
    );
}

#[tokio::test]
async fn in_touch_needs_a_deadline_for_its_class() {
    let text = thanks_config(common::app::config_text(
        std::path::Path::new("."),
        "sqlite://unused.db",
    ))
    .replace(
        "[sites.shop]\n",
        "[sites.shop]\ninbox = { deadlines = { detractor = \"none\" } }\n",
    );
    let error = collector::config::parse("pulso.toml", &text).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(
            "sites.shop.surveys[0].bands[0].thanks.in_touch: the inbox gives detractors no deadline"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_wave_that_fell_raises_one_alert_whoever_checks_it() {
    // Weekly waves of 3 days, the first 14 days ago: waves 1 and 2 closed,
    // wave 3 open. Wave 1: 40 promoters; wave 2: 30 detractors, 10 promoters.
    let today = jiff::ZonedDateTime::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Madrid").unwrap())
        .date();
    let first = today.checked_add(jiff::Span::new().days(-14)).unwrap();
    let app = spawn_app_edited(|text| {
        text.replace(
            "[sites.shop]\n",
            "[server.limits]\nper_ip_burst = 1000\n\n[sites.shop]\ntime_zone = \"Europe/Madrid\"\n",
        )
        .replace(
            "steps = [\"checkout_done\", \"onboarding\"]\n",
            &format!(
                "steps = [\"checkout_done\", \"onboarding\"]\n\
                 waves = {{ every = \"1 week\", open_days = 3, first = \"{first}\" }}\n"
            ),
        ) + "\n[[sites.shop.webhooks]]\nid = \"team\"\nurl = \"http://127.0.0.1:9/hook\"\n\
             secret = \"a-webhook-secret-0123456789\"\nclasses = [\"passive\"]\n\
             programme_events = [\"nps.dropped\"]\n"
    })
    .await;
    let text = std::fs::read_to_string(app.dir.path().join("pulso.toml")).unwrap();
    let settings = collector::config::parse("pulso.toml", &text).unwrap();
    let site = &settings.sites["shop"];
    let day = 86_400_000i64;
    let now = jiff::Timestamp::now().as_millisecond();
    let scores = (0..40)
        .map(|_| (now - 13 * day, 10))
        .chain((0..40).map(|i| (now - 6 * day, if i < 30 { 1 } else { 9 })));
    for (n, (at, score)) in scores.enumerate() {
        let answer: survey::Answer =
            serde_json::from_value(answer_of(n as u32 + 1, score, Value::Null)).unwrap();
        let (mut record, _) = collector::http::prepare(site, answer).unwrap();
        record.at_millis = at;
        app.store.upsert(record).await.unwrap();
    }
    let drops = collector::programme::alerts::wave_drops(&app.store, site, now)
        .await
        .unwrap();
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0].wave.number, 2);
    assert_eq!(drops[0].change.change, -150.0);
    assert!(drops[0].change.significant);
    // Two collectors checking the same wave, each twice: one event.
    for _ in 0..4 {
        collector::programme::alerts::queue_wave_alerts(&app.store, site, now)
            .await
            .unwrap();
    }
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT key, kind, body FROM webhook_events ORDER BY key")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "shop/team/nps-dropped-checkout_nps-wave-2");
    assert_eq!(rows[0].1, "nps.dropped");
    let body: Value = serde_json::from_str(&rows[0].2).unwrap();
    assert_eq!(body["wave"], 2);
    assert_eq!(body["now"]["nps"], json!(-50.0));
    assert_eq!(body["before"]["nps"], json!(100.0));
    assert_eq!(body["dashboard_url"], json!(site.webhooks[0].dashboard_url));
    assert!(site.webhooks[0].dashboard_url.ends_with("/dashboard/shop"));
    // Twenty days on, the wave closed too long ago to raise anything.
    let later = now + 20 * day;
    assert!(
        collector::programme::alerts::wave_drops(&app.store, site, later)
            .await
            .unwrap()
            .is_empty()
    );
}
