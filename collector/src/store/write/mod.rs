//! The writer: every answer goes through one writer that commits the answers
//! waiting when a transaction starts as one batch ("group commit"), so they
//! share its fsync. A batch takes the write lock, reads what is stored for its
//! ids, judges each answer in arrival order, upserts the latest revision of
//! each id, inserts the webhook events, and commits.
//!
//! SQLite: a thread of its own holding a `rusqlite` connection, statements
//! prepared once and run per row. sqlx runs each SQLite connection on a worker
//! thread reached over channels, so every statement of a batch cost two thread
//! wake-ups; on a busy two-core machine those cost more than the statements
//! (measured with `cargo xtask bench`).
//! PostgreSQL: a task with a pooled sqlx connection, a batch's rows in one
//! JSONB parameter per statement (one round trip whatever its size); other
//! collectors write to the same tables.

mod postgres;
mod sqlite;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::{Backend, Before, Event, Job, NewAnswer, StoreError, Upsert, WRITE_BUSY_TIMEOUT};

/// What a batch keeps back of its answers' deadline for the commit itself
/// (the fsync), once it has the write lock.
const COMMIT_MARGIN: Duration = Duration::from_millis(200);

/// Starts the writer of the database at `url` (migrated already), fed by
/// `jobs`, each of which must be answered within `deadline`.
pub(super) async fn start(
    backend: Backend,
    url: &str,
    jobs: mpsc::Receiver<Job>,
    events_ready: Arc<Notify>,
    deadline: Duration,
) -> Result<(), StoreError> {
    match backend {
        Backend::Sqlite => sqlite::start(url, jobs, events_ready),
        Backend::Postgres => postgres::start(url, jobs, events_ready, deadline).await,
    }
}

/// Leaves out of the batch the jobs nobody waits for any more (answered 503
/// at their deadline, or their client gone): they are not written, so a 503
/// never hides a commit that happened after it.
fn drop_abandoned(batch: &mut Vec<Job>) {
    let now = Instant::now();
    batch.retain(|job| !job.abandoned(now));
}

/// How long the batch may wait for the database's write lock: what is left
/// of its earliest deadline, less the time its commit needs.
fn lock_wait(batch: &[Job]) -> Duration {
    let earliest = batch.iter().map(|j| j.deadline).min();
    earliest
        .map(|d| d.saturating_duration_since(Instant::now()))
        .unwrap_or_default()
        .saturating_sub(COMMIT_MARGIN)
        .min(WRITE_BUSY_TIMEOUT)
}

/// Tells each job of the batch its outcome, and the webhook worker when events
/// were queued.
fn finish(
    batch: &mut Vec<Job>,
    written: Result<(Vec<Upsert>, usize), String>,
    events_ready: &Notify,
) {
    match written {
        Ok((outcomes, events)) => {
            if events > 0 {
                events_ready.notify_one();
            }
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                let _ = job.done.send(Ok(outcome));
            }
        }
        Err(error) => {
            tracing::warn!(%error, answers = batch.len(), "write batch failed");
            for job in batch.drain(..) {
                let _ = job.done.send(Err(StoreError::Unavailable(error.clone())));
            }
        }
    }
}

/// The columns an upsert writes, in the order of the elements of each row
/// array in the batch's JSON parameter.
const COLUMNS: [(&str, Kind); 25] = [
    ("id", Kind::Text),
    ("rev", Kind::Int),
    ("site", Kind::Text),
    ("survey", Kind::Text),
    ("respondent", Kind::Text),
    ("score", Kind::Int),
    ("class", Kind::Text),
    ("band", Kind::Text),
    ("step", Kind::Text),
    ("page", Kind::Text),
    ("locale", Kind::Text),
    ("user_id", Kind::Text),
    ("props", Kind::Text),
    ("follow_up", Kind::Text),
    ("open_text", Kind::Text),
    ("created_at", Kind::Int),
    ("updated_at", Kind::Int),
    ("first_survey", Kind::Int),
    ("reason_ids", Kind::Text),
    ("reason_texts", Kind::Text),
    ("other_text", Kind::Text),
    ("user_verified", Kind::Int),
    ("owner_id", Kind::OwnerEmail),
    ("traits", Kind::Text),
    ("cta", Kind::Int),
];

