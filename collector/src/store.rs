//! Storage of answers. Only this module speaks SQL; the rest of the collector sees
//! [`Store`], [`NewAnswer`] and [`AnswerRow`].
//!
//! Writes go through one writer task that owns one connection and commits answers
//! in batches ("group commit"): every answer waiting when a transaction starts
//! shares its fsync, so `synchronous=FULL` durability does not cost throughput.
//! Reads (exports, history) use a pool of other connections, which WAL allows
//! alongside the writer.

use std::str::FromStr;
use std::time::Duration;

use futures_util::Stream;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use tokio::sync::{mpsc, oneshot};

/// Most answers one transaction commits.
const MAX_BATCH: usize = 256;
/// Answers waiting for the writer; past this the collector answers 503 at once.
const QUEUE: usize = 4096;
/// How long the writer waits for a lock held by someone else (a backup, a
/// migration) before the batch fails with 503: long enough for a checkpoint,
/// short enough that a client is never left hanging.
const WRITE_BUSY_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}` (expected sqlite://PATH)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The write did not happen (database locked, disk full or read-only, writer
    /// queue full); nothing was acknowledged, the client may retry.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// An answer checked by the HTTP layer, ready to be stored.
#[derive(Clone, Debug)]
pub struct NewAnswer {
    pub id: String,
    pub rev: u32,
    pub site: String,
    pub survey: String,
    pub respondent: String,
    pub score: u8,
    pub class: &'static str,
    pub band: String,
    pub step: Option<String>,
    pub page: Option<String>,
    pub locale: String,
    pub user_id: Option<String>,
    /// JSON object text.
    pub props: String,
    pub first_survey: Option<bool>,
    pub follow_up: Option<&'static str>,
    pub open_text: Option<String>,
    pub reason_ids: Option<String>,
    pub reason_texts: Option<String>,
    pub other_text: Option<String>,
    pub at_millis: i64,
}

/// Which answers an export or report covers; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Created at or after (Unix milliseconds).
    pub from: Option<i64>,
    /// Created before (Unix milliseconds).
    pub to: Option<i64>,
    pub survey: Option<String>,
    pub step: Option<String>,
    pub class: Option<String>,
    pub band: Option<String>,
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// The answer was created or moved to this newer revision.
    Stored,
    /// Same or newer revision already stored: a retry, a duplicate or a late post.
    AlreadyNewer,
    /// The id belongs to another site, survey or respondent.
    IdTaken,
}

/// One stored answer as exports see it.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRow {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub site: String,
    pub survey: String,
    pub step: Option<String>,
    pub page: Option<String>,
    pub locale: String,
    pub score: i64,
    pub class: String,
    pub band: String,
    pub first_survey: Option<bool>,
    pub follow_up: Option<String>,
    pub reason_ids: Option<String>,
    pub reason_texts: Option<String>,
    pub other_text: Option<String>,
    pub open_text: Option<String>,
    pub respondent: String,
    pub user_id: Option<String>,
    pub props: String,
}

#[derive(Clone)]
pub struct Store {
    /// Readers.
    pool: SqlitePool,
    /// The writer task's queue.
    writer: mpsc::Sender<Job>,
}

struct Job {
    answer: NewAnswer,
    done: oneshot::Sender<Result<Upsert, StoreError>>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database named by `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        // WAL + synchronous=FULL: a commit is on disk before we answer 2xx, so an
        // acknowledged answer survives kill -9 and power loss alike.
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let connection =
            SqliteConnection::connect_with(&options.busy_timeout(WRITE_BUSY_TIMEOUT)).await?;
        let (writer, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(connection, jobs));
        Ok(Store { pool, writer })
    }

    /// Creates the answer, or moves it to a newer revision; never goes backwards.
    /// Returns once the answer's transaction is committed (on disk), or with
    /// [`StoreError::Unavailable`] when it could not be.
    pub async fn upsert(&self, answer: NewAnswer) -> Result<Upsert, StoreError> {
        let (done, outcome) = oneshot::channel();
        self.writer
            .try_send(Job { answer, done })
            .map_err(|_| StoreError::Unavailable("the write queue is full".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
    }
}

/// The writer task: takes every job waiting (up to [`MAX_BATCH`]) into one
/// `BEGIN IMMEDIATE ... COMMIT`, then tells each job its outcome. A failed
/// batch fails all its jobs; the next batch tries again, so the collector
/// recovers by itself when the database can be written again.
async fn write_loop(mut connection: SqliteConnection, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write_batch(&mut connection, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.done.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::warn!(%error, answers = batch.len(), "write batch failed");
                for job in batch.drain(..) {
                    let _ = job
                        .done
                        .send(Err(StoreError::Unavailable(error.to_string())));
                }
            }
        }
    }
}

