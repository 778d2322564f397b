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

mod digests;
mod displays;
mod inbox;
mod inbox_write;
mod outbox;
mod people;
mod privacy;
mod rollup;
mod write;

pub use digests::{Cadence, Comment};
pub use displays::{DisplayCount, NewDisplay, Recorded};
pub use inbox::{
    ActivityLine, Cursor, Handled, InboxAnswer, InboxFilter, InboxRow, OwnerFilter, TagCount,
    TimelinePoint, WaitingReply,
};
pub use inbox_write::{AnswerChange, Changed, NewReply, Records};
pub use outbox::{Attempt, DueEvent, EventRow, HookState};
pub use people::{NewUser, SessionRow, TokenRow, User};
pub use privacy::{AuditEntry, Erased, Subject};
pub use rollup::{CtaCount, OPEN, OtherRow, Periods, ReasonCount, ScoreCount, Unit};

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
    /// A unique value is someone else's already (an email).
    #[error("already taken")]
    Taken,
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
    /// Whether `user_id` came with the site's HMAC of it (`None`: the site
    /// has no identity secret, or there is no user id).
    pub user_verified: Option<bool>,
    /// JSON object text.
    pub props: String,
    /// The kept traits, JSON object text; `None` for none.
    pub traits: Option<String>,
    pub first_survey: Option<bool>,
    /// The thank-you's call to action: `Some(false)` offered, `Some(true)`
    /// clicked.
    pub cta: Option<bool>,
    pub follow_up: Option<&'static str>,
    pub open_text: Option<String>,
    pub reason_ids: Option<String>,
    pub reason_texts: Option<String>,
    pub other_text: Option<String>,
    /// The owner the site's rules give a new answer (an email): set only
    /// while the answer has none.
    pub owner: Option<String>,
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
    pub dismissed: Dismissed,
    /// Answers whose props or kept traits have these values, all of them.
    pub segments: Vec<Segment>,
}

/// Answers whose prop (or kept trait) `key` has `value`: a text as it is,
/// a number or a boolean as JSON writes it (`24.0`, `true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub of: SegmentOf,
    pub key: String,
    pub value: String,
}

/// Where a segment's key is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentOf {
    Prop,
    Trait,
}

impl SegmentOf {
    pub fn name(self) -> &'static str {
        match self {
            SegmentOf::Prop => "prop",
            SegmentOf::Trait => "trait",
        }
    }
}

/// The segments of a filter as [`Store::answers`] binds them: a JSON list of
/// `[of, key as the backend looks it up, the value as JSON text, the value]`,
/// or `None` for none.
fn segments_param(backend: Backend, segments: &[Segment]) -> Option<String> {
    if segments.is_empty() {
        return None;
    }
    let list: Vec<serde_json::Value> = segments
        .iter()
        .map(|s| {
            // Keys are ids (letters, digits, '-', '_'): safe in a JSON path.
            let key = match backend {
                Backend::Sqlite => format!("$.\"{}\"", s.key),
                Backend::Postgres => s.key.clone(),
            };
            serde_json::json!([
                s.of.name(),
                key,
                serde_json::Value::String(s.value.clone()).to_string(),
                s.value
            ])
        })
        .collect();
    Some(serde_json::Value::Array(list).to_string())
}