/// The columns of an outbox event, likewise.
const EVENT_COLUMNS: [(&str, Kind); 8] = [
    ("key", Kind::Text),
    ("site", Kind::Text),
    ("webhook", Kind::Text),
    ("answer_id", Kind::Text),
    ("kind", Kind::Text),
    ("body", Kind::Text),
    ("created_at", Kind::Int),
    ("next_at", Kind::Int),
];

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    /// An email, written as the id of the user who has it (none: NULL).
    OwnerEmail,
}

/// Where an insert's rows come from. PostgreSQL: one JSON parameter holding
/// the batch's rows as arrays, so a batch of any size is one statement and one
/// round trip (many-row `VALUES` lists would need a statement per size and
/// thousands of parameters). SQLite, in the writer's own process: one row of
/// parameters, prepared once and run for each row.
fn rows_source(backend: Backend, columns: &[(&str, Kind)]) -> String {
    match backend {
        Backend::Sqlite => {
            let params: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    Kind::OwnerEmail => format!("(SELECT id FROM users WHERE email = ?{})", i + 1),
                    _ => format!("?{}", i + 1),
                })
                .collect();
            format!("VALUES ({})", params.join(", "))
        }
        Backend::Postgres => {
            let fields: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    Kind::Text => format!("e ->> {i}"),
                    Kind::Int => format!("(e ->> {i})::BIGINT"),
                    Kind::OwnerEmail => format!("(SELECT id FROM users WHERE email = e ->> {i})"),
                })
                .collect();
            format!(
                "SELECT {} FROM jsonb_array_elements($1::JSONB) AS e",
                fields.join(", ")
            )
        }
    }
}

fn names(columns: &[(&str, Kind)]) -> String {
    columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements of a batch, built once per backend.
struct Statements {
    /// What is stored for the ids of `$1`.
    read: String,
    /// The answers of `$1`, returning (on PostgreSQL) the ids written.
    upsert: String,
    /// The events of `$1`.
    events: String,
}

impl Statements {
    fn of(backend: Backend) -> &'static Statements {
        static SQLITE: std::sync::LazyLock<Statements> =
            std::sync::LazyLock::new(|| Statements::build(Backend::Sqlite));
        static POSTGRES: std::sync::LazyLock<Statements> =
            std::sync::LazyLock::new(|| Statements::build(Backend::Postgres));
        match backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    fn build(backend: Backend) -> Statements {
        let ids = match backend {
            Backend::Sqlite => "id IN (SELECT value FROM json_each($1))",
            // Locked, as other collectors write too (SQLite's write lock is
            // already the batch's).
            Backend::Postgres => "id = ANY($1::TEXT[]) FOR UPDATE",
        };
        let read = format!(
            "SELECT id, site, survey, respondent, rev,
                CAST(CASE WHEN follow_up IS NULL THEN 0 ELSE 1 END AS BIGINT),
                score, class, band
             FROM answers WHERE {ids}"
        );
        // The WHERE keeps a newer revision another collector wrote meanwhile;
        // on PostgreSQL, RETURNING says which rows were ours. (On SQLite the
        // batch holds the write lock since its read: every row it writes is.)
        let upsert = format!(
            "INSERT {}INTO answers ({}) {}
             ON CONFLICT (id) DO UPDATE SET
                rev = excluded.rev, score = excluded.score, class = excluded.class,
                band = excluded.band, step = excluded.step, page = excluded.page,
                locale = excluded.locale, user_id = excluded.user_id, props = excluded.props,
                traits = excluded.traits, cta = excluded.cta,
                user_verified = excluded.user_verified,
                follow_up = excluded.follow_up, open_text = excluded.open_text,
                first_survey = excluded.first_survey, reason_ids = excluded.reason_ids,
                reason_texts = excluded.reason_texts, other_text = excluded.other_text,
                updated_at = excluded.updated_at,
                owner_id = COALESCE(answers.owner_id, excluded.owner_id)
             WHERE excluded.rev > answers.rev
               AND answers.site = excluded.site
               AND answers.survey = excluded.survey
               AND answers.respondent = excluded.respondent{}",
            // On SQLite a constraint that fails rolls the whole transaction
            // back, as a failed batch is anyway. (The statement journal
            // stays: SQLite codes the DO UPDATE, and the triggers' upserts,
            // with ABORT whatever this says; see ARCHITECTURE.md.)
            match backend {
                Backend::Sqlite => "OR ROLLBACK ",
                Backend::Postgres => "",
            },
            names(&COLUMNS),
            rows_source(backend, &COLUMNS),
            match backend {
                Backend::Sqlite => "",
                Backend::Postgres => "\n             RETURNING id",
            }
        );
        let events = format!(
            "INSERT INTO webhook_events ({}) {} ON CONFLICT (key) DO NOTHING",
            names(&EVENT_COLUMNS),
            rows_source(backend, &EVENT_COLUMNS)
        );
        Statements {
            read,
            upsert,
            events,
        }
    }
}

/// One value of a row, as both backends take it: a JSON array element for
/// PostgreSQL's JSONB parameter, a bound parameter for SQLite.
enum Value<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl serde::Serialize for Value<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(v) => v.serialize(serializer),
            Value::Int(v) => v.serialize(serializer),
        }
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Value::Text(v) => v.to_sql(),
            Value::Int(v) => v.to_sql(),
        }
    }
}

