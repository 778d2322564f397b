//! The peer of the ingest benchmark: what a user would write instead of
//! Pulso's collector. A plain axum handler takes the answer as JSON and
//! inserts it in a transaction of its own through an sqlx pool (its
//! defaults), into an SQLite file as durable as Pulso's (WAL,
//! `synchronous=FULL`); the same upsert by id and revision, so a retry
//! changes nothing.

use std::str::FromStr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

#[derive(serde::Deserialize)]
struct Answer {
    id: String,
    rev: i64,
    site: String,
    survey: String,
    respondent: String,
    score: i64,
    step: Option<String>,
    page: Option<String>,
    locale: String,
    #[serde(default)]
    props: serde_json::Value,
}

async fn store(
    State(pool): State<SqlitePool>,
    axum::Json(answer): axum::Json<Answer>,
) -> Result<axum::Json<serde_json::Value>, StatusCode> {
    if !(0..=10).contains(&answer.score) {
        return Err(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let failed = |_| StatusCode::SERVICE_UNAVAILABLE;
    let mut tx = pool.begin().await.map_err(failed)?;
    sqlx::query(
        "INSERT INTO answers (id, rev, site, survey, respondent, score, step, page, locale,
            props, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, score = excluded.score
         WHERE excluded.rev > answers.rev",
    )
    .bind(&answer.id)
    .bind(answer.rev)
    .bind(&answer.site)
    .bind(&answer.survey)
    .bind(&answer.respondent)
    .bind(answer.score)
    .bind(&answer.step)
    .bind(&answer.page)
    .bind(&answer.locale)
    .bind(answer.props.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(axum::Json(
        serde_json::json!({"id": answer.id, "rev": answer.rev, "stored": true}),
    ))
}

/// Serves `POST /v1/responses` over the SQLite file `path`; prints
/// `listening on http://ADDR` and runs until killed.
pub async fn serve(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS answers (
            id TEXT PRIMARY KEY NOT NULL, rev INTEGER NOT NULL, site TEXT NOT NULL,
            survey TEXT NOT NULL, respondent TEXT NOT NULL, score INTEGER NOT NULL,
            step TEXT, page TEXT, locale TEXT NOT NULL, props TEXT NOT NULL,
            created_at INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let app = axum::Router::new()
        .route("/v1/responses", post(store))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
