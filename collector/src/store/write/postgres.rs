//! The PostgreSQL writer: a task with a pooled sqlx connection, a batch's rows
//! in one JSONB parameter per statement (one round trip whatever its size);
//! other collectors write to the same tables.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};
use tokio::sync::{Notify, mpsc};

use super::{
    Current, Statements, answer_row, drop_abandoned, event_row, finish, json_array, judge,
    lock_wait,
};
use crate::store::{
    Backend, Before, Job, MAX_BATCH, StoreError, Upsert, WRITE_BUSY_TIMEOUT, pool_options,
};

/// Starts the writer's task on a pool of one connection.
pub(super) async fn start(
    url: &str,
    jobs: mpsc::Receiver<Job>,
    events_ready: Arc<Notify>,
    deadline: Duration,
) -> Result<(), StoreError> {
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
    let pool = pool_options(Backend::Postgres, 1, WRITE_BUSY_TIMEOUT.min(deadline))
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
    Ok(())
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

    #[test]
    fn text_arrays_quote_every_element() {
        assert_eq!(text_array(["a", r#"b"c\d"#]), r#"{"a","b\"c\\d"}"#);
        assert_eq!(text_array([]), "{}");
    }
}
