//! What the inbox suites share: the shop with an inbox (rules, resolutions,
//! a saved reply, a webhook that hears the inbox's events), answers to post,
//! and calls of the inbox's API.
#![allow(dead_code)]

use reqwest::Method;
use serde_json::{Value, json};

use super::app::*;

/// The shop with an inbox: rules, resolutions, a saved reply, and a webhook
/// that hears the inbox's events.
pub const INBOX: &str = r#"
[sites.shop.inbox]
resolutions = ["refunded", "explained"]
require_resolution = true
deadlines = { detractor = "24h", passive = "72h" }

[[sites.shop.inbox.assign]]
class = "detractor"
step = "checkout_done"
to = "agent@shop.test"

[[sites.shop.inbox.assign]]
to_prop = "account_manager"

[[sites.shop.inbox.replies]]
id = "courier"
locale = "es"
title = "Cambio de mensajería"
text = "Nos dijiste que tu pedido llegó tarde. Cambiamos de mensajería: gracias."

[[sites.shop.webhooks]]
id = "crm"
url = "http://127.0.0.1:9/hook"
secret = "inbox-test-secret-0123456789"
inbox_events = ["answer.status_changed", "answer.assigned", "answer.tags_changed", "answer.overdue", "reply.created"]
"#;

pub async fn inbox_app() -> App {
    spawn_app_edited(|t| t + INBOX).await
}

pub fn id(n: u32) -> String {
    format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}")
}

/// An answer `n` with `score`, at `step`, saying `text` (open) and with
/// `props`.
pub fn answer_n(n: u32, score: u8, step: &str, text: Option<&str>, props: Value) -> Value {
    let mut a = answer();
    a["id"] = json!(id(n));
    a["respondent"] = json!(format!("r-{n}"));
    a["score"] = json!(score);
    a["step"] = json!(step);
    a["props"] = props;
    if let Some(t) = text {
        a["follow_up"] = json!({"kind": "open", "text": t});
    }
    a
}

impl App {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        version: Option<i64>,
    ) -> (u16, Value, Option<String>) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        if let Some(v) = version {
            request = request.header("if-match", format!("\"{v}\""));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            etag,
        )
    }

    pub async fn list(&self, token: &str, query: &str) -> Value {
        let (status, body, _) = self
            .call(
                Method::GET,
                &format!("/v1/sites/shop/answers?{query}"),
                token,
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        body
    }

    pub async fn ids(&self, token: &str, query: &str) -> Vec<String> {
        self.list(token, query).await["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn version(&self, token: &str, answer: &str) -> i64 {
        let (status, body, etag) = self
            .call(
                Method::GET,
                &format!("/v1/sites/shop/answers/{answer}"),
                token,
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let v = body["version"].as_i64().unwrap();
        assert_eq!(etag.as_deref(), Some(format!("\"{v}\"").as_str()));
        v
    }

    pub async fn patch(&self, token: &str, answer: &str, body: Value) -> (u16, Value) {
        let v = self.version(token, answer).await;
        let (status, body, _) = self
            .call(
                Method::PATCH,
                &format!("/v1/sites/shop/answers/{answer}"),
                token,
                Some(body),
                Some(v),
            )
            .await;
        (status, body)
    }
}
