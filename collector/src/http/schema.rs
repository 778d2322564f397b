//! The OpenAPI document as a running collector serves it: the shape from the
//! code (utoipa, [`super::openapi::ApiDoc`]), then every rule the collector
//! enforces written into it, those of its own configuration included (its
//! sites, surveys, locales, each band's score range and reasons), so that a
//! request the document calls valid is one the collector takes, and one it
//! calls invalid is refused. An OpenAPI-driven fuzzer (Schemathesis, run by
//! `cargo xtask test`) holds the two to each other.

use serde_json::{Value, json};
use survey::{MAX_TEXT_CHARS, OTHER};

use crate::config::Settings;

/// A canonical UUID, any case.
const UUID: &str = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";
/// Ids: respondents, sites, surveys, reasons.
const ID: &str = "^[A-Za-z0-9_-]{1,100}$";
/// A free text must keep a visible character once cleaned (controls, bidi
/// overrides, zero-width characters and white space go): at least one
/// character of these ranges (the Basic Multilingual Plane's visible ones).
const VISIBLE: &str = "[!-~\u{a1}-\u{167f}\u{1681}-\u{180d}\u{180f}-\u{1fff}\u{2010}-\u{2027}\u{2030}-\u{205e}\u{2070}-\u{2fff}\u{3001}-\u{d7ff}\u{e000}-\u{fefe}\u{ff00}-\u{fffd}]";

/// The document for `settings`.
pub fn document(settings: &Settings) -> Value {
    let mut doc = serde_json::to_value(super::openapi::document()).unwrap_or_default();
    let sites: Vec<&str> = settings.sites.keys().map(String::as_str).collect();
    let example = sites.first().copied().unwrap_or("shop");

    // Path parameters: the configured sites, except where an unknown site is
    // answered as a known one (the history lookup).
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for operation in item.values_mut() {
                let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                for p in parameters.iter_mut() {
                    if p["name"] == "site" && p["in"] == "path" {
                        p["example"] = json!(example);
                        // The respondent's replies answer as the history does.
                        let open = path.ends_with("/history")
                            || path.starts_with("/v1/sites/{site}/replies");
                        p["schema"] = if open {
                            json!({"type": "string"})
                        } else {
                            json!({"type": "string", "enum": sites})
                        };
                    }
                }
            }
        }
    }
    filters(&mut doc);
    inbox(&mut doc, settings);
    webhooks_query(&mut doc);
    answer(&mut doc, settings);
    display(&mut doc, settings);
    doc["components"]["schemas"]["EraseRequest"] = json!({
        "description": "Whom to erase: exactly one of a user id and a respondent id.",
        "oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["user_id"],
             "properties": {"user_id": {"type": "string", "minLength": 1, "maxLength": 100},
                            "respondent": {"type": "null"}}},
            {"type": "object", "additionalProperties": false, "required": ["respondent"],
             "properties": {"respondent": {"type": "string", "pattern": ID},
                            "user_id": {"type": "null"}}},
        ],
    });
    doc
}

/// The query of exports and the report, as `Params::parse` reads it (an
/// empty value is no value; survey, step and band narrow to nothing when no
/// answer has them, never an error).
fn filters(doc: &mut Value) {
    let zones: Vec<String> = std::iter::once(String::new())
        .chain(
            jiff::tz::db()
                .available()
                .map(|name| name.as_str().to_owned()),
        )
        .collect();
    let time = json!({"anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "enum": [""]},
    ]});
    for path in ["/v1/sites/{site}/export", "/v1/sites/{site}/report"] {
        let Some(parameters) = doc
            .pointer_mut(&format!(
                "/paths/{}/get/parameters",
                path.replace('/', "~1")
            ))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        // The report is JSON whatever `format` says: it is not one of its
        // parameters.
        if path.ends_with("/report") {
            parameters.retain(|p| p["name"] != "format");
        }
        for p in parameters.iter_mut() {
            let schema = match p["name"].as_str() {
                Some("format") => json!({"type": "string", "enum": ["", "csv", "json", "ndjson"]}),
                Some("from" | "to") => time.clone(),
                Some("tz") => json!({"type": "string", "enum": zones}),
                Some("class") => {
                    json!({"type": "string", "enum": ["", "detractor", "passive", "promoter"]})
                }
                Some("dismissed") => {
                    json!({"type": "string", "enum": ["", "exclude", "include", "only"]})
                }
                Some("prop" | "trait") => json!({"type": "string", "pattern":
                    "^$|^[A-Za-z0-9_-]{1,100}:[^,]*(,[A-Za-z0-9_-]{1,100}:[^,]*)*$"}),
                // A breakdown is the report's: an export takes none.
                Some("by") if path.ends_with("/export") => {
                    json!({"type": "string", "enum": [""]})
                }
                Some("by") => {
                    json!({"type": "string", "pattern": "^$|^(prop|trait):[A-Za-z0-9_-]{1,100}$"})
                }
                _ => continue,
            };
            p["schema"] = schema;
        }
    }
}

