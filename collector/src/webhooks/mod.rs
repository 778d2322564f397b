//! Webhooks: which answers each one wants, the event it is sent (generic JSON or
//! a Slack message), the `Pulso-Signature` it carries, and the worker
//! ([`deliver`]) that empties the outbox.
//!
//! Events are written to the `webhook_events` outbox in the same transaction as
//! the answer (see [`crate::store`]), so an acknowledged answer's events exist
//! whatever happens next; the worker delivers each at least once, and its
//! idempotency key lets receivers drop repeats.

pub mod deliver;
pub mod inbox;

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use crate::config::Secret;
use crate::store::{Before, Event, EventMaker, EventRow, HookState, NewAnswer, Store, StoreError};

/// The header carrying the timestamp and HMAC-SHA256 of a delivery.
pub const SIGNATURE_HEADER: &str = "Pulso-Signature";
/// The header carrying an event's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// How long after its answer an event is given up by default.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// One configured webhook of a site (`[[sites.KEY.webhooks]]`).
#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: String,
    pub site: String,
    /// A credential in itself (Slack's URL is the key to its channel).
    pub url: Secret<reqwest::Url>,
    pub format: Format,
    /// Key of the HMAC; `None` only before the environment has been read.
    pub secret: Option<Secret>,
    pub answers: Answers,
    /// Empty means any.
    pub classes: Vec<String>,
    pub bands: Vec<String>,
    pub surveys: Vec<String>,
    pub steps: Vec<String>,
    /// An event not delivered this long after its answer is marked failed.
    pub give_up_after: Duration,
    /// The inbox's events it hears too (`answer.status_changed`,
    /// `answer.assigned`, `answer.tags_changed`, `answer.overdue`,
    /// `reply.created`); none unless listed.
    pub inbox_events: Vec<String>,
    /// The programme's events it hears (`digest.weekly`, `nps.dropped`);
    /// none unless listed.
    pub programme_events: Vec<String>,
    /// The site's dashboard, linked from Slack messages.
    pub dashboard_url: String,
}

/// What the receiver gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// The event as JSON, answer and all (for CRMs, ticket systems, scripts).
    #[default]
    Json,
    /// A Slack incoming-webhook message (`text` + `blocks`), also read by
    /// Mattermost and Rocket.Chat.
    Slack,
}

/// Which stages of an answer a webhook hears about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answers {
    /// As soon as the score is in (`answer.created`), then again when the
    /// follow-up completes it (`answer.completed`, `"update": true`).
    #[default]
    All,
    /// Only once the follow-up is in: one event per answer, never for an
    /// answer left at its score.
    Completed,
    /// Only when the score is in; never for the follow-up.
    ScoreOnly,
}

/// The events of every webhook of a site, as the store asks for them.
pub fn event_maker(hooks: &[std::sync::Arc<Webhook>]) -> Option<EventMaker> {
    if hooks.is_empty() {
        return None;
    }
    let hooks = hooks.to_vec();
    Some(EventMaker(std::sync::Arc::new(
        move |a: &NewAnswer, before: Option<&Before>| {
            hooks.iter().flat_map(|h| h.events(a, before)).collect()
        },
    )))
}

/// Which of an event's kinds, and its key's last part.
enum Phase {
    Created,
    Completed {
        update: bool,
    },
    /// The score moved to another class or band; the previous state.
    Updated(Before),
}

impl Webhook {
    /// Whether it listed the programme's event `kind` (`digest.weekly`,
    /// `nps.dropped`) in `programme_events`.
    pub fn hears(&self, kind: &str) -> bool {
        self.programme_events.iter().any(|k| k == kind)
    }

    fn wants(&self, a: &NewAnswer, class: &str, band: &str) -> bool {
        self.passes(class, band, &a.survey, a.step.as_deref())
    }

