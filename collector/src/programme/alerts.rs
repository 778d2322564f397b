//! The trend alert of surveys asked in waves: once a wave has closed, an
//! `nps.dropped` webhook event when its NPS fell significantly below the
//! wave before's (the weekly one goes with the weekly digest). Keyed by
//! site, webhook, survey and wave, so N collectors checking the same wave
//! queue it once (the outbox keeps the first of a key).

use std::time::Duration;

use serde_json::json;

use super::Wave;
use crate::config::{Settings, Site};
use crate::report::{Change, Tally, change, wave_tally};
use crate::store::{Event, Store, StoreError};
use crate::webhooks::Webhook;

/// How often the collector looks for a wave that closed.
const EVERY: Duration = Duration::from_secs(300);
/// A wave closed longer ago than this raises no alert any more (a collector
/// started long after would otherwise report old news).
const FRESH_MS: i64 = 14 * 86_400_000;

/// Every five minutes, the alerts of the waves that closed lately.
pub async fn keep_watching(settings: Settings, store: Store) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let now = crate::people::now_millis();
        for site in settings.sites.values() {
            if let Err(error) = queue_wave_alerts(&store, site, now).await {
                tracing::warn!(site = site.key, %error, "wave alerts not checked; tried again soon");
            }
        }
    }
}

/// A closed wave against the wave before it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaveDrop {
    pub survey: String,
    pub wave: Wave,
    pub now: Tally,
    pub before: Tally,
    pub change: Change,
}

/// Per survey of `site` asked in waves: its latest wave closed by `now`
/// (within the last 14 days) against the wave before, when its NPS fell
/// significantly.
pub async fn wave_drops(store: &Store, site: &Site, now: i64) -> Result<Vec<WaveDrop>, StoreError> {
    let mut drops = Vec::new();
    for (survey, schedule) in &site.waves {
        let closed: Vec<Wave> = schedule
            .opened(now, &site.time_zone, 3)
            .into_iter()
            .filter(|w| w.closes <= now)
            .collect();
        let [.., before, last] = closed[..] else {
            continue;
        };
        if before.number + 1 != last.number || now - last.closes > FRESH_MS {
            continue;
        }
        let (a, b) = (
            wave_tally(store, site, survey, &last).await?,
            wave_tally(store, site, survey, &before).await?,
        );
        if let Some(c) = change(&a, &b).filter(|c| c.significant && c.change < 0.0) {
            drops.push(WaveDrop {
                survey: survey.clone(),
                wave: last,
                now: a,
                before: b,
                change: c,
            });
        }
    }
    Ok(drops)
}

/// Queues the `nps.dropped` events of `site`'s waves that dropped, for its
/// webhooks that list the event; returns how many were queued (the outbox
/// keeps one event per key: a wave checked again queues nothing new).
pub async fn queue_wave_alerts(store: &Store, site: &Site, now: i64) -> Result<usize, StoreError> {
    if site.waves.is_empty() || !site.webhooks.iter().any(|h| h.hears("nps.dropped")) {
        return Ok(0);
    }
    let mut events = Vec::new();
    for drop in wave_drops(store, site, now).await? {
        for hook in site.webhooks.iter().filter(|h| h.hears("nps.dropped")) {
            let key = format!(
                "{}/{}/nps-dropped-{}-wave-{}",
                site.key, hook.id, drop.survey, drop.wave.number
            );
            events.push(Event {
                body: body(hook, &key, &site.key, &drop),
                key,
                site: site.key.clone(),
                webhook: hook.id.clone(),
                answer_id: format!("{}-wave-{}", drop.survey, drop.wave.number),
                kind: "nps.dropped",
                created_at: now,
            });
        }
    }
    if events.is_empty() {
        return Ok(0);
    }
    store.queue_events(&events).await?;
    Ok(events.len())
}

fn figures(t: &Tally) -> serde_json::Value {
    json!({
        "answers": t.answers(),
        "nps": t.nps().map(|v| (v * 10.0).round() / 10.0),
        "margin_of_error": t.margin_of_error().map(|v| (v * 10.0).round() / 10.0),
    })
}

fn body(hook: &Webhook, key: &str, site: &str, d: &WaveDrop) -> String {
    let opens = crate::export::rfc3339(d.wave.opens);
    match hook.format {
        crate::webhooks::Format::Json => json!({
            "id": key,
            "type": "nps.dropped",
            "site": site,
            "webhook": hook.id,
            "survey": d.survey,
            "wave": d.wave.number,
            "opens": opens,
            "closes": crate::export::rfc3339(d.wave.closes),
            "now": figures(&d.now),
            "before": figures(&d.before),
            "change": d.change,
            "dashboard_url": hook.dashboard_url,
        })
        .to_string(),
        crate::webhooks::Format::Slack => {
            let text = format!(
                "{site} · {} wave {} (opened {}): NPS {:+.0} points against the wave before \
                 (± {:.0}), more than the samples explain.",
                d.survey,
                d.wave.number,
                opens.get(..10).unwrap_or(&opens),
                d.change.change,
                d.change.margin_of_error
            );
            crate::webhooks::slack_alert(&text, &hook.dashboard_url)
        }
    }
}