/// An answer's row, in the order of [`COLUMNS`] (the only place that order
/// is written for values).
fn answer_row(a: &NewAnswer) -> [Value<'_>; COLUMNS.len()] {
    use Value::{Int, Text};
    fn text(v: &Option<String>) -> Value<'_> {
        Value::Text(v.as_deref())
    }
    [
        Text(Some(&a.id)),
        Int(Some(a.rev.into())),
        Text(Some(&a.site)),
        Text(Some(&a.survey)),
        Text(Some(&a.respondent)),
        Int(Some(a.score.into())),
        Text(Some(a.class)),
        Text(Some(&a.band)),
        text(&a.step),
        text(&a.page),
        Text(Some(&a.locale)),
        text(&a.user_id),
        Text(Some(&a.props)),
        Text(a.follow_up),
        text(&a.open_text),
        Int(Some(a.at_millis)),
        Int(Some(a.at_millis)),
        Int(a.first_survey.map(i64::from)),
        text(&a.reason_ids),
        text(&a.reason_texts),
        text(&a.other_text),
        Int(a.user_verified.map(i64::from)),
        text(&a.owner),
        text(&a.traits),
        Int(a.cta.map(i64::from)),
    ]
}

/// An outbox event's row, in the order of [`EVENT_COLUMNS`].
fn event_row(e: &Event) -> [Value<'_>; EVENT_COLUMNS.len()] {
    use Value::{Int, Text};
    [
        Text(Some(&e.key)),
        Text(Some(&e.site)),
        Text(Some(&e.webhook)),
        Text(Some(&e.answer_id)),
        Text(Some(e.kind)),
        Text(Some(&e.body)),
        Int(Some(e.created_at)),
        Int(Some(e.created_at)),
    ]
}

/// A JSON array of `items`. Strings and integers always serialize; were one
/// not to, the batch fails rather than writing less than it acknowledges.
fn json_array<T: serde::Serialize>(
    items: impl IntoIterator<Item = T>,
) -> Result<String, serde_json::Error> {
    let items: Vec<T> = items.into_iter().collect();
    serde_json::to_string(&items)
}

/// What the database holds for an id, as the batch sees it.
struct Current {
    site: String,
    survey: String,
    respondent: String,
    rev: i64,
    before: Before,
}

/// What a batch makes of its answers, judged in arrival order against what
/// is stored (or what an earlier answer of the batch made of it).
struct Judged {
    outcomes: Vec<Upsert>,
    /// The answer (index) holding the latest revision of each id to write.
    writes: Vec<usize>,
    /// Each stored revision (index) and what it was written over (`None`:
    /// it created the answer), for the webhook events.
    changes: Vec<(usize, Option<Before>)>,
}

fn state_of(a: &NewAnswer) -> Before {
    Before {
        score: a.score,
        class: a.class.to_owned(),
        band: a.band.clone(),
        complete: a.follow_up.is_some(),
    }
}

