//! Storage of answers, in SQLite (one file, the default) or PostgreSQL (several
//! collectors on one database), chosen by the database URL. Only this module
//! speaks SQL; the rest of the collector sees [`Store`], [`NewAnswer`] and
//! [`AnswerRow`]. Reads and the webhook outbox run the same statements on both
//! backends through sqlx's `Any` driver: `$N` parameters, integers as BIGINT
//! (booleans as 0/1), no dialect beyond what both share; each backend has its
//! own migrations.
//!
//! Writes of answers go through one writer ([`write`]) that commits them in
//! batches ("group commit"): every answer waiting when a transaction starts
//! shares its fsync, so durable commits do not cost throughput. Reads (exports,
//! history) use a pool of other connections, which SQLite's WAL allows
//! alongside the writer.

use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

mod write;

/// Most answers one transaction commits.
const MAX_BATCH: usize = 256;
/// Answers waiting for the writer; past this the collector answers 503 at once.
const QUEUE: usize = 4096;
/// How long the writer waits for a lock held by someone else (a backup, a
/// migration) before the batch fails with 503: long enough for a checkpoint,
/// short enough that a client is never left hanging.
const WRITE_BUSY_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long an answer may wait for its commit by default before it is
/// answered 503 (`[server] answer_deadline`).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Holds the URL with any password replaced (see [`redact_url`]).
    #[error("unsupported database URL `{0}` (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
    /// SQLite would not run in WAL mode with `synchronous=FULL`, so a
    /// commit would not be on disk when the collector answers 2xx.
    #[error("the SQLite database is not durable: {0}")]
    NotDurable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
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
    /// The events this answer's change calls for (the site's webhooks
    /// decide), written to the outbox in the answer's transaction.
    pub events: Option<EventMaker>,
}

/// What was stored for an answer before a revision of it was written, for
/// whoever decides the events of the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Before {
    pub score: u8,
    pub class: String,
    pub band: String,
    /// It had its follow-up.
    pub complete: bool,
}

/// The outbox events that writing `answer` over `before` (`None`: a new
/// answer) calls for. Supplied by the layer that knows the webhooks, so
/// that this module knows nothing of them.
#[derive(Clone)]
pub struct EventMaker(pub Arc<MakeEvents>);

/// The function inside an [`EventMaker`].
pub type MakeEvents = dyn Fn(&NewAnswer, Option<&Before>) -> Vec<Event> + Send + Sync;

impl std::fmt::Debug for EventMaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventMaker")
    }
}

/// An event ready for the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Idempotency key: the same change of the same answer always has the same
    /// key (`SITE/WEBHOOK/ANSWER-ID/created`, `.../completed`, `.../updated-REV`).
    pub key: String,
    pub site: String,
    pub webhook: String,
    pub answer_id: String,
    /// `answer.created`, `answer.completed` or `answer.updated`.
    pub kind: &'static str,
    pub body: String,
    pub created_at: i64,
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

/// Which database the URL named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Clone)]
pub struct Store {
    /// Readers.
    pool: AnyPool,
    /// The writer task's queue.
    writer: mpsc::Sender<Job>,
    /// Woken when a committed batch put events in the webhook outbox.
    events_ready: Arc<Notify>,
    /// How long an upsert may take, queue included, before it is given up.
    deadline: Duration,
}

struct Job {
    answer: NewAnswer,
    done: oneshot::Sender<Result<Upsert, StoreError>>,
    /// When its client is answered 503 if the commit has not happened.
    deadline: Instant,
}

impl Job {
    /// Nobody waits for it any more (its deadline passed, or its client left):
    /// the writer leaves it unwritten.
    fn abandoned(&self, now: Instant) -> bool {
        self.done.is_closed() || self.deadline <= now
    }
}

impl Store {
    /// Opens (creating an SQLite file if needed) and migrates the database
    /// named by `url`, with the default answer deadline.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, DEFAULT_DEADLINE).await
    }

    /// As [`Store::open`], each upsert given `deadline` (queue included)
    /// before it answers [`StoreError::Unavailable`].
    pub async fn open_with(url: &str, deadline: Duration) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend =
            Backend::of(url).ok_or_else(|| StoreError::UnsupportedUrl(redact_url(url)))?;
        let url = match backend {
            // Create the file when missing.
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let pool = pool_options(backend, 4, Duration::from_secs(5))
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        if backend == Backend::Sqlite {
            // Every connection of the pool was checked when it was made;
            // this one fails start-up rather than the first write.
            let mut connection = pool.acquire().await?;
            check_durable_sqlx(&mut connection).await?;
        }
        let (writer, jobs) = mpsc::channel(QUEUE);
        let events_ready = Arc::new(Notify::new());
        write::start(backend, &url, jobs, events_ready.clone(), deadline).await?;
        Ok(Store {
            pool,
            writer,
            events_ready,
            deadline,
        })
    }

    /// Creates the answer, or moves it to a newer revision; never goes backwards.
    /// Returns once the answer's transaction is committed (on disk), or with
    /// [`StoreError::Unavailable`] when it could not be within the deadline
    /// (the queue full, the database locked or down): every caller hears
    /// within it, however many answers wait.
    pub async fn upsert(&self, answer: NewAnswer) -> Result<Upsert, StoreError> {
        let deadline = Instant::now() + self.deadline;
        let (done, outcome) = oneshot::channel();
        self.writer
            .try_send(Job {
                answer,
                done,
                deadline,
            })
            .map_err(|_| StoreError::Unavailable("the write queue is full".into()))?;
        match tokio::time::timeout_at(deadline, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(StoreError::Unavailable("the writer stopped".into())),
            Err(_) => Err(StoreError::Unavailable(format!(
                "not committed within the deadline of {} ms",
                self.deadline.as_millis()
            ))),
        }
    }
}

