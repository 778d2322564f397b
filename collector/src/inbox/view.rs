//! The inbox as the API answers it: a page of answers with its counts, one
//! answer with its timeline and activity, the site's tags. Times are RFC 3339
//! in UTC, as in exports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Site;
use crate::export::{JsonRow, rfc3339};
use crate::store::{ActivityLine, InboxAnswer, InboxRow, TagCount, TimelinePoint};

/// When an answer of `class` created at `created_at` must leave `new`, if
/// its class has a deadline.
pub fn due_at(site: &Site, class: &str, created_at: i64) -> Option<i64> {
    let d = site.inbox.deadline(survey::Class::from_name(class)?)?;
    Some(created_at.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

/// Whether an answer is overdue at `now`: still new, past its deadline.
pub fn overdue(site: &Site, status: &str, class: &str, created_at: i64, now: i64) -> bool {
    status == "new" && due_at(site, class, created_at).is_some_and(|due| due <= now)
}

/// An answer in a list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub id: String,
    pub created_at: String,
    pub survey: String,
    pub step: Option<String>,
    pub locale: String,
    pub score: i64,
    pub class: String,
    pub band: String,
    /// null (score only), open or closed.
    pub follow_up: Option<String>,
    pub open_text: Option<String>,
    pub reason_texts: Vec<String>,
    pub other_text: Option<String>,
    pub status: super::Status,
    /// The owner's email.
    pub owner: Option<String>,
    pub tags: Vec<String>,
    /// Send it back as `If-Match` with a change.
    pub version: i64,
    /// The caller has opened it.
    pub read: bool,
    /// Still new past its class's deadline.
    pub overdue: bool,
    /// When it must leave `new`, while it is new.
    pub due_at: Option<String>,
}

impl InboxItem {
    pub fn of(site: &Site, r: InboxRow, now: i64) -> InboxItem {
        let due = (r.status == "new")
            .then(|| due_at(site, &r.class, r.created_at))
            .flatten();
        InboxItem {
            overdue: overdue(site, &r.status, &r.class, r.created_at, now),
            due_at: due.map(rfc3339),
            created_at: rfc3339(r.created_at),
            status: super::Status::parse(&r.status).unwrap_or(super::Status::New),
            reason_texts: r
                .reason_texts
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| t.split("; ").map(str::to_owned).collect())
                .unwrap_or_default(),
            id: r.id,
            survey: r.survey,
            step: r.step,
            locale: r.locale,
            score: r.score,
            class: r.class,
            band: r.band,
            follow_up: r.follow_up,
            open_text: r.open_text,
            other_text: r.other_text,
            owner: r.owner,
            tags: r.tags,
            version: r.version,
            read: r.read,
        }
    }
}

/// A page of the inbox.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxList {
    pub answers: Vec<InboxItem>,
    /// Per status, the answers that pass the other filters.
    pub counts: BTreeMap<String, i64>,
    /// How many of those are overdue.
    pub overdue: i64,
    /// The `cursor` of the next (older) page; null on the last.
    pub next_cursor: Option<String>,
}

/// One of the respondent's answers on the site.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    pub id: String,
    pub created_at: String,
    pub survey: String,
    pub step: Option<String>,
    pub score: i64,
    pub class: String,
}

impl From<TimelinePoint> for TimelineItem {
    fn from(p: TimelinePoint) -> TimelineItem {
        TimelineItem {
            created_at: rfc3339(p.created_at),
            id: p.id,
            survey: p.survey,
            step: p.step,
            score: p.score,
            class: p.class,
        }
    }
}

/// A note, a change or a reply.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: i64,
    pub at: String,
    /// An email (`… (token NAME)` through a token), `rules`, `deadline`,
    /// `respondent`.
    pub author: String,
    /// note, status, owner, tags, reply, reply_seen, overdue.
    pub kind: String,
    /// A note's or a reply's text.
    pub text: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<ActivityLine> for Activity {
    fn from(l: ActivityLine) -> Activity {
        Activity {
            id: l.id,
            at: rfc3339(l.at),
            author: l.author,
            kind: l.kind,
            text: l.body,
            detail: serde_json::from_str(&l.detail).unwrap_or_else(|_| serde_json::json!({})),
        }
    }
}

/// One answer with everything the inbox keeps of it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerView<'a> {
    /// The answer as exports have it (inbox fields included).
    #[schema(value_type = crate::export::JsonRow)]
    pub answer: JsonRow<'a>,
    pub version: i64,
    pub resolution: Option<&'a str>,
    pub first_action_at: Option<String>,
    pub overdue: bool,
    pub due_at: Option<String>,
    /// Every answer of the same respondent (or verified user) on the site.
    pub timeline: Vec<TimelineItem>,
    pub activity: Vec<Activity>,
}

impl<'a> AnswerView<'a> {
    pub fn of(
        site: &Site,
        a: &'a InboxAnswer,
        timeline: Vec<TimelinePoint>,
        activity: Vec<ActivityLine>,
        now: i64,
    ) -> AnswerView<'a> {
        let r = &a.answer;
        AnswerView {
            answer: JsonRow::from(r),
            version: a.version,
            resolution: a.resolution.as_deref(),
            first_action_at: a.first_action_at.map(rfc3339),
            overdue: overdue(site, &a.status, &r.class, r.created_at, now),
            due_at: (a.status == "new")
                .then(|| due_at(site, &r.class, r.created_at))
                .flatten()
                .map(rfc3339),
            timeline: timeline.into_iter().map(TimelineItem::from).collect(),
            activity: activity.into_iter().map(Activity::from).collect(),
        }
    }
}

/// A tag and its answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub answers: i64,
}

impl From<TagCount> for Tag {
    fn from(t: TagCount) -> Tag {
        Tag {
            id: t.id,
            name: t.name,
            answers: t.answers,
        }
    }
}

/// The site's tags.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Tags {
    pub tags: Vec<Tag>,
}
