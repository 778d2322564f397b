//! Sending the digest: once per site and period whatever the number of
//! collectors (a claimed row), caught up after downtime (the latest period
//! due is sent when the collector comes back), skipped when there is
//! nothing to say. Webhooks that list `digest.weekly` get it through the
//! outbox (signed, retried), those that list `nps.dropped` an alert when
//! the week's NPS fell significantly; members who chose it get an email.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use super::{Digest, Kind, Period, build, due, render};
use crate::config::{Settings, Site, Smtp, SmtpSecurity};
use crate::store::{Cadence, Event, Store, StoreError};

/// How often the collector looks for a digest due.
const EVERY: Duration = Duration::from_secs(60);
/// How long a claim holds before another collector may take it over (a
/// collector that died while sending).
const LEASE_MS: i64 = 10 * 60 * 1000;

/// What a sending did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// Whom it was emailed to this time.
    pub emails: Vec<String>,
    /// Webhook events queued (digests and alerts).
    pub events: usize,
    /// Emails that failed, with why (tried again with the next claim).
    pub failed: Vec<String>,
    /// Emails the mail server refused for good, with its reply: settled for
    /// the period, not tried again (see [`refused_for_good`]).
    pub refused: Vec<String>,
}

/// Every minute, each site's digests due (weekly, and daily for those who
/// want it) that no collector has sent yet.
pub async fn keep_sending(settings: Settings, store: Store) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let now = crate::people::now_millis();
        for site in settings.sites.values() {
            for kind in [Kind::Weekly, Kind::Daily] {
                if let Err(error) = send_due(&settings, &store, site, kind, now).await {
                    tracing::warn!(site = site.key, %error, "digest not sent; tried again soon");
                }
            }
        }
    }
}

/// Sends `site`'s digest of `kind` due at `now`, if this collector wins its
/// claim; `None` when there was none to send.
pub async fn send_due(
    settings: &Settings,
    store: &Store,
    site: &Site,
    kind: Kind,
    now: i64,
) -> Result<Option<Sent>, String> {
    let Some((period, _)) = due(kind, site.digest, &site.time_zone, now) else {
        return Ok(None);
    };
    let label = period.label();
    // Sent already, or a quiet period: read, and write nothing (a quiet
    // period's digest goes if answers still come for it).
    if store
        .digest_sent(&site.key, kind.name(), &label)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
        || quiet(store, site, period)
            .await
            .map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    let claimed = store
        .claim_digest(&site.key, kind.name(), &label, now, LEASE_MS)
        .await
        .map_err(|e| e.to_string())?;
    if !claimed {
        return Ok(None);
    }
    let digest = build(store, site, period, &settings.link_base, now)
        .await
        .map_err(|e| e.to_string())?;
    if digest.is_empty() {
        store
            .digest_done(&site.key, kind.name(), &label, now, true)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(None);
    }
    let sent = deliver(settings, store, site, &digest, now, Some(&label)).await?;
    if sent.failed.is_empty() {
        store
            .digest_done(&site.key, kind.name(), &label, now, false)
            .await
            .map_err(|e| e.to_string())?;
    }
    tracing::info!(
        site = site.key,
        period = label,
        emails = sent.emails.len(),
        events = sent.events,
        failed = sent.failed.len(),
        refused = sent.refused.len(),
        "digest sent"
    );
    Ok(Some(sent))
}

/// Whether `period` has no answer and no display on `site`: nothing to say.
async fn quiet(store: &Store, site: &Site, period: Period) -> Result<bool, StoreError> {
    let (from, to) = period.range(&site.time_zone);
    let filter = crate::store::Filter {
        from: Some(from),
        to: Some(to),
        ..crate::store::Filter::default()
    };
    let report = crate::report::report(store, site, &filter, &site.time_zone).await?;
    Ok(report.overall.answers == 0 && report.overall.displays == 0)
}

