//! The OpenAPI document the collector serves (`/openapi.json`) against the
//! responses it really gives: every documented path, each response checked
//! against its schema, and the checker shown able to fail. Schemathesis,
//! run by `cargo xtask test`, then checks the whole document against a
//! running collector.

mod common;

use common::app::*;
use serde_json::{Value, json};

/// A small JSON Schema check, for the subset the document uses most: `$ref`,
/// `type` (also as a list, for nullable), `enum`, `const`, `minimum`,
/// `maximum`, `required`, `properties`, `additionalProperties`, `items`,
/// `oneOf` / `anyOf` / `allOf` (Schemathesis, run by `cargo xtask test`,
/// checks the whole document against the service).
fn schema_errors(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "{at}: dangling {reference}");
        return schema_errors(doc, target, value, at);
    }
    let mut errors = Vec::new();
    for (key, all) in [("oneOf", false), ("anyOf", false), ("allOf", true)] {
        if let Some(branches) = schema[key].as_array() {
            let failing: Vec<Vec<String>> = branches
                .iter()
                .map(|b| schema_errors(doc, b, value, at))
                .filter(|e| !e.is_empty())
                .collect();
            let ok = if all {
                failing.is_empty()
            } else {
                failing.len() < branches.len()
            };
            if !ok {
                errors.push(format!("{at}: no {key} branch fits {value}: {failing:?}"));
            }
        }
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let fits = |t: &&str| *t == kind || (*t == "number" && kind == "integer");
    if !allowed.is_empty() && !allowed.iter().any(fits) {
        errors.push(format!("{at}: {kind} where the schema says {allowed:?}"));
        return errors;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} not in {options:?}"));
    }
    if let Some(want) = schema.get("const")
        && want != value
    {
        errors.push(format!("{at}: {value} is not {want}"));
    }
    if let Some(n) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|m| n < m) {
            errors.push(format!("{at}: {n} under the minimum"));
        }
        if schema["maximum"].as_f64().is_some_and(|m| n > m) {
            errors.push(format!("{at}: {n} over the maximum"));
        }
    }
    if let Value::Object(map) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !map.contains_key(name) {
                errors.push(format!("{at}: missing required `{name}`"));
            }
        }
        for (key, v) in map {
            let here = format!("{at}.{key}");
            if let Some(s) = schema["properties"].get(key) {
                errors.extend(schema_errors(doc, s, v, &here));
            } else if schema["additionalProperties"].is_object() {
                errors.extend(schema_errors(
                    doc,
                    &schema["additionalProperties"],
                    v,
                    &here,
                ));
            } else if schema["additionalProperties"] == json!(false) {
                errors.push(format!("{here}: not in the schema"));
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            errors.extend(schema_errors(doc, s, v, &format!("{at}[{i}]")));
        }
    }
    errors
}

/// The documented schema of a response.
fn response_schema<'a>(
    doc: &'a Value,
    path: &str,
    method: &str,
    status: u16,
    content: &str,
) -> &'a Value {
    let schema =
        &doc["paths"][path][method]["responses"][status.to_string()]["content"][content]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} {status} {content} is not documented"
    );
    schema
}