/// A tag's name as `inbox::query::tag_name` takes it: 1 to 40 characters
/// once white space is trimmed off its ends, no `;`, `,` or control
/// character (the white space is Rust's, spelled out: `\s` differs).
const TAG: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^;,\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^;,\x00-\x1f\x7f-\x9f]{0,38}[^;,\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// The inbox's query, bodies and version header, as its handlers check them.
fn inbox(doc: &mut Value, settings: &Settings) {
    let statuses = "(new|open|waiting|resolved|dismissed)";
    let list = "/paths/~1v1~1sites~1{site}~1answers/get/parameters";
    let times = doc
        .pointer("/paths/~1v1~1sites~1{site}~1export/get/parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter(|p| matches!(p["name"].as_str(), Some("from" | "to" | "tz")))
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or("").to_owned(),
                        p["schema"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(parameters) = doc.pointer_mut(list).and_then(Value::as_array_mut) {
        for p in parameters.iter_mut() {
            let name = p["name"].as_str().unwrap_or("").to_owned();
            let schema = match name.as_str() {
                "status" => json!({"type": "string",
                    "pattern": format!("^(all|{statuses}(,{statuses})*)?$")}),
                "owner" => json!({"type": "string", "pattern": "^(|me|none|[\\s\\S]*@[\\s\\S]*)$"}),
                "class" => {
                    json!({"type": "string", "enum": ["", "detractor", "passive", "promoter"]})
                }
                "commented" | "overdue" => json!({"type": "string", "enum": ["", "yes", "no"]}),
                "cursor" => {
                    json!({"type": "string", "pattern": "^(|[+-]?[0-9]{1,18}\\.[A-Za-z0-9_-]{1,100})$"})
                }
                "limit" => json!({"type": "integer", "minimum": 1, "maximum": 200}),
                other => match times.iter().find(|(n, _)| n == other) {
                    Some((_, schema)) => schema.clone(),
                    None => continue,
                },
            };
            p["schema"] = schema;
        }
    }
    if let Some(parameters) = doc
        .pointer_mut("/paths/~1v1~1sites~1{site}~1answers~1{id}/patch/parameters")
        .and_then(Value::as_array_mut)
    {
        for p in parameters.iter_mut() {
            if p["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("if-match"))
            {
                p["required"] = json!(true);
                p["schema"] = json!({"type": "string", "pattern": "^(W/)?\"[0-9]{1,18}\"$"});
            }
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    schemas["TextBody"]["properties"]["text"] =
        json!({"type": "string", "maxLength": MAX_TEXT_CHARS, "pattern": VISIBLE});
    schemas["RenameBody"]["properties"]["name"] = json!({"type": "string", "pattern": TAG});
    // Something to change; a resolution only with `resolved`, one of the
    // sites' resolutions (none: no resolution at all).
    let resolutions: std::collections::BTreeSet<&str> = settings
        .sites
        .values()
        .flat_map(|s| s.inbox.resolutions.iter().map(String::as_str))
        .collect();
    let status = json!({"$ref": "#/components/schemas/AnswerStatus"});
    let tags = json!({"type": "array", "maxItems": crate::inbox::query::MAX_TAGS,
        "items": {"type": "string", "pattern": TAG}});
    // Where a site requires a resolution, `resolved` comes only with one.
    let bare = if settings.sites.values().any(|s| s.inbox.require_resolution) {
        json!({"enum": ["new", "open", "waiting", "dismissed"]})
    } else {
        status.clone()
    };
    let mut ways = vec![
        json!({"required": ["status"], "properties": {"status": bare, "resolution": {"type": "null"}}}),
        json!({"required": ["owner"], "properties": {"status": {"anyOf": [bare, {"type": "null"}]},
            "resolution": {"type": "null"}}}),
        json!({"required": ["tags"], "properties": {"tags": tags, "status": {"anyOf": [bare, {"type": "null"}]},
            "resolution": {"type": "null"}}}),
    ];
    if !resolutions.is_empty() {
        ways.push(json!({"required": ["status", "resolution"], "properties": {
            "status": {"enum": ["resolved"]}, "resolution": {"enum": resolutions}}}));
    }
    schemas["ChangeBody"] = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Only the fields given change; at least one of status, owner, tags.",
        "properties": {
            "status": {"anyOf": [status, {"type": "null"}]},
            "resolution": {"type": ["string", "null"], "description": "With status resolved: one of the site's resolutions."},
            "owner": {"type": ["string", "null"], "description": "A member's email (an agent of the site), or null for none."},
            "tags": {"anyOf": [tags, {"type": "null"}], "description": "The answer's whole list of tags (made when new)."},
        },
        "anyOf": ways,
    });
    schemas["MergeBody"]["properties"]["into"] =
        json!({"type": "integer", "minimum": 1, "maximum": 9007199254740991_i64});
}

/// The webhook status query.
fn webhooks_query(doc: &mut Value) {
    let Some(parameters) = doc
        .pointer_mut("/paths/~1v1~1sites~1{site}~1webhooks/get/parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for p in parameters.iter_mut() {
        match p["name"].as_str() {
            Some("state") => {
                p["schema"] = json!({"type": "string", "enum": ["pending", "delivered", "failed"]})
            }
            Some("limit") => p["schema"] = json!({"type": "integer", "minimum": 1, "maximum": 500}),
            _ => {}
        }
    }
}

/// A free text as the collector takes it.
fn text() -> Value {
    json!({"type": "string", "maxLength": MAX_TEXT_CHARS, "pattern": VISIBLE})
}

/// The answer: each field's own rule, then one variant per survey and band
/// of the configuration that ties the score to its band's follow-up (the
/// reasons of its own list, "Other" with its text and only with it) and the
/// survey to its site and locales.
fn answer(doc: &mut Value, settings: &Settings) {
    let Some(schema) = doc
        .pointer_mut("/components/schemas/Answer")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let sites: Vec<&str> = settings.sites.keys().map(String::as_str).collect();
    let surveys: Vec<&str> = settings
        .sites
        .values()
        .flat_map(|s| s.surveys.iter().map(|v| v.id.as_str()))
        .collect();
    let mut locales: Vec<&str> = settings
        .sites
        .values()
        .flat_map(|s| {
            s.surveys
                .iter()
                .flat_map(|v| v.texts.keys().map(String::as_str))
        })
        .collect();
    locales.sort_unstable();
    locales.dedup();
    let properties = &mut schema["properties"];
    properties["id"] = json!({"type": "string", "pattern": UUID});
    properties["rev"] = json!({"type": "integer", "minimum": 1, "maximum": u32::MAX});
    properties["site"] = json!({"type": "string", "enum": sites});
    properties["survey"] = json!({"type": "string", "enum": surveys});
    properties["respondent"] = json!({"type": "string", "pattern": ID});
    properties["score"] = json!({"type": "integer", "minimum": 0, "maximum": 10});
    properties["locale"] = json!({"type": "string", "enum": locales});
    // Whatever a page passes is read; what does not fit is dropped, never
    // refused (see the response's `dropped`).
    let described = |value: &Value| value["description"].clone();
    properties["props"] = json!({"description": described(&properties["props"])});
    properties["traits"] = json!({"description": described(&properties["traits"])});
    for name in ["step", "page", "user_id", "user_hash"] {
        properties[name] =
            json!({"type": ["string", "null"], "description": described(&properties[name])});
    }
    let mut variants = Vec::new();
    for site in settings.sites.values() {
        for survey in &site.surveys {
            let locales: Vec<&str> = survey.texts.keys().map(String::as_str).collect();
            for band in &survey.bands {
                let open = json!({
                    "type": "object", "additionalProperties": false, "required": ["kind", "text"],
                    "properties": {"kind": {"const": "open"}, "text": text()},
                });
                let mut follow_ups = vec![json!({"type": "null"}), open];
                if !band.reasons.is_empty() {
                    let reasons: Vec<&str> = band
                        .reasons
                        .iter()
                        .map(|r| r.id.as_str())
                        .chain([OTHER])
                        .collect();
                    follow_ups.push(json!({
                        "type": "object", "additionalProperties": false, "required": ["kind", "reasons"],
                        "properties": {
                            "kind": {"const": "closed"},
                            "reasons": {"type": "array", "items": {"enum": reasons}, "minItems": 1, "uniqueItems": true},
                            "other": text(),
                        },
                        "if": {"properties": {"reasons": {"contains": {"const": OTHER}}}},
                        "then": {"required": ["other"]},
                        "else": {"not": {"required": ["other"]}},
                    }));
                }
                variants.push(json!({
                    "properties": {
                        "site": {"const": site.key},
                        "survey": {"const": survey.id},
                        "locale": {"enum": locales},
                        "score": {"minimum": band.min, "maximum": band.max},
                        "follow_up": {"oneOf": follow_ups},
                    },
                }));
            }
        }
    }
    schema.insert("oneOf".into(), Value::Array(variants));
}

/// A display as `programme::displays::prepare` checks it: a UUID, a
/// configured site's survey, `shown` with revision 1 or `dismissed` with 2;
/// a step the survey does not list is dropped, never refused.
fn display(doc: &mut Value, settings: &Settings) {
    let mut variants = Vec::new();
    for site in settings.sites.values() {
        for survey in &site.surveys {
            for (event, rev) in [("shown", 1), ("dismissed", 2)] {
                variants.push(json!({
                    "type": "object", "additionalProperties": false,
                    "required": ["id", "rev", "site", "survey", "display"],
                    "properties": {
                        "id": {"type": "string", "pattern": UUID},
                        "rev": {"const": rev},
                        "site": {"const": site.key},
                        "survey": {"const": survey.id},
                        "step": {"type": ["string", "null"]},
                        "display": {"const": event},
                    },
                }));
            }
        }
    }
    let described = doc["components"]["schemas"]["DisplayPost"]["description"].clone();
    doc["components"]["schemas"]["DisplayPost"] = json!({
        "description": described,
        "oneOf": variants,
    });
}