    /// Whether an answer of this class, band, survey and step passes the
    /// webhook's filters.
    pub(crate) fn passes(&self, class: &str, band: &str, survey: &str, step: Option<&str>) -> bool {
        let listed = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|x| x == v))
        };
        listed(&self.classes, Some(class))
            && listed(&self.bands, Some(band))
            && listed(&self.surveys, Some(survey))
            && listed(&self.steps, step)
    }

    /// The events this webhook is sent when answer `a` is written over
    /// `before` (`None`: `a` is new).
    ///
    /// A webhook hears of an answer once it passes its filters (in the form
    /// its `answers` setting asks for). After that it follows the answer: a
    /// score that moves to another class or band is an `answer.updated`
    /// event (whether or not the new score passes the filters: the
    /// receiver's first word must be corrected), and under `all` the
    /// follow-up completes it. A webhook that never heard of the answer
    /// hears of it as new when it starts to pass (a score changed from 9 to
    /// 2 reaches a detractors' channel).
    pub fn events(&self, a: &NewAnswer, before: Option<&Before>) -> Vec<Event> {
        let wanted = self.wants(a, a.class, &a.band);
        let complete = a.follow_up.is_some();
        let first = match self.answers {
            Answers::All | Answers::ScoreOnly => Phase::Created,
            Answers::Completed => Phase::Completed { update: false },
        };
        let first_now = wanted && (self.answers != Answers::Completed || complete);
        let told = before.filter(|b| {
            self.wants(a, &b.class, &b.band) && (self.answers != Answers::Completed || b.complete)
        });
        let mut phases = Vec::new();
        match told {
            None if first_now => phases.push(first),
            None => {}
            Some(b) => {
                if b.class != a.class || b.band != a.band {
                    phases.push(Phase::Updated(b.clone()));
                }
                if self.answers == Answers::All && !b.complete && complete && wanted {
                    phases.push(Phase::Completed { update: true });
                }
            }
        }
        phases
            .into_iter()
            .map(|phase| self.event(a, phase))
            .collect()
    }

    fn event(&self, a: &NewAnswer, phase: Phase) -> Event {
        let (kind, suffix) = match &phase {
            Phase::Created => ("answer.created", "created".to_owned()),
            Phase::Completed { .. } => ("answer.completed", "completed".to_owned()),
            Phase::Updated(_) => ("answer.updated", format!("updated-{}", a.rev)),
        };
        let key = format!("{}/{}/{}/{suffix}", self.site, self.id, a.id);
        let body = match self.format {
            Format::Json => self.json_body(a, &key, kind, &phase),
            Format::Slack => self.slack_body(a, &phase),
        };
        Event {
            key,
            site: self.site.clone(),
            webhook: self.id.clone(),
            answer_id: a.id.clone(),
            kind,
            body,
            created_at: a.at_millis,
        }
    }

    fn json_body(&self, a: &NewAnswer, key: &str, kind: &str, phase: &Phase) -> String {
        let props: serde_json::Value = serde_json::from_str(&a.props).unwrap_or_else(|_| json!({}));
        let reason_ids: Vec<&str> = a
            .reason_ids
            .as_deref()
            .map(|ids| ids.split(';').collect())
            .unwrap_or_default();
        let update = !matches!(phase, Phase::Created | Phase::Completed { update: false });
        let mut body = json!({
            "id": key,
            "type": kind,
            "update": update,
            "site": self.site,
            "webhook": self.id,
            "dashboard_url": self.dashboard_url,
            "answer": {
                "id": a.id,
                "rev": a.rev,
                "at": crate::export::rfc3339(a.at_millis),
                "survey": a.survey,
                "step": a.step,
                "page": a.page,
                "locale": a.locale,
                "score": a.score,
                "class": a.class,
                "band": a.band,
                "first_survey": a.first_survey,
                "follow_up": a.follow_up,
                "open_text": a.open_text,
                "reason_ids": reason_ids,
                "reason_texts": a.reason_texts,
                "other_text": a.other_text,
                "respondent": a.respondent,
                "user_id": a.user_id,
                "user_verified": a.user_verified,
                "props": props,
            },
        });
        if let Phase::Updated(b) = phase {
            body["previous"] = json!({ "score": b.score, "class": b.class, "band": b.band });
        }
        body.to_string()
    }

    /// A message people read in a channel: score and class first, then what
    /// they said, where, who, and the way to the dashboard.
    /// A Slack message people read in a channel: score and class first,
    /// then what they said, where, who, and the way to the dashboard.
    ///
    /// Every value is escaped for mrkdwn (`&`, `<`, `>`: no link, mention or
    /// `<!channel>` can be smuggled in); values in code spans lose their
    /// backticks (a backtick would close the span); the respondent's own
    /// words go in a quote of a `rich_text` block, where nothing is parsed;
    /// and nothing unfurls under the bot's name. The `text` (notifications,
    /// and what Mattermost and Rocket.Chat show) carries the same, escaped.
    fn slack_body(&self, a: &NewAnswer, phase: &Phase) -> String {
        let class = match a.class {
            "detractor" => "Detractor",
            "passive" => "Passive",
            _ => "Promoter",
        };
        let lead = match phase {
            Phase::Updated(b) => format!("Update: score changed {} → {}. ", b.score, a.score),
            Phase::Completed { update: true } => "Update, follow-up completed: ".into(),
            _ => String::new(),
        };
        let mut head = vec![format!(
            "{lead}*{class}: {}/10* on {}{}",
            a.score,
            slack_code(&a.survey),
            a.step
                .as_deref()
                .map(|s| format!(" after {}", slack_code(s)))
                .unwrap_or_default(),
        )];
        head.push(format!("*Band:* {}", slack_escape(&a.band)));
        if let Some(reasons) = &a.reason_texts {
            head.push(format!("*Reasons:* {}", slack_escape(reasons)));
        }
        if a.follow_up.is_none() {
            head.push("_No follow-up yet._".into());
        }
        if let Some(page) = &a.page {
            head.push(format!("*Page:* {}", slack_code(page)));
        }
        if let Some(user) = &a.user_id {
            head.push(format!("*User:* {}", slack_code(user)));
        }
        let link = format!("<{}|Open the dashboard>", self.dashboard_url);
        let said: Vec<String> = [&a.other_text, &a.open_text]
            .into_iter()
            .flatten()
            .map(|t| t.chars().take(1500).collect())
            .collect();
        let mut text = head.clone();
        for words in &said {
            text.push(format!(
                "*Text:*\n>{}",
                slack_escape(words).replace('\n', "\n>")
            ));
        }
        text.push(link.clone());
        head.push(link);
        let mut blocks = vec![json!({
            "type": "section", "text": { "type": "mrkdwn", "text": head.join("\n") }
        })];
        for words in said {
            blocks.push(json!({
                "type": "rich_text",
                "elements": [{
                    "type": "rich_text_quote",
                    "elements": [{ "type": "text", "text": words }],
                }],
            }));
        }
        json!({
            "text": text.join("\n"),
            "blocks": blocks,
            "unfurl_links": false,
            "unfurl_media": false,
        })
        .to_string()
    }
}