/// /openapi.json documents every API route, and real responses fit it.
#[tokio::test]
async fn the_openapi_document_matches_real_responses() {
    // A webhook nobody listens to, so its status has pending events and errors.
    let app = spawn_app_with(
        "[[sites.shop.webhooks]]\nid = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\n\
         secret = \"0123456789abcdef\"\n",
    )
    .await;
    let doc: Value = app
        .http
        .get(format!("{}/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in [
        ("/v1/responses", "post"),
        ("/v1/sites/{site}/config", "get"),
        ("/v1/sites/{site}/history", "post"),
        ("/v1/sites/{site}/erase", "post"),
        ("/v1/sites/{site}/export", "get"),
        ("/v1/sites/{site}/report", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
        ("/v1/sites/{site}/webhooks", "get"),
        ("/v1/sites/{site}/audit", "get"),
        ("/v1/audit", "get"),
        ("/metrics", "get"),
        ("/v1/sites/{site}/answers", "get"),
        ("/v1/sites/{site}/answers/{id}", "get"),
        ("/v1/sites/{site}/answers/{id}", "patch"),
        ("/v1/sites/{site}/answers/{id}/notes", "post"),
        ("/v1/sites/{site}/answers/{id}/replies", "post"),
        ("/v1/sites/{site}/tags", "get"),
        ("/v1/sites/{site}/tags/{tag}", "patch"),
        ("/v1/sites/{site}/tags/{tag}", "delete"),
        ("/v1/sites/{site}/tags/{tag}/merge", "post"),
        ("/v1/sites/{site}/replies", "post"),
        ("/v1/sites/{site}/replies/{id}/seen", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let check = |path: &str, method: &str, status: u16, content: &str, value: &Value| {
        let errors = schema_errors(
            &doc,
            response_schema(&doc, path, method, status, content),
            value,
            "$",
        );
        assert!(errors.is_empty(), "{method} {path} {status}: {errors:#?}");
    };

    // The request body of an answer, and the answers to it.
    let mut a = closed(2, &["late", "other"], Some("Rude courier"));
    a["props"] = json!({"plan": "pro", "items": 3, "gift": true});
    a["user_id"] = json!("u-1");
    let request_schema = &doc["paths"]["/v1/responses"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        schema_errors(&doc, request_schema, &a, "$"),
        Vec::<String>::new()
    );
    let (status, body) = app.post(&a).await;
    check(
        "/v1/responses",
        "post",
        status.as_u16(),
        "application/json",
        &body,
    );
    let (status, body) = app.post(&with("/score", Some(json!(11)))).await;
    check(
        "/v1/responses",
        "post",
        status.as_u16(),
        "application/json",
        &body,
    );

    let admin = app.admin().await;
    let get = |path: String, bearer: bool| {
        let mut request = app.http.get(format!("{}{path}", app.url));
        if bearer {
            request = request.bearer_auth(&admin.token);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (s, v) = get("/v1/sites/shop/config".into(), false).await;
    check("/v1/sites/{site}/config", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/nope/config".into(), false).await;
    check("/v1/sites/{site}/config", "get", s, "application/json", &v);
    let history = app
        .http
        .post(format!("{}/v1/sites/shop/history", app.url))
        .header("content-type", "text/plain")
        .body(r#"{"respondent":"r-1"}"#)
        .send()
        .await
        .unwrap();
    let s = history.status().as_u16();
    let v: Value = history.json().await.unwrap();
    check(
        "/v1/sites/{site}/history",
        "post",
        s,
        "application/json",
        &v,
    );
    let (s, v) = get("/v1/sites/shop/export?format=json".into(), true).await;
    check("/v1/sites/{site}/export", "get", s, "application/json", &v);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (s, v) = get("/v1/sites/shop/export?format=json".into(), false).await;
    check("/v1/sites/{site}/export", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/shop/report".into(), true).await;
    check("/v1/sites/{site}/report", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/shop/webhooks".into(), true).await;
    check(
        "/v1/sites/{site}/webhooks",
        "get",
        s,
        "application/json",
        &v,
    );
    assert_eq!(
        v["webhooks"][0]["events"][0]["kind"], "answer.created",
        "{v}"
    );
    let (s, v) = get("/v1/sites/shop/webhooks?limit=0".into(), true).await;
    check(
        "/v1/sites/{site}/webhooks",
        "get",
        s,
        "application/json",
        &v,
    );
    // The export above is in the audit log once its stream has ended.
    let mut audit = Value::Null;
    for _ in 0..100 {
        let (s, v) = get("/v1/sites/shop/audit".into(), true).await;
        check("/v1/sites/{site}/audit", "get", s, "application/json", &v);
        if v["entries"].as_array().is_some_and(|e| !e.is_empty()) {
            audit = v;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(audit["entries"][0]["action"], "export", "{audit}");
    for (path, bearer) in [
        ("/v1/sites/shop/audit?limit=0", true),
        ("/v1/audit", false),
        ("/v1/audit", true),
    ] {
        let (s, v) = get(path.into(), bearer).await;
        assert!(s >= 400, "{path}: {s}");
        check(
            path.split('?')
                .next()
                .unwrap()
                .replace("shop", "{site}")
                .as_str(),
            "get",
            s,
            "application/json",
            &v,
        );
    }
    let (s, v) = get("/healthz".into(), false).await;
    check("/healthz", "get", s, "application/json", &v);
    let (s, v) = get("/readyz".into(), false).await;
    check("/readyz", "get", s, "application/json", &v);

    // The check itself can fail: wrong types, missing and unknown fields.
    let stored = response_schema(&doc, "/v1/responses", "post", 200, "application/json");
    assert!(
        !schema_errors(
            &doc,
            stored,
            &json!({"id": 1, "rev": 1, "stored": true}),
            "$"
        )
        .is_empty()
    );
    assert!(!schema_errors(&doc, stored, &json!({"id": "x", "rev": 1}), "$").is_empty());
    assert!(
        !schema_errors(
            &doc,
            stored,
            &json!({"id": "x", "rev": 1, "stored": true, "extra": 1}),
            "$"
        )
        .is_empty()
    );
    let mut report = get("/v1/sites/shop/report".into(), true).await.1;
    report["overall"]["nps"] = json!("high");
    let report_schema = response_schema(
        &doc,
        "/v1/sites/{site}/report",
        "get",
        200,
        "application/json",
    );
    assert!(!schema_errors(&doc, report_schema, &report, "$").is_empty());
}
