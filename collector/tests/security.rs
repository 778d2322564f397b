//! What a stranger can try against the collector, over real HTTP on loopback
//! and with the real binary: token guessing (throttled per client and per
//! site), the demo token off loopback, `/metrics`, and secrets in logs.

mod common;

use std::net::IpAddr;

use common::app::*;
use serde_json::Value;

/// A client that connects from `last` of 127.0.0.x: an address of its own.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

async fn export_status(http: &reqwest::Client, app: &App, token: &str) -> (u16, Option<String>) {
    let response = http
        .get(format!("{}/v1/sites/shop/export?format=csv", app.url))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let wait = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), wait)
}

/// Guessing a site's token is slow: after five wrong tokens from one
/// address that address is locked out (even with the right token, so a
/// guess cannot be confirmed), others are not; after fifty at one site from
/// many addresses, the site is. The scheme is read in any case.
#[tokio::test]
async fn failed_token_attempts_are_throttled_per_client_and_per_site() {
    let app = spawn_app().await;
    let guesser = client_from(2);
    for _ in 0..5 {
        assert_eq!(
            export_status(&guesser, &app, "a-wrong-token-0123456789")
                .await
                .0,
            401
        );
    }
    let (status, wait) = export_status(&guesser, &app, "a-wrong-token-0123456789").await;
    assert_eq!(status, 401, "the sixth failure still answers, then locks");
    assert_eq!(
        export_status(&guesser, &app, TOKEN).await,
        (429, Some("1".into()))
    );
    let _ = wait;
    let body: Value = guesser
        .get(format!("{}/v1/sites/shop/report", app.url))
        .bearer_auth("a-wrong-token-0123456789")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");

    // Another address with the right token, in lower case: not locked.
    let owner = client_from(3);
    let response = owner
        .get(format!("{}/v1/sites/shop/export?format=csv", app.url))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Fifty failures from many addresses lock the site, whoever asks next.
    for n in 0..50 {
        let from = client_from(10 + (n % 10) as u8);
        export_status(&from, &app, "another-wrong-token-0123").await;
    }
    assert_eq!(export_status(&client_from(99), &app, TOKEN).await.0, 429);
    // An unknown site is another key: nothing learnt from its answers.
    let unknown = owner
        .get(format!("{}/v1/sites/nope/export", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
}

/// `/metrics` names every site, its volume and its webhooks: not served to
/// anyone without a metrics token, and with one only for it.
#[tokio::test]
async fn metrics_need_their_own_token() {
    let closed = spawn_app().await;
    let response = closed
        .http
        .get(format!("{}/metrics", closed.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no metrics token: not served");

    let app = spawn_app_with("metrics_token = \"metrics-token-0123456789\"").await;
    let get = |token: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/metrics", app.url));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        async move { request.send().await.unwrap() }
    };
    assert_eq!(get(None).await.status(), 401);
    assert_eq!(
        get(Some(TOKEN)).await.status(),
        401,
        "a site's token is not the metrics token"
    );
    let response = get(Some("metrics-token-0123456789")).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("# EOF"));
}

/// Runs `pulso ARGS` with `env`, returns (success, stdout, stderr); kills it
/// after `seconds` (then it counts as a failure).
async fn pulso(args: &[&str], env: &[(&str, &str)], seconds: u64) -> (bool, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"));
    command
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(seconds) {
                let _ = child.kill();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// A database URL's password never reaches a log, an error or the output:
/// `migrate` and `serve` against a database that is not there, and a URL of
/// a kind Pulso does not take.
#[tokio::test]
async fn database_passwords_stay_out_of_logs_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pulso.toml");
    std::fs::write(&config, config_text(dir.path(), "sqlite://unused.db")).unwrap();
    let config = config.to_str().unwrap().to_owned();
    for url in [
        "postgres://pulso:hunter2-password@127.0.0.1:1/pulso",
        "mysql://root:hunter2-password@db.internal/pulso",
    ] {
        for command in ["migrate", "serve"] {
            let (ok, stdout, stderr) = pulso(
                &[command, "--config", &config],
                &[
                    ("PULSO_DATABASE_URL", url),
                    ("PULSO_LOG", "debug"),
                    ("PULSO_LISTEN", "127.0.0.1:0"),
                ],
                20,
            )
            .await;
            assert!(!ok, "{command} {url}: {stdout}{stderr}");
            let all = format!("{stdout}{stderr}");
            assert!(!all.contains("hunter2"), "{command} {url}: {all}");
            assert!(!all.is_empty(), "{command} {url}: said nothing");
        }
    }
    let (_, _, stderr) = pulso(
        &["serve", "--config", &config],
        &[
            (
                "PULSO_DATABASE_URL",
                "postgres://pulso:hunter2-password@127.0.0.1:1/pulso",
            ),
            ("PULSO_LOG", "info"),
        ],
        20,
    )
    .await;
    assert!(
        stderr.contains("postgres://pulso:***@127.0.0.1:1/pulso"),
        "{stderr}"
    );
    let (_, _, stderr) = pulso(
        &["migrate", "--config", &config],
        &[(
            "PULSO_DATABASE_URL",
            "mysql://root:hunter2-password@db.internal/pulso",
        )],
        20,
    )
    .await;
    assert!(
        stderr.contains("mysql://root:***@db.internal/pulso"),
        "{stderr}"
    );
}

/// The demo token is public: a collector that listens beyond loopback
/// refuses to start with it.
#[tokio::test]
async fn the_demo_token_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pulso.toml");
    let text =
        config_text(dir.path(), "sqlite://unused.db").replace(TOKEN, collector::config::DEMO_TOKEN);
    std::fs::write(&config, text).unwrap();
    let config = config.to_str().unwrap().to_owned();
    let (ok, _, stderr) = pulso(
        &["check-config", &config],
        &[("PULSO_LISTEN", "0.0.0.0:8080")],
        20,
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.contains("sites.shop.export_token") && stderr.contains("loopback"),
        "{stderr}"
    );
    let (ok, _, stderr) = pulso(
        &["check-config", &config],
        &[("PULSO_LISTEN", "127.0.0.1:8080")],
        20,
    )
    .await;
    assert!(ok, "{stderr}");
}
