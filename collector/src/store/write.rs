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

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::{
    Backend, Before, Event, Job, MAX_BATCH, NewAnswer, StoreError, Upsert, WRITE_BUSY_TIMEOUT,
    check_durable, pool_options,
};

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
        Backend::Sqlite => {
            let path = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .get_filename()
                .to_owned();
            // Fail at start-up, not at the first answer.
            let connection = open_sqlite(&path)?;
            verify_durable(&connection)?;
            std::thread::Builder::new()
                .name("pulso-writer".into())
                .spawn(move || sqlite_writer(&path, Some(connection), jobs, &events_ready))
                .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        }
        Backend::Postgres => {
            // A pool of one, so that a lost connection (a database restart)
            // is replaced by the next batch. No ping before each batch (a
            // round trip): a batch that fails closes its connection instead.
            //
            // The writer looks rows up by primary key only. Its statements
            // are prepared once, and a plan cached while the table was small
            // (a whole-table scan, the cheapest then) would be kept as the
            // table grows: no whole-table scans for this connection.
            //
            // No statement may outlast an answer's deadline, nor wait longer
            // for a lock than SQLite's writer would (each request is also
            // answered by its deadline whatever the database does).
            let timeouts = format!(
                "SET enable_seqscan = off; SET lock_timeout = {}; SET statement_timeout = {}",
                WRITE_BUSY_TIMEOUT.min(deadline).as_millis(),
                deadline.as_millis()
            );
            let pool = pool_options(backend, 1, WRITE_BUSY_TIMEOUT.min(deadline))
                .test_before_acquire(false)
                .after_connect(move |connection, _| {
                    let timeouts = timeouts.clone();
                    Box::pin(async move {
                        connection.execute(timeouts.as_str()).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            tokio::spawn(postgres_writer(pool, jobs, events_ready));
        }
    }
    Ok(())
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

/// The SQLite writer's loop: takes every job waiting (up to [`MAX_BATCH`])
/// into one `BEGIN IMMEDIATE` transaction. A failed batch fails all its jobs
/// and drops its connection (rolling back); the next batch opens another, so
/// the collector recovers by itself when the file can be written again.
fn sqlite_writer(
    path: &Path,
    mut connection: Option<rusqlite::Connection>,
    mut jobs: mpsc::Receiver<Job>,
    events_ready: &Notify,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = jobs.blocking_recv() {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        drop_abandoned(&mut batch);
        if batch.is_empty() {
            continue;
        }
        let written = match connection.take().map_or_else(|| open_sqlite(path), Ok) {
            Ok(mut open) => {
                let written = open
                    .busy_timeout(lock_wait(&batch))
                    .and_then(|()| write_batch_sqlite(&mut open, &batch));
                if written.is_ok() {
                    connection = Some(open);
                }
                written
            }
            Err(error) => Err(error),
        };
        finish(&mut batch, written.map_err(|e| e.to_string()), events_ready);
    }
}

/// The writer's connection: WAL + synchronous=FULL, so a commit is on disk
/// before we answer 2xx and an acknowledged answer survives kill -9 and power
/// loss alike; a lock held by someone else (a backup) is waited for
/// [`WRITE_BUSY_TIMEOUT`], then the batch fails with 503.
fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let connection = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(WRITE_BUSY_TIMEOUT)?;
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    Ok(connection)
}

/// Reads back what the connection runs with: WAL and `synchronous=FULL`, or
/// the collector does not start (see [`check_durable`]).
fn verify_durable(connection: &rusqlite::Connection) -> Result<(), StoreError> {
    let mode: String = connection.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    let synchronous: i64 = connection.pragma_query_value(None, "synchronous", |r| r.get(0))?;
    check_durable(&mode, synchronous)
}

/// Commits the batch's answers and their webhook events on SQLite; returns
/// each answer's outcome and how many events were queued. The write lock is
/// held from the read on, so every row the batch writes is its own.
fn write_batch_sqlite(
    connection: &mut rusqlite::Connection,
    batch: &[Job],
) -> Result<(Vec<Upsert>, usize), rusqlite::Error> {
    let statements = Statements::of(Backend::Sqlite);
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let ids = json_array(batch.iter().map(|j| j.answer.id.as_str()))
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let current = tx
        .prepare_cached(&statements.read)?
        .query_map([ids], |row| {
            Ok((
                row.get(0)?,
                Current {
                    site: row.get(1)?,
                    survey: row.get(2)?,
                    respondent: row.get(3)?,
                    rev: row.get(4)?,
                    before: Before {
                        complete: row.get::<_, i64>(5)? != 0,
                        score: row.get(6)?,
                        class: row.get(7)?,
                        band: row.get(8)?,
                    },
                },
            ))
        })?
        .collect::<Result<HashMap<String, Current>, _>>()?;
    let mut judged = judge(batch, current);
    let written: HashSet<&str> = judged
        .writes
        .iter()
        .map(|&i| batch[i].answer.id.as_str())
        .collect();
    let events = judged.settle(batch, &written);
    let mut upsert = tx.prepare_cached(&statements.upsert)?;
    for &i in &judged.writes {
        upsert.execute(rusqlite::params_from_iter(answer_row(&batch[i].answer)))?;
    }
    drop(upsert);
    let mut queued = 0;
    let mut insert = tx.prepare_cached(&statements.events)?;
    for e in &events {
        queued += insert.execute(rusqlite::params_from_iter(event_row(e)))?;
    }
    drop(insert);
    tx.commit()?;
    Ok((judged.outcomes, queued))
}

/// The PostgreSQL writer's loop, as [`sqlite_writer`]'s.
async fn postgres_writer(pool: AnyPool, mut jobs: mpsc::Receiver<Job>, events_ready: Arc<Notify>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        drop_abandoned(&mut batch);
        if batch.is_empty() {
            continue;
        }
        let written = match pool.acquire().await {
            Ok(mut connection) => {
                let written = write_batch_postgres(&mut connection, &batch).await;
                if written.is_err() {
                    let _ = connection.close().await;
                }
                written
            }
            Err(error) => Err(error),
        };
        finish(
            &mut batch,
            written.map_err(|e| e.to_string()),
            &events_ready,
        );
    }
}

/// The columns an upsert writes, in the order of the elements of each row
/// array in the batch's JSON parameter.
const COLUMNS: [(&str, Kind); 21] = [
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
}

/// Where an insert's rows come from. PostgreSQL: one JSON parameter holding
/// the batch's rows as arrays, so a batch of any size is one statement and one
/// round trip (many-row `VALUES` lists would need a statement per size and
/// thousands of parameters). SQLite, in the writer's own process: one row of
/// parameters, prepared once and run for each row.
fn rows_source(backend: Backend, columns: &[(&str, Kind)]) -> String {
    match backend {
        Backend::Sqlite => {
            let params: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            format!("VALUES ({})", params.join(", "))
        }
        Backend::Postgres => {
            let fields: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    Kind::Text => format!("e ->> {i}"),
                    Kind::Int => format!("(e ->> {i})::BIGINT"),
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
            "INSERT INTO answers ({}) {}
             ON CONFLICT (id) DO UPDATE SET
                rev = excluded.rev, score = excluded.score, class = excluded.class,
                band = excluded.band, step = excluded.step, page = excluded.page,
                locale = excluded.locale, user_id = excluded.user_id, props = excluded.props,
                follow_up = excluded.follow_up, open_text = excluded.open_text,
                first_survey = excluded.first_survey, reason_ids = excluded.reason_ids,
                reason_texts = excluded.reason_texts, other_text = excluded.other_text,
                updated_at = excluded.updated_at
             WHERE excluded.rev > answers.rev
               AND answers.site = excluded.site
               AND answers.survey = excluded.survey
               AND answers.respondent = excluded.respondent{}",
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

/// A PostgreSQL array literal of texts: `{"a","b\"c"}`.
fn text_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
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

fn current_of_rows(rows: Vec<AnyRow>) -> Result<HashMap<String, Current>, sqlx::Error> {
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get(0)?,
                Current {
                    site: row.try_get(1)?,
                    survey: row.try_get(2)?,
                    respondent: row.try_get(3)?,
                    rev: row.try_get(4)?,
                    before: Before {
                        complete: row.try_get::<i64, _>(5)? != 0,
                        score: u8::try_from(row.try_get::<i64, _>(6)?).unwrap_or(0),
                        class: row.try_get(7)?,
                        band: row.try_get(8)?,
                    },
                },
            ))
        })
        .collect()
}