/// `url` with the password of its user-info replaced by `***`, for logs and
/// errors (a database URL's password is a credential).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            let hidden = if user_info.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// What SQLite says it runs with must be WAL and `synchronous=FULL` (2), or
/// an acknowledged answer could be lost to a crash: refuse it by name.
fn check_durable(journal_mode: &str, synchronous: i64) -> Result<(), StoreError> {
    if !journal_mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotDurable(format!(
            "journal_mode is `{journal_mode}`, not WAL (an in-memory or read-only database?)"
        )));
    }
    if synchronous != 2 {
        return Err(StoreError::NotDurable(format!(
            "synchronous is {synchronous}, not FULL (2)"
        )));
    }
    Ok(())
}

async fn check_durable_sqlx(connection: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *connection)
        .await?;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *connection)
        .await?;
    check_durable(&mode, synchronous)
}

/// Connections as each backend needs them. SQLite: WAL + synchronous=FULL, so
/// a commit is on disk before we answer 2xx and an acknowledged answer
/// survives kill -9 and power loss alike; `busy` is how long a statement waits
/// for a lock held by someone else. PostgreSQL commits durably by default
/// (`synchronous_commit = on`).
fn pool_options(backend: Backend, size: u32, busy: Duration) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(5));
    match backend {
        Backend::Postgres => options,
        // The pool writes too (the webhook outbox's states): each of its
        // connections is read back as durable before it is used.
        Backend::Sqlite => options.after_connect(move |connection, _| {
            Box::pin(async move {
                connection
                    .execute(
                        format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};",
                            busy.as_millis()
                        )
                        .as_str(),
                    )
                    .await?;
                check_durable_sqlx(connection)
                    .await
                    .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))
            })
        }),
    }
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
             WHERE site = $1
               AND ($2 IS NULL OR created_at >= $2) AND ($3 IS NULL OR created_at < $3)
               AND ($4 IS NULL OR survey = $4) AND ($5 IS NULL OR step = $5)
               AND ($6 IS NULL OR class = $6) AND ($7 IS NULL OR band = $7)
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
            "SELECT 1 FROM answers WHERE site = $1 AND respondent = $2
             UNION ALL
             SELECT 1 FROM answers WHERE site = $1 AND user_id = $3
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

/// An outbox event a worker has claimed for sending.
#[derive(Clone, Debug)]
pub struct DueEvent {
    pub id: i64,
    pub key: String,
    pub site: String,
    pub webhook: String,
    pub kind: String,
    pub body: String,
    /// Including the one being made.
    pub attempts: i64,
    pub created_at: i64,
}

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// Try again at `next_at` (Unix milliseconds).
    Retry {
        status: Option<u16>,
        error: String,
        next_at: i64,
    },
    /// No more attempts: the event is failed.
    GiveUp {
        status: Option<u16>,
        error: String,
    },
}

/// One webhook's deliveries, as the status endpoint and the dashboard show them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HookState {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Unix milliseconds of the last delivery.
    pub last_delivered_at: Option<i64>,
    /// The last failed attempt: when, its HTTP status if any, and why.
    pub last_error_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// One event in the outbox.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct EventRow {
    pub key: String,
    pub answer_id: String,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub created_at: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
}

/// The webhook outbox, as the delivery worker and the status endpoint use it.
impl Store {
    /// Woken when new events are waiting.
    pub fn events_ready(&self) -> Arc<Notify> {
        self.events_ready.clone()
    }