fn judge(batch: &[Job], mut current: HashMap<String, Current>) -> Judged {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut latest: HashMap<&str, usize> = HashMap::new();
    let mut changes: Vec<(usize, Option<Before>)> = Vec::new();
    for (i, job) in batch.iter().enumerate() {
        let a = &job.answer;
        let outcome = match current.get_mut(&a.id) {
            Some(c)
                if (c.site.as_str(), c.survey.as_str(), c.respondent.as_str())
                    != (a.site.as_str(), a.survey.as_str(), a.respondent.as_str()) =>
            {
                Upsert::IdTaken
            }
            Some(c) if c.rev >= i64::from(a.rev) => Upsert::AlreadyNewer,
            Some(c) => {
                let before = std::mem::replace(&mut c.before, state_of(a));
                changes.push((i, Some(before)));
                c.rev = i64::from(a.rev);
                latest.insert(&a.id, i);
                Upsert::Stored
            }
            None => {
                current.insert(
                    a.id.clone(),
                    Current {
                        site: a.site.clone(),
                        survey: a.survey.clone(),
                        respondent: a.respondent.clone(),
                        rev: i64::from(a.rev),
                        before: state_of(a),
                    },
                );
                changes.push((i, None));
                latest.insert(&a.id, i);
                Upsert::Stored
            }
        };
        outcomes.push(outcome);
    }
    let mut writes: Vec<usize> = latest.into_values().collect();
    writes.sort_unstable();
    Judged {
        outcomes,
        writes,
        changes,
    }
}

impl Judged {
    /// Settles the outcomes once the database said which ids were written
    /// (another collector may have stored the same or a newer revision first:
    /// not ours, and not our events either); returns the events to queue.
    fn settle(&mut self, batch: &[Job], written: &HashSet<&str>) -> Vec<Event> {
        for (outcome, job) in self.outcomes.iter_mut().zip(batch) {
            if *outcome == Upsert::Stored && !written.contains(job.answer.id.as_str()) {
                *outcome = Upsert::AlreadyNewer;
            }
        }
        self.changes
            .iter()
            .filter(|(i, _)| written.contains(batch[*i].answer.id.as_str()))
            .flat_map(|(i, before)| {
                let a = &batch[*i].answer;
                a.events
                    .as_ref()
                    .map(|make| (make.0)(a, before.as_ref()))
                    .unwrap_or_default()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(row: &[Value]) -> Vec<bool> {
        row.iter().map(|v| matches!(v, Value::Int(_))).collect()
    }

    fn declared(columns: &[(&str, Kind)]) -> Vec<bool> {
        columns
            .iter()
            .map(|(_, k)| matches!(k, Kind::Int))
            .collect()
    }

    /// A score-only answer of `id`, for the writers' tests.
    pub(in crate::store::write) fn answer(id: &str, score: u8) -> NewAnswer {
        NewAnswer {
            id: id.into(),
            rev: 2,
            site: "shop".into(),
            survey: "nps".into(),
            respondent: "r".into(),
            score,
            class: "promoter",
            band: "promoters".into(),
            step: None,
            page: Some("/done".into()),
            locale: "en".into(),
            user_id: None,
            user_verified: None,
            props: "{}".into(),
            traits: None,
            first_survey: Some(true),
            cta: None,
            follow_up: None,
            open_text: None,
            reason_ids: None,
            reason_texts: None,
            other_text: None,
            owner: None,
            at_millis: 1,
            events: None,
        }
    }

    /// PostgreSQL casts each element by the kind COLUMNS declares: the rows
    /// must put a value of that kind at each place.
    #[test]
    fn rows_hold_the_kinds_their_columns_declare() {
        let answer = answer("id", 9);
        assert_eq!(kinds(&answer_row(&answer)), declared(&COLUMNS));
        let event = Event {
            key: "k".into(),
            site: "shop".into(),
            webhook: "w".into(),
            answer_id: "id".into(),
            kind: "answer.created",
            body: "{}".into(),
            created_at: 1,
        };
        assert_eq!(kinds(&event_row(&event)), declared(&EVENT_COLUMNS));
        assert_eq!(
            json_array([answer_row(&answer)]).unwrap(),
            r#"[["id",2,"shop","nps","r",9,"promoter","promoters",null,"/done","en",null,"{}",null,null,1,1,1,null,null,null,null,null,null,null]]"#
        );
    }
}