/// The same on PostgreSQL, where other collectors write too. Each id of the
/// batch is locked first (a transaction-scoped advisory lock, taken in one
/// order by every collector, so two never deadlock): a row lock alone cannot
/// hold an answer that does not exist yet, and two collectors reading "new"
/// for the same id at once would both judge it created, the second's
/// follow-up then raising no `completed` event. The read that follows, a
/// statement of its own, sees what the previous holder committed.
async fn write_batch_postgres(
    connection: &mut AnyConnection,
    batch: &[Job],
) -> Result<(Vec<Upsert>, usize), sqlx::Error> {
    let statements = Statements::of(Backend::Postgres);
    let ids = text_array(batch.iter().map(|j| j.answer.id.as_str()));
    let mut tx = connection.begin().await?;
    // The batch's lock waits end before its earliest deadline (as on SQLite):
    // a 503 never hides a commit made after it. (0 would mean "no limit".)
    let wait = format!("{}ms", lock_wait(batch).as_millis().max(1));
    sqlx::query(
        "SELECT CAST(COUNT(pg_advisory_xact_lock(k)) AS BIGINT),
            MIN(set_config('lock_timeout', $2, true)),
            MIN(set_config('statement_timeout', $2, true))
         FROM (SELECT DISTINCT hashtextextended(id, 0) AS k
               FROM unnest($1::TEXT[]) AS id ORDER BY k) AS ids",
    )
    .bind(ids.clone())
    .bind(wait)
    .fetch_one(&mut *tx)
    .await?;
    let rows = sqlx::query(&statements.read)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
    let mut judged = judge(batch, current_of_rows(rows)?);
    let mut returned: HashSet<String> = HashSet::new();
    if !judged.writes.is_empty() {
        let answers = json_array(judged.writes.iter().map(|&i| answer_row(&batch[i].answer)))
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        for row in sqlx::query(&statements.upsert)
            .bind(answers)
            .fetch_all(&mut *tx)
            .await?
        {
            returned.insert(row.try_get(0)?);
        }
    }
    let written: HashSet<&str> = returned.iter().map(String::as_str).collect();
    let events = judged.settle(batch, &written);
    let mut queued = 0;
    if !events.is_empty() {
        queued = sqlx::query(&statements.events)
            .bind(
                json_array(events.iter().map(event_row))
                    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
    }
    tx.commit().await?;
    Ok((judged.outcomes, queued))
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

    /// PostgreSQL casts each element by the kind COLUMNS declares: the rows
    /// must put a value of that kind at each place.
    #[test]
    fn rows_hold_the_kinds_their_columns_declare() {
        let answer = NewAnswer {
            id: "id".into(),
            rev: 2,
            site: "shop".into(),
            survey: "nps".into(),
            respondent: "r".into(),
            score: 9,
            class: "promoter",
            band: "promoters".into(),
            step: None,
            page: Some("/done".into()),
            locale: "en".into(),
            user_id: None,
            props: "{}".into(),
            first_survey: Some(true),
            follow_up: None,
            open_text: None,
            reason_ids: None,
            reason_texts: None,
            other_text: None,
            at_millis: 1,
            events: None,
        };
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
            r#"[["id",2,"shop","nps","r",9,"promoter","promoters",null,"/done","en",null,"{}",null,null,1,1,1,null,null,null]]"#
        );
    }

    #[test]
    fn a_weakened_connection_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pulso.db");
        rusqlite::Connection::open(&path).unwrap();
        let connection = open_sqlite(&path).unwrap();
        verify_durable(&connection).unwrap();
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .unwrap();
        let e = verify_durable(&connection).unwrap_err().to_string();
        assert!(e.contains("synchronous is 1"), "{e}");
        connection
            .pragma_update(None, "synchronous", "FULL")
            .unwrap();
        connection
            .pragma_update(None, "journal_mode", "DELETE")
            .unwrap();
        let e = verify_durable(&connection).unwrap_err().to_string();
        assert!(e.contains("journal_mode is `delete`"), "{e}");
        let memory = open_sqlite(Path::new(":memory:")).unwrap();
        assert!(verify_durable(&memory).is_err());
    }

    #[test]
    fn text_arrays_quote_every_element() {
        assert_eq!(text_array(["a", r#"b"c\d"#]), r#"{"a","b\"c\\d"}"#);
        assert_eq!(text_array([]), "{}");
    }
}