/// Whether answers dismissed in the inbox (spam, tests) are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dismissed {
    /// Left out, as everything that counts them leaves them out.
    #[default]
    Exclude,
    Include,
    Only,
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
    /// The kept traits (JSON object text), `None` for none.
    pub traits: Option<String>,
    pub user_verified: Option<bool>,
    /// The thank-you's call to action: `Some(false)` offered, `Some(true)`
    /// clicked, `None` none offered.
    pub cta: Option<bool>,
    /// The inbox's: workflow status, owner (an email), tags, when resolved.
    pub status: String,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub resolved_at: Option<i64>,
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
    backend: Backend,
    /// The writer task's queue.
    writer: mpsc::Sender<Job>,
    /// Woken when a committed batch put events in the webhook outbox.
    events_ready: Arc<Notify>,
    /// How long an upsert may take, queue included, before it is given up.
    deadline: Duration,
    /// The displays' writer task's queue.
    displays: mpsc::Sender<displays::DisplayJob>,
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
        let displays = displays::start(pool.clone(), backend);
        Ok(Store {
            pool,
            backend,
            writer,
            events_ready,
            deadline,
            displays,
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
        sqlx::query(answers_sql(self.backend, filter.dismissed))
            .bind(site.to_owned())
            .bind(filter.from)
            .bind(filter.to)
            .bind(filter.survey.clone())
            .bind(filter.step.clone())
            .bind(filter.class.clone())
            .bind(filter.band.clone())
            .bind(segments_param(self.backend, &filter.segments))
            .fetch(&self.pool)
            .map(|row| row.map(|r| to_row(&r)).map_err(StoreError::from))
    }

    /// Whether the respondent, or the identified user, has an answer on the
    /// site; with `verified_only`, only answers whose user was verified count
    /// for the user.
    pub async fn has_answered(
        &self,
        site: &str,
        respondent: &str,
        user_id: Option<&str>,
        verified_only: bool,
    ) -> Result<bool, StoreError> {
        let found = sqlx::query(
            "SELECT 1 FROM answers WHERE site = $1 AND respondent = $2
             UNION ALL
             SELECT 1 FROM answers WHERE site = $1 AND user_id = $3
                AND ($4 = 0 OR user_verified = 1)
             LIMIT 1",
        )
        .bind(site)
        .bind(respondent)
        .bind(user_id)
        .bind(i64::from(verified_only))
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

/// The statement of [`Store::answers`], one per backend and treatment of
/// dismissed answers, built once (the stream borrows its text).
fn answers_sql(backend: Backend, dismissed: Dismissed) -> &'static str {
    fn build(backend: Backend, dismissed: Dismissed) -> String {
        let dismissed = match dismissed {
            Dismissed::Exclude => "AND a.status <> 'dismissed'",
            Dismissed::Include => "",
            Dismissed::Only => "AND a.status = 'dismissed'",
        };
        // Every segment of $8 holds: none whose value differs (or is missing).
        let segments = match backend {
            Backend::Sqlite => {
                "AND ($8 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($8) c
                    WHERE (CASE c.value ->> 0 WHEN 'trait' THEN a.traits ELSE a.props END)
                        -> (c.value ->> 1) IS NULL
                       OR (CASE c.value ->> 0 WHEN 'trait' THEN a.traits ELSE a.props END)
                        -> (c.value ->> 1) NOT IN (c.value ->> 2, c.value ->> 3)))"
            }
            Backend::Postgres => {
                "AND ($8 IS NULL OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(CAST($8 AS JSONB)) c
                    WHERE CAST(CASE c ->> 0 WHEN 'trait' THEN a.traits ELSE a.props END AS JSONB)
                        -> (c ->> 1) IS NULL
                       OR CAST(CAST(CASE c ->> 0 WHEN 'trait' THEN a.traits ELSE a.props END
                        AS JSONB) -> (c ->> 1) AS TEXT) NOT IN (c ->> 2, c ->> 3)))"
            }
        };
        format!(
            "SELECT a.id, a.created_at, a.updated_at, a.site, a.survey, a.step, a.page, a.locale,
                a.score, a.class, a.band, a.first_survey, a.follow_up, a.reason_ids,
                a.reason_texts, a.other_text, a.open_text, a.respondent, a.user_id, a.props,
                a.traits, a.user_verified, a.cta, a.status, {owner} AS owner, {tags} AS tags,
                a.resolved_at
             FROM answers a
             WHERE a.site = $1
               AND ($2 IS NULL OR a.created_at >= $2) AND ($3 IS NULL OR a.created_at < $3)
               AND ($4 IS NULL OR a.survey = $4) AND ($5 IS NULL OR a.step = $5)
               AND ($6 IS NULL OR a.class = $6) AND ($7 IS NULL OR a.band = $7) {dismissed}
               {segments}
             ORDER BY a.created_at, a.id",
            owner = inbox::OWNER_EMAIL,
            tags = inbox::tags_column(backend),
        )
    }
    static ALL: std::sync::LazyLock<Vec<(Backend, Dismissed, String)>> =
        std::sync::LazyLock::new(|| {
            let mut all = Vec::new();
            for backend in [Backend::Sqlite, Backend::Postgres] {
                for d in [Dismissed::Exclude, Dismissed::Include, Dismissed::Only] {
                    all.push((backend, d, build(backend, d)));
                }
            }
            all
        });
    ALL.iter()
        .find(|(b, d, _)| *b == backend && *d == dismissed)
        .map_or("", |(_, _, text)| text.as_str())
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
        traits: r.get("traits"),
        user_verified: r.get::<Option<i64>, _>("user_verified").map(|b| b != 0),
        cta: r.get::<Option<i64>, _>("cta").map(|b| b != 0),
        status: r.get("status"),
        owner: r.get("owner"),
        tags: inbox::split_tags(r.get("tags")),
        resolved_at: r.get("resolved_at"),
    }
}
