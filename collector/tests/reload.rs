//! Changing surveys without a restart: `pulso serve` reads its file again
//! on SIGHUP and on `pulso reload`, checks it first (a bad file keeps the
//! running configuration and logs its file, line and field), and the
//! loader sees the change through the configuration's ETag; answers keep
//! the texts that were shown.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

struct Collector {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pulso(args: &[&str], config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pulso"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("PULSO_CONFIG")
        .output()
        .unwrap()
}

fn start(config: &Path) -> Collector {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulso"))
        .args(["serve", "--config"])
        .arg(config)
        .env_remove("PULSO_CONFIG")
        .env("PULSO_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = kept.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the collector stopped"
        );
        if let Some(rest) = line.trim().strip_prefix("pulso listening on ") {
            break rest.to_owned();
        }
    };
    Collector { child, url, log }
}

async fn config(c: &Collector) -> (String, String) {
    let response = reqwest::get(format!("{}/v1/sites/shop/config", c.url))
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let question = body["surveys"][0]["texts"]["en"]["question"]
        .as_str()
        .unwrap()
        .to_owned();
    (question, etag)
}

async fn post(c: &Collector, n: u32) {
    let answer = json!({
        "id": format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}"), "rev": 1, "site": "shop",
        "survey": "checkout_nps", "respondent": format!("r-{n}"), "score": 2, "locale": "en",
        "first_survey": false, "follow_up": {"kind": "closed", "reasons": ["late"]},
    });
    let response = reqwest::Client::new()
        .post(format!("{}/v1/responses", c.url))
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_configuration_is_reloaded_checked_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pulso.db").display());
    let path = dir.path().join("pulso.toml");
    let text = common::app::config_text(dir.path(), &url);
    std::fs::create_dir_all(dir.path().join("assets")).unwrap();
    std::fs::write(&path, &text).unwrap();
    let collector = start(&path);
    let (question, etag) = config(&collector).await;
    assert_eq!(question, "How likely are you to recommend the shop?");
    post(&collector, 1).await;

    // New words, and a reason worded anew: `pulso reload` checks the file
    // and has the collector read it.
    let changed = text
        .replace(
            "How likely are you to recommend the shop?",
            "Would you recommend our shop?",
        )
        .replace(
            "text.en = \"Late delivery\"",
            "text.en = \"It arrived late\"",
        );
    std::fs::write(&path, &changed).unwrap();
    let out = pulso(&["reload"], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = (question.clone(), etag.clone());
    for _ in 0..50 {
        seen = config(&collector).await;
        if seen.0 != question {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.0, "Would you recommend our shop?");
    assert_ne!(seen.1, etag, "a new configuration has a new ETag");
    post(&collector, 2).await;
    // Each answer keeps the words it was shown.
    let export = reqwest::Client::new()
        .get(format!(
            "{}/v1/sites/shop/export?format=json",
            collector.url
        ))
        .bearer_auth(common::app::TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let texts: Vec<Value> = export
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reason_texts"].clone())
        .collect();
    assert_eq!(
        texts,
        [json!(["Late delivery"]), json!(["It arrived late"])]
    );

    // A bad file: `pulso reload` refuses it, naming file, line and field…
    let bad = changed.replace(
        "[[sites.shop.surveys]]\n",
        "[[sites.shop.surveys]]\ncolour = \"red\"\n",
    );
    std::fs::write(&path, &bad).unwrap();
    let out = pulso(&["reload"], &path);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        said.contains("pulso.toml:") && said.contains("colour"),
        "{said}"
    );
    // …and a SIGHUP sent anyway leaves the running configuration, logged.
    let pid = collector.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut logged = String::new();
    for _ in 0..50 {
        logged = collector.log.lock().unwrap().clone();
        if logged.contains("configuration not reloaded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged.contains("configuration not reloaded"), "{logged}");
    assert!(
        logged.contains("pulso.toml:") && logged.contains("colour"),
        "{logged}"
    );
    assert_eq!(
        config(&collector).await,
        seen,
        "still the last good configuration"
    );
    // The pid file `pulso reload` reads, the collector's own.
    let written = std::fs::read_to_string(dir.path().join("pulso.pid")).unwrap();
    assert_eq!(written.trim(), pid);
}