    /// Claims up to `limit` due events for `lease_millis`: no other worker (in
    /// this process or another) takes them meanwhile; a worker that dies lets
    /// them come due again when the lease ends.
    pub async fn claim_events(
        &self,
        now: i64,
        lease_millis: i64,
        limit: i64,
    ) -> Result<Vec<DueEvent>, StoreError> {
        let rows = sqlx::query(
            // The outer conditions repeat the inner ones: PostgreSQL checks them
            // again on a row another collector claimed meanwhile, and skips it.
            "UPDATE webhook_events SET claimed_until = $2, attempts = attempts + 1
             WHERE id IN (
                SELECT id FROM webhook_events
                WHERE state = 'pending' AND next_at <= $1
                  AND (claimed_until IS NULL OR claimed_until <= $1)
                ORDER BY next_at, id LIMIT $3)
               AND state = 'pending' AND (claimed_until IS NULL OR claimed_until <= $1)
             RETURNING id, key, site, webhook, kind, body, attempts, created_at",
        )
        .bind(now)
        .bind(now + lease_millis)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut due: Vec<DueEvent> = rows
            .iter()
            .map(|r| DueEvent {
                id: r.get(0),
                key: r.get(1),
                site: r.get(2),
                webhook: r.get(3),
                kind: r.get(4),
                body: r.get(5),
                attempts: r.get(6),
                created_at: r.get(7),
            })
            .collect();
        due.sort_by_key(|e| e.id);
        Ok(due)
    }

    /// Records how an attempt ended and releases the claim.
    pub async fn record_attempt(
        &self,
        id: i64,
        now: i64,
        attempt: &Attempt,
    ) -> Result<(), StoreError> {
        let (state, next_at, status, error) = match attempt {
            Attempt::Delivered { status } => ("delivered", None, Some(*status), None),
            Attempt::Retry {
                status,
                error,
                next_at,
            } => ("pending", Some(*next_at), *status, Some(error.as_str())),
            Attempt::GiveUp { status, error } => ("failed", None, *status, Some(error.as_str())),
        };
        sqlx::query(
            "UPDATE webhook_events SET state = $2, next_at = COALESCE($3, next_at),
                claimed_until = NULL, last_attempt_at = $4, last_status = $5,
                last_error = $6,
                done_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $4 END
             WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(next_at)
        .bind(now)
        .bind(status.map(i64::from))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes a webhook's waiting events due now (it has just answered again),
    /// leaving claimed ones alone; returns how many.
    pub async fn hurry_events(
        &self,
        site: &str,
        webhook: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_events SET next_at = $3
             WHERE site = $1 AND webhook = $2 AND state = 'pending' AND next_at > $3
               AND (claimed_until IS NULL OR claimed_until <= $3)",
        )
        .bind(site)
        .bind(webhook)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// When the next pending event comes due (or its claim ends).
    pub async fn next_event_at(&self) -> Result<Option<i64>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN claimed_until > next_at THEN claimed_until ELSE next_at END)
             FROM webhook_events WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next)
    }

    /// Delivery counts and the last error of one webhook.
    pub async fn hook_state(&self, site: &str, webhook: &str) -> Result<HookState, StoreError> {
        let mut state = HookState::default();
        let counts = sqlx::query(
            "SELECT state, COUNT(*), MAX(done_at) FROM webhook_events
             WHERE site = $1 AND webhook = $2 GROUP BY state",
        )
        .bind(site)
        .bind(webhook)
        .fetch_all(&self.pool)
        .await?;
        for row in counts {
            let n: i64 = row.get(1);
            match row.get::<String, _>(0).as_str() {
                "pending" => state.pending = n,
                "delivered" => {
                    state.delivered = n;
                    state.last_delivered_at = row.get(2);
                }
                _ => state.failed = n,
            }
        }
        if let Some(row) = sqlx::query(
            "SELECT last_attempt_at, last_status, last_error FROM webhook_events
             WHERE site = $1 AND webhook = $2 AND last_error IS NOT NULL
             ORDER BY last_attempt_at DESC LIMIT 1",
        )
        .bind(site)
        .bind(webhook)
        .fetch_optional(&self.pool)
        .await?
        {
            state.last_error_at = row.get(0);
            state.last_status = row.get(1);
            state.last_error = row.get(2);
        }
        Ok(state)
    }

    /// A webhook's latest events, newest first; `state` narrows them.
    pub async fn recent_events(
        &self,
        site: &str,
        webhook: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, answer_id, kind, state, attempts, created_at, last_attempt_at,
                last_status, last_error, done_at
             FROM webhook_events
             WHERE site = $1 AND webhook = $2 AND ($3 IS NULL OR state = $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(site)
        .bind(webhook)
        .bind(state)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                key: r.get(0),
                answer_id: r.get(1),
                kind: r.get(2),
                state: r.get(3),
                attempts: r.get(4),
                created_at: r.get(5),
                last_attempt_at: r.get(6),
                last_status: r.get(7),
                last_error: r.get(8),
                done_at: r.get(9),
            })
            .collect())
    }
}

fn to_row(r: &AnyRow) -> AnswerRow {
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
        first_survey: r.get::<Option<i64>, _>("first_survey").map(|b| b != 0),
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