async fn write_batch(
    connection: &mut SqliteConnection,
    batch: &[Job],
) -> Result<Vec<Upsert>, sqlx::Error> {
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        outcomes.push(upsert_one(&mut tx, &job.answer).await?);
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn upsert_one(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    a: &NewAnswer,
) -> Result<Upsert, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO answers (id, rev, site, survey, respondent, score, class, band, step, page,
                locale, user_id, props, follow_up, open_text, created_at, updated_at,
                first_survey, reason_ids, reason_texts, other_text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16,
                ?17, ?18, ?19, ?20)
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
               AND answers.respondent = excluded.respondent",
    )
    .bind(&a.id)
    .bind(a.rev)
    .bind(&a.site)
    .bind(&a.survey)
    .bind(&a.respondent)
    .bind(a.score)
    .bind(a.class)
    .bind(&a.band)
    .bind(&a.step)
    .bind(&a.page)
    .bind(&a.locale)
    .bind(&a.user_id)
    .bind(&a.props)
    .bind(a.follow_up)
    .bind(&a.open_text)
    .bind(a.at_millis)
    .bind(a.first_survey)
    .bind(&a.reason_ids)
    .bind(&a.reason_texts)
    .bind(&a.other_text)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Upsert::Stored);
    }
    let owner = sqlx::query("SELECT site, survey, respondent FROM answers WHERE id = ?1")
        .bind(&a.id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match owner {
        Some(row)
            if row.get::<String, _>(0) == a.site
                && row.get::<String, _>(1) == a.survey
                && row.get::<String, _>(2) == a.respondent =>
        {
            Upsert::AlreadyNewer
        }
        _ => Upsert::IdTaken,
    })
}

impl Store {
    /// The answers of a site that pass `filter`, oldest first, as a stream
    /// (memory does not grow with the number of rows).
    pub fn answers<'a>(
        &'a self,
        site: &str,
        filter: &Filter,
    ) -> impl Stream<Item = Result<AnswerRow, StoreError>> + 'a {
        use futures_util::StreamExt;
        sqlx::query(
            "SELECT id, created_at, updated_at, site, survey, step, page, locale, score, class,
                band, first_survey, follow_up, reason_ids, reason_texts, other_text, open_text,
                respondent, user_id, props
             FROM answers
             WHERE site = ?1
               AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at < ?3)
               AND (?4 IS NULL OR survey = ?4) AND (?5 IS NULL OR step = ?5)
               AND (?6 IS NULL OR class = ?6) AND (?7 IS NULL OR band = ?7)
             ORDER BY created_at, id",
        )
        .bind(site.to_owned())
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.survey.clone())
        .bind(filter.step.clone())
        .bind(filter.class.clone())
        .bind(filter.band.clone())
        .fetch(&self.pool)
        .map(|row| row.map(|r| to_row(&r)).map_err(StoreError::from))
    }

    /// Whether the respondent, or the identified user, has an answer on the site.
    pub async fn has_answered(
        &self,
        site: &str,
        respondent: &str,
        user_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let found = sqlx::query(
            "SELECT 1 FROM answers WHERE site = ?1 AND respondent = ?2
             UNION ALL
             SELECT 1 FROM answers WHERE site = ?1 AND user_id = ?3
             LIMIT 1",
        )
        .bind(site)
        .bind(respondent)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Ready to serve: the database answers a read and the writer is running.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if self.writer.is_closed() {
            return Err(StoreError::Unavailable("the writer stopped".into()));
        }
        sqlx::query("SELECT 1 FROM answers LIMIT 1")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn to_row(r: &SqliteRow) -> AnswerRow {
    AnswerRow {
        id: r.get("id"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        site: r.get("site"),
        survey: r.get("survey"),
        step: r.get("step"),
        page: r.get("page"),
        locale: r.get("locale"),
        score: r.get("score"),
        class: r.get("class"),
        band: r.get("band"),
        first_survey: r.get("first_survey"),
        follow_up: r.get("follow_up"),
        reason_ids: r.get("reason_ids"),
        reason_texts: r.get("reason_texts"),
        other_text: r.get("other_text"),
        open_text: r.get("open_text"),
        respondent: r.get("respondent"),
        user_id: r.get("user_id"),
        props: r.get("props"),
    }
}
