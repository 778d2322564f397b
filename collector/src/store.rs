//! Storage of answers. Only this module speaks SQL; the rest of the collector sees
//! [`Store`], [`NewAnswer`] and [`AnswerRow`].

use std::str::FromStr;
use std::time::Duration;

use futures_util::Stream;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}` (expected sqlite://PATH)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
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
    pool: SqlitePool,
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
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Creates the answer, or moves it to a newer revision; never goes backwards.
    pub async fn upsert(&self, a: &NewAnswer) -> Result<Upsert, StoreError> {
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
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Upsert::Stored);
        }
        let owner = sqlx::query("SELECT site, survey, respondent FROM answers WHERE id = ?1")
            .bind(&a.id)
            .fetch_optional(&self.pool)
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

    /// Every answer of a site, oldest first, as a stream (memory does not grow with
    /// the number of rows).
    pub fn answers(&self, site: &str) -> impl Stream<Item = Result<AnswerRow, StoreError>> + '_ {
        use futures_util::StreamExt;
        sqlx::query(
            "SELECT id, created_at, updated_at, site, survey, step, page, locale, score, class,
                band, first_survey, follow_up, reason_ids, reason_texts, other_text, open_text,
                respondent, user_id, props
             FROM answers WHERE site = ?1 ORDER BY created_at, id",
        )
        .bind(site.to_owned())
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

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
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
