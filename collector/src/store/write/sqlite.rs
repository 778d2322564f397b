//! The SQLite writer: a thread of its own holding a `rusqlite` connection,
//! statements prepared once and run per row, every batch in one
//! `BEGIN IMMEDIATE` transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use super::{
    Current, Statements, answer_row, drop_abandoned, event_row, finish, json_array, judge,
    lock_wait,
};
use crate::store::{
    Backend, Before, Job, MAX_BATCH, StoreError, Upsert, WRITE_BUSY_TIMEOUT, check_durable,
};

/// Opens the writer's connection (failing at start-up, not at the first
/// answer) and starts its thread.
pub(super) fn start(
    url: &str,
    jobs: mpsc::Receiver<Job>,
    events_ready: Arc<Notify>,
) -> Result<(), StoreError> {
    let path = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .get_filename()
        .to_owned();
    let connection = open_sqlite(&path)?;
    verify_durable(&connection)?;
    std::thread::Builder::new()
        .name("pulso-writer".into())
        .spawn(move || sqlite_writer(&path, Some(connection), jobs, &events_ready))
        .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewAnswer;
    use crate::store::write::tests::answer;

    fn job(answer: NewAnswer) -> Job {
        Job {
            answer,
            done: tokio::sync::oneshot::channel().0,
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(5),
        }
    }

    fn count(connection: &rusqlite::Connection, table: &str) -> i64 {
        connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// A constraint one answer breaks takes the whole batch back, its
    /// rollups too, as the upsert's `OR ROLLBACK` says, and the next batch
    /// commits.
    #[tokio::test]
    async fn a_broken_constraint_rolls_the_batch_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pulso.db");
        let url = format!("sqlite://{}", path.display());
        crate::store::Store::open(&url).await.unwrap().close().await;
        let mut connection = open_sqlite(&path).unwrap();
        let batch = [job(answer("a", 9)), job(answer("b", 11))];
        let e = write_batch_sqlite(&mut connection, &batch).unwrap_err();
        assert!(e.to_string().contains("CHECK constraint failed"), "{e}");
        assert!(connection.is_autocommit());
        assert_eq!(count(&connection, "answers"), 0);
        assert_eq!(count(&connection, "rollup_hours"), 0);
        let batch = [job(answer("a", 9)), job(answer("b", 10))];
        let (outcomes, _) = write_batch_sqlite(&mut connection, &batch).unwrap();
        assert_eq!(outcomes, [Upsert::Stored, Upsert::Stored]);
        assert_eq!(count(&connection, "answers"), 2);
        let n: i64 = connection
            .query_row("SELECT sum(n) FROM rollup_hours", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
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
}
