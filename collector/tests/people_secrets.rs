//! Team access against guessing and theft, over real HTTP: failed sign-ins
//! throttled per account and per client and recorded, and a database that
//! never holds a secret in clear. On SQLite, and on PostgreSQL when
//! `PULSO_TEST_POSTGRES` names a server.

mod common;

use collector::people::secret;
use common::app::*;
use serde_json::Value;

async fn sign_in_from(
    app: &App,
    client: &str,
    email: &str,
    password: &str,
) -> (u16, Option<String>, String) {
    let response = no_redirects()
        .post(format!("{}/signin", app.url))
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", client)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.text().await.unwrap())
}

/// Failed sign-ins: an unknown email answers as a wrong password does;
/// failures lock the account (from any address) and the client (for any
/// account) out for a while, 429 with `Retry-After`, the right password
/// included; each failure is in the audit log, with where it came from.
#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account_and_client_and_recorded() {
    let app = spawn_app_with(
        "[server.limits]\ntrusted_proxies = [\"127.0.0.1/32\"]\ntoken_failures_per_client = 3\nsign_in_failures_per_account = 2",
    )
    .await;
    let owner = app.member("owner@pulso.test", true, &[]).await;
    let admin = app.admin().await;

    let (wrong, _, wrong_page) =
        sign_in_from(&app, "203.0.113.1", &admin.email, "not-the-password-1").await;
    let (unknown, _, unknown_page) = sign_in_from(
        &app,
        "203.0.113.2",
        "nobody@shop.test",
        "not-the-password-1",
    )
    .await;
    assert_eq!((wrong, unknown), (401, 401));
    let error = |page: &str| {
        page[page.find("role=\"alert\"").unwrap()..]
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        error(&wrong_page),
        error(&unknown_page),
        "an unknown email answers alike"
    );

    // The account: two free failures, then locked from every address.
    let (second, _, _) =
        sign_in_from(&app, "203.0.113.3", &admin.email, "not-the-password-2").await;
    assert_eq!(second, 401);
    let (third, _, _) = sign_in_from(&app, "203.0.113.4", &admin.email, "not-the-password-3").await;
    assert_eq!(third, 401, "the failure that starts the lock");
    let (locked, retry, page) = sign_in_from(&app, "203.0.113.5", &admin.email, PASSWORD).await;
    assert_eq!(locked, 429, "the right password waits too: {page}");
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));

    // The client: three free failures over any accounts, then locked.
    for n in 1..=4 {
        let (status, _, _) = sign_in_from(
            &app,
            "198.51.100.7",
            &format!("guess{n}@shop.test"),
            "not-the-password-4",
        )
        .await;
        assert_eq!(status, 401, "guess {n}");
    }
    let (status, retry, _) = sign_in_from(&app, "198.51.100.7", &owner.email, PASSWORD).await;
    assert_eq!(status, 429);
    assert!(retry.is_some());

    // Elsewhere, the owner signs in and reads the failures.
    let (ok, _, _) = sign_in_from(&app, "192.0.2.9", &owner.email, PASSWORD).await;
    assert_eq!(ok, 303);
    let cookie = sign_in(&app.url, &owner.email, PASSWORD).await;
    let log: Value = app
        .http
        .get(format!("{}/v1/audit", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let failures: Vec<(&str, &str)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sign_in_failed")
        .map(|e| (e["actor"].as_str().unwrap(), e["client"].as_str().unwrap()))
        .collect();
    assert_eq!(failures.len(), 8, "{log}");
    assert!(failures.contains(&("admin@shop.test", "203.0.113.1")));
    assert!(failures.contains(&("nobody@shop.test", "203.0.113.2")));
}

/// Everything a person could sign in with is stored only as a hash: the
/// password (Argon2id), the session cookie, API tokens, set-password links.
/// The whole database is searched for each, in clear.
#[tokio::test]
async fn the_database_never_holds_a_secret_in_clear() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let cookie = app.sign_in(&admin.email, PASSWORD).await;
    let session = cookie.split_once('=').unwrap().1.to_owned();
    let http = no_redirects();
    let invite = own_page(
        http.post(format!("{}/dashboard/shop/members", app.url)),
        &cookie,
    )
    .form(&[
        ("email", "nuevo@shop.test"),
        ("name", "Nuevo"),
        ("role", "agent"),
    ])
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let link = link_in(&invite);
    let link_token = link.rsplit('/').next().unwrap().to_owned();
    let pending = link_in(
        &own_page(
            http.post(format!(
                "{}/dashboard/shop/members/{}/link",
                app.url,
                app.store
                    .user_by_email("nuevo@shop.test")
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            )),
            &cookie,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap(),
    );
    let pending_token = pending.rsplit('/').next().unwrap().to_owned();
    let made = own_page(http.post(format!("{}/account/tokens", app.url)), &cookie)
        .form(&[("name", "ci"), ("sites", "shop")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = made.find("pulso_").unwrap();
    let token = &made[at..at + 70];

    let secrets = [
        ("the password", PASSWORD.to_owned()),
        ("the session cookie", session),
        ("the fixture's API token", admin.token.clone()),
        ("the page's API token", token.to_owned()),
        ("the invitation's link", link_token),
        ("the new link", pending_token),
    ];
    let dump = database_text(&app).await;
    assert!(
        dump.contains("$argon2id$v=19$m=19456,t=2,p=1$"),
        "the password's hash is there"
    );
    for (what, value) in &secrets {
        assert!(
            !dump.contains(value.as_str()),
            "{what} is in the database in clear"
        );
    }
    for (what, value) in &secrets[1..4] {
        assert!(
            dump.contains(&secret::digest(value)),
            "{what}'s hash is what is kept"
        );
    }
}

/// The whole database as text: an SQLite file's bytes (with its WAL), or
/// every row of every table of the PostgreSQL database as JSON.
async fn database_text(app: &App) -> String {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        let mut bytes = std::fs::read(path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    use sqlx::{Connection, Row};
    let mut db = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    let tables: Vec<String> =
        sqlx::query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut db)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let mut text = String::new();
    for table in tables {
        for row in sqlx::query(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
            .fetch_all(&mut db)
            .await
            .unwrap()
        {
            text.push_str(&row.get::<String, _>(0));
            text.push('\n');
        }
    }
    text
}
