//! Displays: a card shown, and whether it was closed before any score. One
//! row per display id, written in batches: a task takes every display
//! waiting into one transaction (one commit, one fsync, for all of them),
//! the same group commit the answers' writer does, through the pool (a
//! display carries no webhook event and nothing to judge). Counted per hour
//! by the displays migration's triggers; read with the rollups
//! (`Store::display_counts`).

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::rollup::{Periods, Unit};
use super::{Backend, Store, StoreError};

/// Displays waiting for a batch; more are refused (503, and the card's
/// outbox sends them again).
const QUEUE: usize = 4096;
const MAX_BATCH: usize = 512;

/// A display as the card posted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDisplay {
    pub id: String,
    pub site: String,
    pub survey: String,
    pub step: Option<String>,
    /// Closed before any score.
    pub dismissed: bool,
    /// When the collector heard of it (milliseconds).
    pub at: i64,
}

/// What became of a display post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    Stored,
    /// The id is another site's or survey's display: nothing was written.
    IdTaken,
}

pub(super) struct DisplayJob {
    display: NewDisplay,
    done: oneshot::Sender<Result<Recorded, StoreError>>,
    deadline: Instant,
}

/// Displays of one period, survey and step (`""`: none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayCount {
    pub period: i64,
    pub survey: String,
    pub step: String,
    pub shown: i64,
    pub dismissed: i64,
}

/// Starts the task that writes displays; returns its queue.
pub(super) fn start(store_pool: sqlx::AnyPool, backend: Backend) -> mpsc::Sender<DisplayJob> {
    let (sender, mut jobs) = mpsc::channel::<DisplayJob>(QUEUE);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(job) = jobs.recv().await {
            batch.push(job);
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            batch.retain(|j: &DisplayJob| !j.done.is_closed() && j.deadline > now);
            if batch.is_empty() {
                continue;
            }
            let displays: Vec<&NewDisplay> = batch.iter().map(|j| &j.display).collect();
            match write_batch(&store_pool, backend, &displays).await {
                Ok(taken) => {
                    for job in batch.drain(..) {
                        let outcome = if taken.contains_key(job.display.id.as_str()) {
                            Recorded::IdTaken
                        } else {
                            Recorded::Stored
                        };
                        let _ = job.done.send(Ok(outcome));
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, displays = batch.len(), "display batch failed");
                    for job in batch.drain(..) {
                        let _ = job
                            .done
                            .send(Err(StoreError::Unavailable(error.to_string())));
                    }
                }
            }
        }
    });
    sender
}

/// One transaction: the batch's displays (one row per id, dismissed if any
/// post of it said so) inserted in one statement, or marked dismissed;
/// returns the ids that belong to another site or survey (left alone).
async fn write_batch(
    pool: &sqlx::AnyPool,
    backend: Backend,
    displays: &[&NewDisplay],
) -> Result<BTreeMap<String, ()>, sqlx::Error> {
    // One row per id (a statement may not change a row twice), in id order.
    let mut rows: BTreeMap<&str, &NewDisplay> = BTreeMap::new();
    for d in displays {
        rows.entry(d.id.as_str())
            .and_modify(|kept| {
                if d.dismissed && !kept.dismissed {
                    *kept = d;
                }
            })
            .or_insert(d);
    }
    let json = serde_json::Value::Array(
        rows.values()
            .map(|d| {
                serde_json::json!([d.id, d.site, d.survey, d.step, d.at, i64::from(d.dismissed)])
            })
            .collect(),
    )
    .to_string();
    let (source, text, int) = match backend {
        Backend::Sqlite => ("json_each($1)", "value ->> {i}", "value ->> {i}"),
        Backend::Postgres => (
            "jsonb_array_elements(CAST($1 AS JSONB)) AS r(value)",
            "value ->> {i}",
            "CAST(value ->> {i} AS BIGINT)",
        ),
    };
    let col = |template: &str, i: usize| template.replace("{i}", &i.to_string());
    let mut tx = pool.begin().await?;
    // Ids already taken by another site or survey, left alone.
    let taken: BTreeMap<String, ()> = sqlx::query(&format!(
        "SELECT d.id FROM displays d JOIN (SELECT {id} AS id, {site} AS site, {survey} AS survey
             FROM {source}) x ON x.id = d.id
         WHERE d.site <> x.site OR d.survey <> x.survey",
        id = col(text, 0),
        site = col(text, 1),
        survey = col(text, 2),
    ))
    .bind(json.clone())
    .fetch(&mut *tx)
    .map_ok(|r| (r.get::<String, _>(0), ()))
    .try_collect()
    .await?;
    sqlx::query(&format!(
        "INSERT INTO displays (id, site, survey, step, created_at, dismissed)
         SELECT {id}, {site}, {survey}, {step}, {at}, {dismissed} FROM {source} WHERE TRUE
         ON CONFLICT (id) DO UPDATE SET dismissed = 1
         WHERE excluded.dismissed = 1 AND displays.dismissed = 0
           AND displays.site = excluded.site AND displays.survey = excluded.survey",
        id = col(text, 0),
        site = col(text, 1),
        survey = col(text, 2),
        step = col(text, 3),
        at = col(int, 4),
        dismissed = col(int, 5),
    ))
    .bind(json)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(taken)
}