/// Sends `site`'s digest of `period` now, claimed or not (`pulso digest
/// --send`: a first try, scripts).
pub async fn send_now(
    settings: &Settings,
    store: &Store,
    site: &Site,
    period: Period,
) -> Result<Sent, String> {
    let now = crate::people::now_millis();
    let digest = build(store, site, period, &settings.link_base, now)
        .await
        .map_err(|e| e.to_string())?;
    deliver(settings, store, site, &digest, now, None).await
}

/// The digest to its webhooks (weekly only) and by email to the members of
/// its cadence. With the claimed period's `label`, each email sent (or
/// refused for good) is noted, and a member it reached before (a claim whose
/// email to another failed) is not sent it again, nor one refused for good;
/// the webhook events are keyed, so they never repeat.
async fn deliver(
    settings: &Settings,
    store: &Store,
    site: &Site,
    digest: &Digest,
    now: i64,
    label: Option<&str>,
) -> Result<Sent, String> {
    let mut sent = Sent::default();
    if digest.kind == Kind::Weekly {
        let events = events(site, digest, now);
        sent.events = events.len();
        store
            .queue_events(&events)
            .await
            .map_err(|e| e.to_string())?;
    }
    let Some(smtp) = &settings.smtp else {
        return Ok(sent);
    };
    let cadence = match digest.kind {
        Kind::Weekly => Cadence::Weekly,
        Kind::Daily => Cadence::Daily,
    };
    let mut recipients = store
        .digest_recipients(&site.key, cadence)
        .await
        .map_err(|e: StoreError| e.to_string())?;
    let mut reached_before = false;
    if let Some(label) = label {
        let reached = store
            .digest_emailed(&site.key, digest.kind.name(), label)
            .await
            .map_err(|e| e.to_string())?;
        reached_before = !reached.is_empty();
        recipients.retain(|(email, _)| !reached.contains(email));
    }
    if recipients.is_empty() {
        return Ok(sent);
    }
    let transport = transport(smtp)?;
    let lang = site
        .surveys
        .first()
        .map_or("en", |s| s.default_locale.as_str());
    let w = render::words(lang);
    let mut refusals = Vec::new();
    for (email, name) in recipients {
        let message = match email_to(smtp, w, digest, &email, &name) {
            Ok(message) => message,
            Err(error) => {
                sent.failed.push(format!("{email}: {error}"));
                continue;
            }
        };
        match transport.send(message).await {
            Ok(_) => {
                note(store, site, digest, label, &email, now, None).await?;
                sent.emails.push(email);
            }
            Err(error) if refused_for_good(&error) => refusals.push((email, error.to_string())),
            Err(error) => sent.failed.push(format!("{email}: {error}")),
        }
    }
    // An address is refused for good only by a server that took another
    // (now, or at an earlier claim): one that took none may refuse the
    // sender or be set up wrong, and is tried again.
    let took_one = !sent.emails.is_empty() || reached_before;
    for (email, refusal) in refusals {
        if took_one {
            note(store, site, digest, label, &email, now, Some(&refusal)).await?;
            sent.refused.push(format!("{email}: {refusal}"));
        } else {
            sent.failed.push(format!("{email}: {refusal}"));
        }
    }
    Ok(sent)
}

/// Notes, for a claimed period (`label`), that `email` got the digest or
/// was `refused` it for good.
async fn note(
    store: &Store,
    site: &Site,
    digest: &Digest,
    label: Option<&str>,
    email: &str,
    now: i64,
    refused: Option<&str>,
) -> Result<(), String> {
    let Some(label) = label else {
        return Ok(());
    };
    store
        .digest_emailed_to(&site.key, digest.kind.name(), label, email, now, refused)
        .await
        .map_err(|e| e.to_string())
}

