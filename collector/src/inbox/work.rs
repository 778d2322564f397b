//! What a piece of work on an answer does, for the API and the pages alike:
//! a change (held to the version it was made on), a note, a reply; each with
//! its activity lines, its audit line and its webhook events. And the
//! deadline watch, which marks answers overdue once and tells the webhooks.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;

use super::query::{Change, overdue_cutoffs};
use super::{ReplyKeys, Status};
use crate::config::Site;
use crate::export::ParamError;
use crate::http::AppState;
use crate::people::{Person, Role, audit_entry, now_millis};
use crate::store::{
    ActivityLine, AnswerChange, Changed, InboxAnswer, NewReply, Records, Store, StoreError,
};
use crate::webhooks::inbox::events;

/// How an attempt to work on an answer went.
#[derive(Debug)]
pub enum Outcome {
    /// Done: the answer as it is now.
    Done(Box<InboxAnswer>),
    /// Someone else changed it first: the answer as it is now (409).
    Conflict(Box<InboxAnswer>),
    NotFound,
    /// A field at fault (422).
    Invalid(ParamError),
    Unavailable(StoreError),
}

impl From<StoreError> for Outcome {
    fn from(e: StoreError) -> Outcome {
        Outcome::Unavailable(e)
    }
}

/// The most a note or a reply may say.
pub const TEXT_CHARS: usize = survey::MAX_TEXT_CHARS;

/// A note's or a reply's text: trimmed, not empty, not too long.
pub fn text(raw: &str) -> Result<String, ParamError> {
    let text = crate::http::clean_text(raw);
    if text.is_empty() {
        return Err(("text", "write something".into()));
    }
    if text.chars().count() > TEXT_CHARS {
        return Err(("text", format!("at most {TEXT_CHARS} characters")));
    }
    Ok(text)
}

/// The user id of `email` if they may own answers of `site`: an active
/// owner of the instance, or an agent or admin of the site.
async fn owner_id(store: &Store, site: &str, email: &str) -> Result<Option<i64>, StoreError> {
    let Some(user) = store.user_by_email(email).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    if user.owner {
        return Ok(Some(user.id));
    }
    let agent = store
        .memberships(user.id)
        .await?
        .iter()
        .any(|(s, r)| s == site && Role::parse(r).is_some_and(|r| r >= Role::Agent));
    Ok(agent.then_some(user.id))
}