impl Store {
    /// Records a display; returns once it is committed, or with
    /// [`StoreError::Unavailable`] within the store's deadline.
    pub async fn record_display(&self, display: NewDisplay) -> Result<Recorded, StoreError> {
        let deadline = Instant::now() + self.deadline;
        let (done, outcome) = oneshot::channel();
        self.displays
            .try_send(DisplayJob {
                display,
                done,
                deadline,
            })
            .map_err(|_| StoreError::Unavailable("the display queue is full".into()))?;
        match tokio::time::timeout_at(deadline, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(StoreError::Unavailable("the display writer stopped".into())),
            Err(_) => Err(StoreError::Unavailable(format!(
                "not committed within the deadline of {} ms",
                self.deadline.as_millis()
            ))),
        }
    }

    /// Displays counted per period of `unit` (from the displays' rollups),
    /// by survey and step, for `survey` and `step` when given; counts of 0
    /// left out.
    pub async fn display_counts(
        &self,
        site: &str,
        survey: Option<&str>,
        step: Option<&str>,
        unit: Unit,
        periods: &Periods,
    ) -> Result<Vec<DisplayCount>, StoreError> {
        let table = match unit {
            Unit::Hour => "display_hours",
            Unit::Day => "display_days",
        };
        let (time, next) = super::rollup::period_condition(self.backend, periods);
        let sql = format!(
            "SELECT period, survey, step, CAST(SUM(shown) AS BIGINT), CAST(SUM(dismissed) AS BIGINT)
             FROM {table} WHERE site = $1 AND {time}
               AND (${s} IS NULL OR survey = ${s}) AND (${st} IS NULL OR (step = ${st} AND step <> ''))
             GROUP BY period, survey, step HAVING SUM(shown) <> 0 OR SUM(dismissed) <> 0",
            s = next,
            st = next + 1,
        );
        super::rollup::bind_periods(sqlx::query(&sql).bind(site.to_owned()), periods)
            .bind(survey.map(str::to_owned))
            .bind(step.map(str::to_owned))
            .fetch(&self.pool)
            .map_ok(|r| DisplayCount {
                period: r.get(0),
                survey: r.get(1),
                step: r.get(2),
                shown: r.get(3),
                dismissed: r.get(4),
            })
            .try_collect()
            .await
            .map_err(StoreError::from)
    }

    /// The displays of [from, to) themselves, for the part-hours at a
    /// report's cuts: (created_at, survey, step or `""`, dismissed).
    pub async fn displays_between(
        &self,
        site: &str,
        survey: Option<&str>,
        step: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, String, String, bool)>, StoreError> {
        sqlx::query(
            "SELECT created_at, survey, COALESCE(step, ''), dismissed FROM displays
             WHERE site = $1 AND created_at >= $2 AND created_at < $3
               AND ($4 IS NULL OR survey = $4) AND ($5 IS NULL OR step = $5)",
        )
        .bind(site.to_owned())
        .bind(from)
        .bind(to)
        .bind(survey.map(str::to_owned))
        .bind(step.map(str::to_owned))
        .fetch(&self.pool)
        .map_ok(|r| (r.get(0), r.get(1), r.get(2), r.get::<i64, _>(3) != 0))
        .try_collect()
        .await
        .map_err(StoreError::from)
    }
}