/// A webhook's deliveries, for the status endpoint and the dashboard.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookStatus {
    pub id: String,
    /// Scheme, host and port of the URL only: the rest may be a credential.
    pub target: String,
    pub format: Format,
    pub answers: Answers,
    pub deliveries: HookState,
    /// The latest events, newest first.
    pub events: Vec<EventRow>,
}

/// The delivery state of each of `hooks`, with up to `limit` latest events each
/// (only those in `state` when given).
pub async fn statuses(
    store: &Store,
    hooks: &[std::sync::Arc<Webhook>],
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<WebhookStatus>, StoreError> {
    let mut out = Vec::with_capacity(hooks.len());
    for hook in hooks {
        out.push(WebhookStatus {
            id: hook.id.clone(),
            target: hook.url.get().origin().ascii_serialization(),
            format: hook.format,
            answers: hook.answers,
            deliveries: store.hook_state(&hook.site, &hook.id).await?,
            // The dashboard asks for the counts only.
            events: if limit > 0 {
                store
                    .recent_events(&hook.site, &hook.id, state, limit)
                    .await?
            } else {
                Vec::new()
            },
        });
    }
    Ok(out)
}

/// A Slack message alerting of `text` (plain text, escaped here), with a
/// link to `dashboard_url`: the programme's alerts (`nps.dropped`).
pub fn slack_alert(text: &str, dashboard_url: &str) -> String {
    let text = format!(
        ":warning: {} <{dashboard_url}|dashboard>",
        slack_escape(text)
    );
    serde_json::json!({"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]})
        .to_string()
}

/// Slack's three control characters in message text.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A value in a code span: escaped, its backticks turned into a look-alike
/// (U+02CB) so that it cannot close the span and format what follows.
pub(crate) fn slack_code(text: &str) -> String {
    format!("`{}`", slack_escape(text).replace('`', "\u{2cb}"))
}

type HmacSha256 = Hmac<Sha256>;

/// The `Pulso-Signature` value for `body` sent at `timestamp` (Unix seconds):
/// `t=TIMESTAMP,v1=HEX(HMAC-SHA256(secret, "TIMESTAMP." + body))`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, body)))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a receiver refused a delivery.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is not `t=...,v1=...`")]
    Malformed,
    #[error("the timestamp is {0} s away from now, more than allowed")]
    Stale(i64),
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// What a receiver does with a delivery: checks the header against the body
/// and the secret, and refuses timestamps more than `tolerance` from `now`
/// (Unix seconds) so a captured delivery cannot be replayed later.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let skew = (now - timestamp).abs();
    if skew > tolerance.as_secs() as i64 {
        return Err(VerifyError::Stale(skew));
    }
    let expected = hex(&mac(secret, timestamp, body));
    signatures
        .iter()
        .any(|s| constant_time_eq::constant_time_eq(s.as_bytes(), expected.as_bytes()))
        .then_some(())
        .ok_or(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(answers: Answers, format: Format) -> Webhook {
        Webhook {
            id: "alerts".into(),
            site: "shop".into(),
            url: Secret::wrap("http://127.0.0.1:9/hook".parse().unwrap()),
            format,
            secret: None,
            answers,
            classes: vec!["detractor".into()],
            bands: vec![],
            surveys: vec![],
            steps: vec![],
            give_up_after: DEFAULT_GIVE_UP_AFTER,
            inbox_events: Vec::new(),
            programme_events: Vec::new(),
            dashboard_url: "https://pulso.example/dashboard/shop".into(),
        }
    }

    fn answer(score: u8, class: &'static str, complete: bool) -> NewAnswer {
        NewAnswer {
            id: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".into(),
            rev: 1,
            site: "shop".into(),
            survey: "checkout_nps".into(),
            respondent: "r-1".into(),
            score,
            class,
            band: "low".into(),
            step: Some("checkout_done".into()),
            page: Some("/done".into()),
            locale: "en".into(),
            user_id: Some("u-42".into()),
            user_verified: None,
            props: r#"{"plan":"pro"}"#.into(),
            traits: None,
            first_survey: Some(false),
            cta: None,
            follow_up: complete.then_some("closed"),
            open_text: None,
            reason_ids: complete.then(|| "late;other".into()),
            reason_texts: complete.then(|| "Late <delivery>; Other".into()),
            other_text: complete.then(|| "Box was wet & torn".into()),
            owner: None,
            at_millis: 1_764_000_000_000,
            events: None,
        }
    }

    fn before(a: &NewAnswer) -> Before {
        Before {
            score: a.score,
            class: a.class.to_owned(),
            band: a.band.clone(),
            complete: a.follow_up.is_some(),
        }
    }

    fn kinds(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn stages_follow_the_answers_setting() {
        let scored = answer(2, "detractor", false);
        let done = answer(2, "detractor", true);
        let all = hook(Answers::All, Format::Json);
        let first = all.events(&scored, None);
        assert_eq!(kinds(&first), ["answer.created"]);
        assert!(first[0].key.ends_with("/created"));
        let second = all.events(&done, Some(&before(&scored)));
        assert_eq!(kinds(&second), ["answer.completed"]);
        let body: serde_json::Value = serde_json::from_str(&second[0].body).unwrap();
        assert_eq!(body["update"], true);
        assert_eq!(body["answer"]["reason_ids"], json!(["late", "other"]));
        assert_eq!(body["answer"]["props"]["plan"], "pro");
        assert!(
            all.events(&done, Some(&before(&done))).is_empty(),
            "a repeat"
        );

        let only_done = hook(Answers::Completed, Format::Json);
        assert!(only_done.events(&scored, None).is_empty());
        let one = only_done.events(&done, Some(&before(&scored)));
        assert_eq!(kinds(&one), ["answer.completed"]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&one[0].body).unwrap()["update"],
            false
        );
        assert_eq!(
            kinds(&only_done.events(&done, None)),
            ["answer.completed"],
            "complete at once"
        );

        let score_only = hook(Answers::ScoreOnly, Format::Json);
        assert_eq!(kinds(&score_only.events(&scored, None)), ["answer.created"]);
        assert!(score_only.events(&done, Some(&before(&scored))).is_empty());
    }

    #[test]
    fn a_score_that_changes_class_is_an_update_even_out_of_the_filter() {
        let two = answer(2, "detractor", false);
        let mut nine = answer(9, "promoter", false);
        nine.band = "high".into();
        nine.rev = 2;
        // Told of the 2 (a detractor): the 9 corrects it, though the webhook
        // only wants detractors.
        for answers in [Answers::All, Answers::ScoreOnly] {
            let h = hook(answers, Format::Json);
            let events = h.events(&nine, Some(&before(&two)));
            assert_eq!(kinds(&events), ["answer.updated"], "{answers:?}");
            assert!(events[0].key.ends_with("/updated-2"));
            let body: serde_json::Value = serde_json::from_str(&events[0].body).unwrap();
            assert_eq!(
                body["previous"],
                json!({"score": 2, "class": "detractor", "band": "low"})
            );
            assert_eq!(body["answer"]["score"], 9);
            assert_eq!(body["update"], true);
        }
        // Never told of the 9: the 2 is news, as a new answer would be.
        let mut two_later = two.clone();
        two_later.rev = 3;
        for answers in [Answers::All, Answers::ScoreOnly] {
            let h = hook(answers, Format::Json);
            assert_eq!(
                kinds(&h.events(&two_later, Some(&before(&nine)))),
                ["answer.created"],
                "{answers:?}"
            );
        }
        // `completed` hears nothing before the follow-up, so nothing to correct.
        let h = hook(Answers::Completed, Format::Json);
        assert!(h.events(&nine, Some(&before(&two))).is_empty());
        // A change within the class but across bands is an update too.
        let mut three = two.clone();
        three.band = "lowest".into();
        let h = hook(Answers::All, Format::Json);
        assert_eq!(
            kinds(&h.events(&three, Some(&before(&two)))),
            ["answer.updated"]
        );
        // Unwanted before and after: nothing.
        let mut eight = nine.clone();
        eight.score = 8;
        eight.class = "passive";
        assert!(h.events(&eight, Some(&before(&nine))).is_empty());
    }

    #[test]
    fn filters_select_answers() {
        let mut h = hook(Answers::All, Format::Json);
        assert!(h.events(&answer(9, "promoter", false), None).is_empty());
        h.classes.clear();
        h.steps = vec!["signup".into()];
        assert!(h.events(&answer(9, "promoter", false), None).is_empty());
        h.steps = vec!["checkout_done".into()];
        h.bands = vec!["low".into()];
        assert_eq!(h.events(&answer(9, "promoter", false), None).len(), 1);
    }

    #[test]
    fn slack_messages_escape_and_link() {
        let h = hook(Answers::All, Format::Slack);
        let e = h
            .events(
                &answer(2, "detractor", true),
                Some(&before(&answer(2, "detractor", false))),
            )
            .remove(0);
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("Update, follow-up completed: *Detractor: 2/10*"),
            "{text}"
        );
        assert!(text.contains("Late &lt;delivery&gt;; Other"), "{text}");
        assert!(text.contains(">Box was wet &amp; torn"), "{text}");
        assert!(text.contains("*User:* `u-42`"), "{text}");
        assert!(text.contains("<https://pulso.example/dashboard/shop|Open the dashboard>"));
        let head = body["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            !head.contains("Box was wet"),
            "the words are in a quote of their own: {head}"
        );
        assert_eq!(
            body["blocks"][1]["elements"][0],
            json!({"type": "rich_text_quote", "elements": [{"type": "text", "text": "Box was wet & torn"}]})
        );
        assert_eq!(
            (body["unfurl_links"].clone(), body["unfurl_media"].clone()),
            (json!(false), json!(false))
        );

        let mut nine = answer(9, "promoter", false);
        nine.rev = 2;
        let e = h
            .events(&nine, Some(&before(&answer(2, "detractor", false))))
            .remove(0);
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("Update: score changed 2 → 9. *Promoter: 9/10*"),
            "{text}"
        );
    }

    #[test]
    fn nothing_a_respondent_or_a_page_writes_formats_the_message() {
        let mut a = answer(2, "detractor", true);
        a.step = Some("pay`*now*`".into());
        a.page = Some("/x`<!channel>`".into());
        a.user_id = Some("eve` <https://evil.example|click>".into());
        a.other_text = Some("see https://evil.example/*bold* <@U123> `code`".into());
        let e = hook(Answers::All, Format::Slack).events(&a, None).remove(0);
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        for text in [
            body["text"].as_str().unwrap(),
            body["blocks"][0]["text"]["text"].as_str().unwrap(),
        ] {
            assert!(
                !text.contains("<!channel>")
                    && !text.contains("<@U123>")
                    && !text.contains("<https://evil"),
                "{text}"
            );
            assert!(text.contains("after `pay\u{2cb}*now*\u{2cb}`"), "{text}");
            assert!(
                text.contains("*Page:* `/x\u{2cb}&lt;!channel&gt;\u{2cb}`"),
                "{text}"
            );
            // Every backtick of ours opens or closes a span: an even count per line.
            for line in text.lines() {
                assert_eq!(line.matches('`').count() % 2, 0, "{line}");
            }
        }
        assert_eq!(
            body["blocks"][1]["elements"][0]["elements"][0]["text"],
            "see https://evil.example/*bold* <@U123> `code`",
            "the respondent's words, as they are, where nothing is parsed"
        );
        assert_eq!(body["unfurl_links"], false);
    }

    #[test]
    fn signatures_verify_and_refuse_tampering() {
        let body = br#"{"id":"x"}"#;
        let header = sign("s3cret-s3cret-s3cret", 1_700_000_000, body);
        let ok = |secret: &str, body: &[u8], now| {
            verify(secret, &header, body, now, Duration::from_secs(300))
        };
        assert_eq!(ok("s3cret-s3cret-s3cret", body, 1_700_000_100), Ok(()));
        assert_eq!(
            ok("another-secret-value", body, 1_700_000_100),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            ok("s3cret-s3cret-s3cret", b"{}", 1_700_000_100),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            ok("s3cret-s3cret-s3cret", body, 1_700_001_000),
            Err(VerifyError::Stale(1000))
        );
        assert_eq!(
            verify("k", "v1=abc", body, 0, Duration::from_secs(300)),
            Err(VerifyError::Malformed)
        );
        // The README's vector (computed with Python's hmac module), so
        // receivers in other languages can check their code against it.
        assert_eq!(
            sign("whsec_test_0123456789", 1_700_000_000, b"{}"),
            "t=1700000000,v1=875e3fae219931c6a6bb1177e37553968753cdb5e5fc0294caa82dbfaec6608c"
        );
    }
}