/// Changes answer `id` of `site` as `person` asked, from `version`.
pub async fn change(
    state: &AppState,
    site: &Site,
    person: &Person,
    id: &str,
    version: i64,
    asked: Change,
    client: IpAddr,
) -> Outcome {
    let store = state.store();
    let Some(before) = (match store.inbox_answer(&site.key, id).await {
        Ok(found) => found,
        Err(e) => return Outcome::Unavailable(e),
    }) else {
        return Outcome::NotFound;
    };
    if before.version != version {
        return Outcome::Conflict(Box::new(before));
    }
    let mut after = before.clone();
    let mut change = AnswerChange::default();
    let mut activity = Vec::new();
    let mut kinds: Vec<(&'static str, serde_json::Value)> = Vec::new();
    let by = person.user.email.as_str();
    if let Some(status) = asked.status {
        let (from, to) = (before.status.clone(), status.as_str().to_owned());
        if from != to || before.resolution != asked.resolution {
            change.status = Some(to.clone());
            change.resolution = Some(asked.resolution.clone());
            after.status = to.clone();
            after.resolution = asked.resolution.clone();
            let detail = json!({ "from": from, "to": to, "resolution": asked.resolution });
            activity.push(("status".to_owned(), None, detail.to_string()));
            kinds.push((
                "answer.status_changed",
                json!({ "from": from, "to": to, "resolution": asked.resolution, "by": by }),
            ));
        }
    }
    if let Some(owner) = asked.owner {
        let id_of = match &owner {
            None => None,
            Some(email) => match owner_id(store, &site.key, email).await {
                Ok(Some(user)) => Some(user),
                Ok(None) => {
                    return Outcome::Invalid((
                        "owner",
                        format!("`{email}` is no member who works on this site's answers"),
                    ));
                }
                Err(e) => return Outcome::Unavailable(e),
            },
        };
        if before.owner != owner {
            change.owner = Some(id_of);
            after.owner = owner.clone();
            let detail = json!({ "from": before.owner, "to": owner });
            activity.push(("owner".to_owned(), None, detail.to_string()));
            kinds.push((
                "answer.assigned",
                json!({ "from": before.owner, "to": owner, "by": by }),
            ));
        }
    }
    if let Some(tags) = asked.tags {
        let folded = |list: &[String]| {
            let mut f: Vec<String> = list.iter().map(|t| t.to_lowercase()).collect();
            f.sort();
            f
        };
        if folded(&tags) != folded(&before.tags) {
            let added: Vec<&String> = tags
                .iter()
                .filter(|t| !before.tags.iter().any(|b| b.eq_ignore_ascii_case(t)))
                .collect();
            let removed: Vec<&String> = before
                .tags
                .iter()
                .filter(|b| !tags.iter().any(|t| t.eq_ignore_ascii_case(b)))
                .collect();
            let detail = json!({ "added": added, "removed": removed });
            activity.push(("tags".to_owned(), None, detail.to_string()));
            kinds.push((
                "answer.tags_changed",
                json!({ "added": added, "removed": removed, "by": by }),
            ));
            let mut sorted = tags.clone();
            sorted.sort_by_key(|t| t.to_lowercase());
            after.tags = sorted;
            change.tags = Some(tags);
        }
    }
    if activity.is_empty() {
        return Outcome::Done(Box::new(before));
    }
    after.version = version + 1;
    let now = now_millis();
    let suffix = after.version.to_string();
    let mut records = Records {
        author: person.actor(),
        acted: true,
        audit: vec![audit_entry(
            Some(&site.key),
            &person.actor(),
            "answer_changed",
            json!({ "answer": id, "changes": kinds.iter().map(|(k, c)| json!({ "kind": k, "change": c })).collect::<Vec<_>>() }),
            Some(client.to_string()),
        )],
        ..Records::default()
    };
    for (kind, detail) in &kinds {
        records
            .events
            .extend(events(&site.webhooks, kind, &after, detail, &suffix, now));
    }
    records.activity = activity;
    match store
        .change_answer(&site.key, id, version, &change, now, &records)
        .await
    {
        Err(e) => Outcome::Unavailable(e),
        Ok(Changed::Conflict) => match store.inbox_answer(&site.key, id).await {
            Ok(Some(now_is)) => Outcome::Conflict(Box::new(now_is)),
            Ok(None) => Outcome::NotFound,
            Err(e) => Outcome::Unavailable(e),
        },
        Ok(Changed::Done(_)) => match store.inbox_answer(&site.key, id).await {
            Ok(Some(a)) => Outcome::Done(Box::new(a)),
            Ok(None) => Outcome::NotFound,
            Err(e) => Outcome::Unavailable(e),
        },
    }
}

/// An internal note on answer `id`; the feed's new line.
pub async fn note(
    state: &AppState,
    site: &Site,
    person: &Person,
    id: &str,
    body: &str,
    client: IpAddr,
) -> Result<Option<ActivityLine>, Outcome> {
    let body = text(body).map_err(Outcome::Invalid)?;
    let records = Records {
        author: person.actor(),
        acted: true,
        activity: vec![("note".into(), Some(body), "{}".into())],
        audit: vec![audit_entry(
            Some(&site.key),
            &person.actor(),
            "note_added",
            json!({ "answer": id }),
            Some(client.to_string()),
        )],
        ..Records::default()
    };
    let store = state.store();
    if !store
        .add_activity(&site.key, id, now_millis(), &records)
        .await?
    {
        return Ok(None);
    }
    Ok(store.activity(&site.key, id).await?.pop())
}

/// The 8 hex digits a waiting reply is signalled by: of the respondent id,
/// and (for a verified user) of the user's hash.
pub fn reply_key(value: &str) -> String {
    value
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A reply to answer `id`'s respondent, shown on the site the next time they
/// come (in `locale`, the answer's by default); the reply's id.
pub async fn reply(
    state: &AppState,
    site: &Site,
    person: &Person,
    id: &str,
    body: &str,
    client: IpAddr,
) -> Result<Option<(i64, InboxAnswer)>, Outcome> {
    let body = text(body).map_err(Outcome::Invalid)?;
    let store = state.store();
    let Some(a) = store.inbox_answer(&site.key, id).await? else {
        return Ok(None);
    };
    let r = &a.answer;
    // The same user on any device, when the site vouched for them.
    let verified = match (&site.identity_secret, &r.user_id, r.user_verified) {
        (Some(secret), Some(user), Some(true)) => {
            Some((user.as_str(), crate::identity::user_hash(secret, user)))
        }
        _ => None,
    };
    let now = now_millis();
    let expires_at = now + i64::from(site.inbox.reply_days) * 86_400_000;
    let rkey = reply_key(&r.respondent);
    let ukey = verified.as_ref().map(|(_, h)| reply_key(h));
    let change = json!({ "text": body, "locale": r.locale, "by": person.user.email });
    let records = Records {
        author: person.actor(),
        acted: true,
        activity: vec![(
            "reply".into(),
            Some(body.clone()),
            json!({ "locale": r.locale }).to_string(),
        )],
        audit: vec![audit_entry(
            Some(&site.key),
            &person.actor(),
            "reply_created",
            json!({ "answer": id }),
            Some(client.to_string()),
        )],
        events: Vec::new(),
    };
    let reply = NewReply {
        site: &site.key,
        answer_id: id,
        respondent: &r.respondent,
        user_id: verified.as_ref().map(|(u, _)| *u),
        rkey: &rkey,
        ukey: ukey.as_deref(),
        body: &body,
        locale: &r.locale,
        author: &person.user.email,
        now,
        expires_at,
    };
    // The event's key needs the reply's id: made in the reply's transaction.
    let hooks = &site.webhooks;
    let reply_id = store
        .add_reply(&reply, &records, |reply_id| {
            events(
                hooks,
                "reply.created",
                &a,
                &change,
                &reply_id.to_string(),
                now,
            )
        })
        .await?;
    state.reply_keys().forget(&site.key);
    Ok(Some((reply_id, a)))
}

/// Marks the answers of `site` overdue at `now` (once each) and tells the
/// webhooks that listen; how many. The watch runs it every minute; tests run
/// it with the clock moved.
pub async fn mark_overdue(store: &Store, site: &Site, now: i64) -> Result<usize, StoreError> {
    let cutoffs = overdue_cutoffs(site, now);
    if cutoffs.is_empty() {
        return Ok(0);
    }
    let mut marked = 0;
    for id in store.overdue_answers(&site.key, &cutoffs, 200).await? {
        let Some(a) = store.inbox_answer(&site.key, &id).await? else {
            continue;
        };
        let deadline = survey::Class::from_name(&a.answer.class)
            .and_then(|c| site.inbox.deadline(c))
            .map(human)
            .unwrap_or_default();
        let change =
            json!({ "deadline": deadline, "since": crate::export::rfc3339(a.answer.created_at) });
        let records = Records {
            author: "deadline".into(),
            activity: vec![(
                "overdue".into(),
                None,
                json!({ "deadline": deadline }).to_string(),
            )],
            events: events(&site.webhooks, "answer.overdue", &a, &change, "1", now),
            ..Records::default()
        };
        if store.mark_overdue(&site.key, &id, now, &records).await? {
            marked += 1;
        }
    }
    Ok(marked)
}

/// `24h`, `3d`, `90m`: a deadline as people read it.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else {
        format!("{}m", s / 60)
    }
}

/// Every minute, every site: answers past their deadline are marked overdue.
pub async fn watch_deadlines(state: AppState) {
    loop {
        for site in state.settings().sites.values() {
            if let Err(e) = mark_overdue(state.store(), site, now_millis()).await {
                tracing::warn!(error = %e, site = %site.key, "the deadline watch failed; it runs again in a minute");
            }
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// The statuses a person may set by hand, in the order shown.
pub const SETTABLE: [Status; 5] = Status::ALL;

impl ReplyKeys {
    /// The keys of replies waiting on `site` (cached a few seconds: every
    /// page view of the site asks).
    pub async fn of(&self, store: &Store, site: &str) -> Vec<String> {
        if let Some(keys) = self.cached(site) {
            return keys;
        }
        let keys = store
            .waiting_reply_keys(site, now_millis(), 1000)
            .await
            .unwrap_or_default();
        self.keep(site, keys.clone());
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(86_400)), "1d");
        assert_eq!(human(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(human(Duration::from_secs(90 * 60)), "90m");
    }

    #[test]
    fn reply_keys_are_eight_hex_digits() {
        assert_eq!(reply_key("6F1C2A3B-4d5e"), "6f1c2a3b");
        assert_eq!(reply_key("r-1"), "r-1");
    }
}
