//! The inbox's events for webhooks that list them (`inbox_events`): an
//! answer's status changed, its owner, its tags, a deadline passed with
//! nobody acting, a reply written to the respondent. Each has an
//! idempotency key of its own (`SITE/WEBHOOK/ANSWER/KIND-N`), and goes to a
//! webhook only when the answer passes its filters.

use serde_json::{Value, json};

use super::{Format, Webhook, slack_code, slack_escape};
use crate::store::{Event, InboxAnswer};

/// The inbox's event kinds, as `inbox_events` names them.
pub const KINDS: [&str; 5] = [
    "answer.status_changed",
    "answer.assigned",
    "answer.tags_changed",
    "answer.overdue",
    "reply.created",
];

/// The events of `kind` for answer `a` (as it is after the change) on every
/// webhook of `hooks` that hears them; `change` says what happened,
/// `suffix` makes the key (the answer's version after a change, a reply's
/// id).
pub fn events(
    hooks: &[std::sync::Arc<Webhook>],
    kind: &'static str,
    a: &InboxAnswer,
    change: &Value,
    suffix: &str,
    now: i64,
) -> Vec<Event> {
    let r = &a.answer;
    hooks
        .iter()
        .filter(|h| h.inbox_events.iter().any(|k| k == kind))
        .filter(|h| h.passes(&r.class, &r.band, &r.survey, r.step.as_deref()))
        .map(|h| {
            let key = format!(
                "{}/{}/{}/{}-{suffix}",
                h.site,
                h.id,
                r.id,
                kind.trim_start_matches("answer.").replace('.', "-")
            );
            let url = format!("{}/answers/{}", h.dashboard_url, r.id);
            let body = match h.format {
                Format::Json => json_body(h, &key, kind, a, change, &url),
                Format::Slack => slack_body(kind, a, change, &url),
            };
            Event {
                key,
                site: h.site.clone(),
                webhook: h.id.clone(),
                answer_id: r.id.clone(),
                kind,
                body,
                created_at: now,
            }
        })
        .collect()
}

fn json_body(
    h: &Webhook,
    key: &str,
    kind: &str,
    a: &InboxAnswer,
    change: &Value,
    url: &str,
) -> String {
    let r = &a.answer;
    json!({
        "id": key,
        "type": kind,
        "site": h.site,
        "webhook": h.id,
        "answer_url": url,
        "answer": {
            "id": r.id,
            "at": crate::export::rfc3339(r.created_at),
            "survey": r.survey,
            "step": r.step,
            "page": r.page,
            "locale": r.locale,
            "score": r.score,
            "class": r.class,
            "band": r.band,
            "open_text": r.open_text,
            "reason_texts": r.reason_texts,
            "other_text": r.other_text,
            "respondent": r.respondent,
            "user_id": r.user_id,
            "user_verified": r.user_verified,
            "status": a.status,
            "owner": a.owner,
            "tags": a.tags,
            "version": a.version,
        },
        "change": change,
    })
    .to_string()
}

fn slack_body(kind: &str, a: &InboxAnswer, change: &Value, url: &str) -> String {
    let r = &a.answer;
    let what = |k: &str| {
        change[k]
            .as_str()
            .map(slack_escape)
            .unwrap_or_else(|| "–".into())
    };
    let by = change["by"].as_str().map(slack_escape).unwrap_or_default();
    let lead = match kind {
        "answer.status_changed" => {
            format!("{by} set the status {} → *{}*", what("from"), what("to"))
        }
        "answer.assigned" => format!("{by} assigned it to *{}*", what("to")),
        "answer.tags_changed" => format!(
            "{by} changed the tags: {}",
            slack_escape(&a.tags.join(", "))
        ),
        "answer.overdue" => format!("*Overdue:* nobody acted on it within {}", what("deadline")),
        _ => format!("{by} replied to the respondent"),
    };
    let text = format!(
        "{lead} — {}/10 ({}) on {}\n<{url}|Open the answer>",
        r.score,
        slack_escape(&r.class),
        slack_code(&r.survey),
    );
    json!({
        "text": text,
        "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }],
        "unfurl_links": false,
        "unfurl_media": false,
    })
    .to_string()
}