/// The webhook events of a weekly digest: `digest.weekly` for the webhooks
/// that list it, and `nps.dropped` for those that list it when the week's
/// NPS fell significantly below the week before's. Keyed by site, webhook
/// and week, so a digest sent again is not delivered twice.
pub fn events(site: &Site, d: &Digest, now: i64) -> Vec<Event> {
    let dropped = d.change.is_some_and(|c| c.significant && c.change < 0.0);
    let mut events = Vec::new();
    for hook in &site.webhooks {
        if hook.hears("digest.weekly") {
            let key = format!("{}/{}/digest-{}", site.key, hook.id, d.period);
            events.push(Event {
                body: render::event_body(hook.format, &key, &hook.id, d),
                key,
                site: site.key.clone(),
                webhook: hook.id.clone(),
                answer_id: d.period.clone(),
                kind: "digest.weekly",
                created_at: now,
            });
        }
        if dropped && hook.hears("nps.dropped") {
            let key = format!("{}/{}/nps-dropped-{}", site.key, hook.id, d.period);
            events.push(Event {
                body: alert_body(hook.format, &key, &hook.id, d),
                key,
                site: site.key.clone(),
                webhook: hook.id.clone(),
                answer_id: d.period.clone(),
                kind: "nps.dropped",
                created_at: now,
            });
        }
    }
    events
}

fn alert_body(format: crate::webhooks::Format, key: &str, hook: &str, d: &Digest) -> String {
    let w = &render::EN;
    let text = format!(
        "{} · {}: {} {}",
        d.site,
        d.period,
        render::headline(w, d.now()),
        render::sentence(w, d)
    );
    match format {
        crate::webhooks::Format::Json => json!({
            "id": key,
            "type": "nps.dropped",
            "site": d.site,
            "webhook": hook,
            "period": d.period,
            "now": d.now(),
            "before": d.before(),
            "change": d.change,
            "dashboard_url": d.dashboard_url,
        })
        .to_string(),
        crate::webhooks::Format::Slack => crate::webhooks::slack_alert(&text, &d.dashboard_url),
    }
}

/// Whether the mail server refused a recipient for good: 550 (no such
/// mailbox), 551 (not local) or 553 (a bad address). Every other failure,
/// a permanent one for the whole session included (530 authentication
/// required, 554 relay denied: the server's setup, not the address), is
/// tried again with the next claim; so is a refusal from a server that took
/// none of the digest's other emails (a sender it refuses, say, is refused
/// at every address).
pub fn refused_for_good(error: &lettre::transport::smtp::Error) -> bool {
    error.is_permanent()
        && error
            .status()
            .is_some_and(|code| matches!(u16::from(code), 550 | 551 | 553))
}

/// The connection to the SMTP server: STARTTLS required, or TLS from the
/// start, or clear text to a relay on this machine; credentials from the
/// environment.
fn transport(smtp: &Smtp) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match smtp.security {
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &smtp.host,
        )),
    }
    .map_err(|e| format!("SMTP server {}: {e}", smtp.host))?
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(30)));
    let builder = match (&smtp.username, &smtp.password) {
        (Some(user), Some(password)) => builder.credentials(Credentials::new(
            user.expose().to_owned(),
            password.expose().to_owned(),
        )),
        _ => builder,
    };
    Ok(builder.build())
}

/// The digest as an email to one member: a text part and an HTML part.
fn email_to(
    smtp: &Smtp,
    w: &render::Words,
    d: &Digest,
    email: &str,
    name: &str,
) -> Result<Message, String> {
    let to = Mailbox::new(
        Some(name.to_owned()),
        email.parse().map_err(|e| format!("{e}"))?,
    );
    let from: Mailbox = smtp.from.parse().map_err(|e| format!("{e}"))?;
    let html = crate::dashboard::document(w.lang, &render::subject(w, d), &render::html(w, d));
    Message::builder()
        .from(from)
        .to(to)
        .subject(render::subject(w, d))
        .multipart(MultiPart::alternative_plain_html(render::text(w, d), html))
        .map_err(|e| e.to_string())
}
