//! Reads of the rollups: answers counted per UTC hour and day by (survey,
//! step, band, class, score), and closed follow-ups per combination of
//! reasons, kept by the database's triggers in the transaction of every
//! change of an answer (see the rollups migration). A report reads these
//! counts, so its cost follows the number of periods, not of answers; what
//! counts cannot give (the latest "Other" texts) is an indexed read.

use futures_util::TryStreamExt;
use sqlx::Row;

use super::{Backend, Dismissed, Filter, Store, StoreError};

/// The length of a rollup's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Hour,
    Day,
}

impl Unit {
    pub const fn millis(self) -> i64 {
        match self {
            Unit::Hour => 3_600_000,
            Unit::Day => 86_400_000,
        }
    }

    fn tables(self) -> (&'static str, &'static str) {
        match self {
            Unit::Hour => ("rollup_hours", "reason_hours"),
            Unit::Day => ("rollup_days", "reason_days"),
        }
    }

    /// The call-to-action rollup of this unit.
    fn cta_table(self) -> &'static str {
        match self {
            Unit::Hour => "cta_hours",
            Unit::Day => "cta_days",
        }
    }
}

/// Which periods a read covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Periods {
    /// From the first (included) to the second (excluded); `None`: unbounded.
    Range(Option<i64>, Option<i64>),
    /// Just these.
    List(Vec<i64>),
}

/// Answers of one period with the same survey, step (`""`: none), band,
/// class and score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreCount {
    pub period: i64,
    pub survey: String,
    pub step: String,
    pub band: String,
    pub class: String,
    pub score: i64,
    pub n: i64,
}

/// What the reason rollups keep for an open follow-up in place of reasons
/// (reason ids are letters, digits, `-` and `_`: it is no combination).
pub const OPEN: &str = "~open";

/// Follow-ups of one period, survey, step and band with the same reasons
/// (the answers' `reason_ids`; [`OPEN`] for open follow-ups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonCount {
    pub period: i64,
    pub survey: String,
    pub step: String,
    pub band: String,
    pub reasons: String,
    pub n: i64,
}

/// Answers of one period and band that were offered the thank-you's call
/// to action, by whether they clicked it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtaCount {
    pub period: i64,
    pub band: String,
    pub clicked: bool,
    pub n: i64,
}

/// One of a band's latest "Other" texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherRow {
    pub created_at: i64,
    pub survey: String,
    pub text: String,
}

/// The filter's conditions on the rollups' keys, after `$1` (the site) and
/// the periods: `$2`–`$3` (a range) or `$2` (a list), then survey, step,
/// class, band and dismissed. A step of `""` matches nothing, as on the
/// answers (whose missing step is NULL, kept as `""` in the rollups).
fn conditions(backend: Backend, periods: &Periods) -> String {
    let (time, next) = period_condition(backend, periods);
    let p = |i: usize| format!("${}", next + i);
    format!(
        "site = $1 AND {time} AND ({s} IS NULL OR survey = {s})
         AND ({st} IS NULL OR (step = {st} AND step <> '')) AND ({c} IS NULL OR class = {c})
         AND ({b} IS NULL OR band = {b}) AND ({d} IS NULL OR dismissed = {d})",
        s = p(0),
        st = p(1),
        c = p(2),
        b = p(3),
        d = p(4),
    )
}

/// The condition on `period` of a read of rollups, its parameters from `$2`
/// on ([`bind_periods`] binds them after the site); and the number of the
/// next parameter.
pub(super) fn period_condition(backend: Backend, periods: &Periods) -> (String, usize) {
    match periods {
        Periods::Range(..) => (
            "($2 IS NULL OR period >= $2) AND ($3 IS NULL OR period < $3)".to_owned(),
            4,
        ),
        Periods::List(_) => (
            match backend {
                Backend::Sqlite => "period IN (SELECT value FROM json_each($2))".to_owned(),
                Backend::Postgres => {
                    "period IN (SELECT CAST(jsonb_array_elements_text(CAST($2 AS JSONB)) AS BIGINT))"
                        .to_owned()
                }
            },
            3,
        ),
    }
}

/// Binds what [`period_condition`] asks for.
pub(super) fn bind_periods<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    periods: &Periods,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match periods {
        Periods::Range(from, to) => query.bind(*from).bind(*to),
        Periods::List(list) => query.bind(serde_json::to_string(list).unwrap_or_default()),
    }
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    site: &str,
    filter: &Filter,
    periods: &Periods,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    bind_periods(query.bind(site.to_owned()), periods)
        .bind(filter.survey.clone())
        .bind(filter.step.clone())
        .bind(filter.class.clone())
        .bind(filter.band.clone())
        .bind(match filter.dismissed {
            Dismissed::Exclude => Some(0i64),
            Dismissed::Include => None,
            Dismissed::Only => Some(1),
        })
}

impl Store {
    /// The answers `filter` lets through (but its times: see `periods`),
    /// counted per period of `unit` and key; counts of 0 left out.
    pub async fn score_counts(
        &self,
        site: &str,
        filter: &Filter,
        unit: Unit,
        periods: &Periods,
    ) -> Result<Vec<ScoreCount>, StoreError> {
        let sql = format!(
            "SELECT period, survey, step, band, class, score, CAST(SUM(n) AS BIGINT) AS n
             FROM {} WHERE {}
             GROUP BY period, survey, step, band, class, score HAVING SUM(n) <> 0",
            unit.tables().0,
            conditions(self.backend, periods)
        );
        bind(sqlx::query(&sql), site, filter, periods)
            .fetch(&self.pool)
            .map_ok(|r| ScoreCount {
                period: r.get(0),
                survey: r.get(1),
                step: r.get(2),
                band: r.get(3),
                class: r.get(4),
                score: r.get(5),
                n: r.get(6),
            })
            .try_collect()
            .await
            .map_err(StoreError::from)
    }

    /// The closed follow-ups `filter` lets through (but its times), counted
    /// per period of `unit`, band and reasons; counts of 0 left out.
    pub async fn reason_counts(
        &self,
        site: &str,
        filter: &Filter,
        unit: Unit,
        periods: &Periods,
    ) -> Result<Vec<ReasonCount>, StoreError> {
        let sql = format!(
            "SELECT period, survey, step, band, reasons, CAST(SUM(n) AS BIGINT) AS n
             FROM {} WHERE {}
             GROUP BY period, survey, step, band, reasons HAVING SUM(n) <> 0",
            unit.tables().1,
            conditions(self.backend, periods)
        );
        bind(sqlx::query(&sql), site, filter, periods)
            .fetch(&self.pool)
            .map_ok(|r| ReasonCount {
                period: r.get(0),
                survey: r.get(1),
                step: r.get(2),
                band: r.get(3),
                reasons: r.get(4),
                n: r.get(5),
            })
            .try_collect()
            .await
            .map_err(StoreError::from)
    }

    /// The answers `filter` lets through (but its times) that were offered
    /// a call to action, counted per period of `unit`, band and whether
    /// they clicked it; counts of 0 left out.
    pub async fn cta_counts(
        &self,
        site: &str,
        filter: &Filter,
        unit: Unit,
        periods: &Periods,
    ) -> Result<Vec<CtaCount>, StoreError> {
        let sql = format!(
            "SELECT period, band, clicked, CAST(SUM(n) AS BIGINT) AS n
             FROM {} WHERE {}
             GROUP BY period, band, clicked HAVING SUM(n) <> 0",
            unit.cta_table(),
            conditions(self.backend, periods)
        );
        bind(sqlx::query(&sql), site, filter, periods)
            .fetch(&self.pool)
            .map_ok(|r| CtaCount {
                period: r.get(0),
                band: r.get(1),
                clicked: r.get::<i64, _>(2) != 0,
                n: r.get(3),
            })
            .try_collect()
            .await
            .map_err(StoreError::from)
    }

    /// The newest `limit` "Other" texts of closed follow-ups in `band` that
    /// `filter` lets through, newest first (by the `answers_other` index).
    /// `band` stands for the filter's own: the caller asks only for bands
    /// the filter lets through.
    pub async fn latest_other(
        &self,
        site: &str,
        band: &str,
        filter: &Filter,
        limit: i64,
    ) -> Result<Vec<OtherRow>, StoreError> {
        let dismissed = match filter.dismissed {
            Dismissed::Exclude => "AND status <> 'dismissed'",
            Dismissed::Include => "",
            Dismissed::Only => "AND status = 'dismissed'",
        };
        let sql = format!(
            "SELECT created_at, survey, other_text FROM answers
             WHERE site = $1 AND band = $2 AND other_text IS NOT NULL AND follow_up = 'closed'
               AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at < $4)
               AND ($5 IS NULL OR survey = $5) AND ($6 IS NULL OR step = $6)
               AND ($7 IS NULL OR class = $7) {dismissed}
             ORDER BY created_at DESC, id DESC LIMIT $8"
        );
        sqlx::query(&sql)
            .bind(site.to_owned())
            .bind(band.to_owned())
            .bind(filter.from)
            .bind(filter.to)
            .bind(filter.survey.clone())
            .bind(filter.step.clone())
            .bind(filter.class.clone())
            .bind(limit)
            .fetch(&self.pool)
            .map_ok(|r| OtherRow {
                created_at: r.get(0),
                survey: r.get(1),
                text: r.get(2),
            })
            .try_collect()
            .await
            .map_err(StoreError::from)
    }

    /// The first day (since the epoch) the day rollups do not hold yet: from
    /// it on, a day's counts are its hours'. Read it before the rollups
    /// themselves: a fold in between only moves days it already holds.
    pub async fn folded_day(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT day FROM rollup_folded")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Folds the hours of the days before `before` (days since the epoch)
    /// that the day rollups do not hold yet into them, in one transaction;
    /// returns how many days were folded. On SQLite writers wait for it (its
    /// write lock), so none is counted twice or lost. On PostgreSQL the
    /// triggers keep every day's rollups (see the fold migration): a fold
    /// only moves the watermark.
    pub async fn fold_rollups(&self, before: i64) -> Result<i64, StoreError> {
        // Most runs find nothing to fold: they read, and write nothing.
        let folded = self.folded_day().await?;
        if before <= folded {
            return Ok(0);
        }
        if self.backend == Backend::Postgres {
            sqlx::query("UPDATE rollup_folded SET day = $1 WHERE id = 1 AND day < $1")
                .bind(before)
                .execute(&self.pool)
                .await?;
            return Ok(before - folded);
        }
        let mut tx = self.pool.begin().await?;
        // The first statement writes, so SQLite's write lock is taken
        // before anything is read.
        let folded: i64 =
            sqlx::query_scalar("UPDATE rollup_folded SET day = day WHERE id = 1 RETURNING day")
                .fetch_one(&mut *tx)
                .await?;
        if before <= folded {
            return Ok(0);
        }
        let (hours, days) = (folded * 24, before * 24);
        for statement in [
            "INSERT INTO rollup_days SELECT site, period / 24, survey, step, band, class, score,
                dismissed, SUM(n) FROM rollup_hours WHERE period >= $1 AND period < $2
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0",
            "INSERT INTO reason_days SELECT site, period / 24, survey, step, band, class,
                dismissed, reasons, SUM(n) FROM reason_hours WHERE period >= $1 AND period < $2
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0",
            "INSERT INTO display_days SELECT site, period / 24, survey, step, SUM(shown),
                SUM(dismissed) FROM display_hours WHERE period >= $1 AND period < $2
             GROUP BY 1, 2, 3, 4 HAVING SUM(shown) <> 0 OR SUM(dismissed) <> 0",
            "INSERT INTO cta_days SELECT site, period / 24, survey, step, band, class, dismissed,
                clicked, SUM(n) FROM cta_hours WHERE period >= $1 AND period < $2
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING SUM(n) <> 0",
        ] {
            sqlx::query(statement)
                .bind(hours)
                .bind(days)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE rollup_folded SET day = $1 WHERE id = 1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(before - folded)
    }

    /// Recomputes every rollup from the answers, in one transaction (answers
    /// written meanwhile wait for it); returns how many answers were counted.
    pub async fn rebuild_rollups(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        match self.backend {
            // The DELETE takes SQLite's write lock: the writer waits.
            Backend::Sqlite => {}
            // Writers of answers, and a fold, wait until the rollups are
            // whole again.
            Backend::Postgres => {
                sqlx::query("LOCK TABLE answers IN SHARE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let dismissed = "CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END";
        for unit in [Unit::Hour, Unit::Day] {
            let (scores, reasons) = unit.tables();
            let period = format!("created_at / {}", unit.millis());
            // On SQLite the day rollups hold the folded days alone.
            let days = match (unit, self.backend) {
                (Unit::Day, Backend::Sqlite) => {
                    "AND created_at < (SELECT day FROM rollup_folded) * CAST(86400000 AS BIGINT)"
                }
                _ => "",
            };
            let ctas = unit.cta_table();
            for statement in [
                format!("DELETE FROM {scores}"),
                format!("DELETE FROM {reasons}"),
                format!("DELETE FROM {ctas}"),
                format!(
                    "INSERT INTO {ctas} SELECT site, {period}, survey, COALESCE(step, ''),
                        band, class, {dismissed}, cta, COUNT(*)
                     FROM answers WHERE cta IS NOT NULL {days} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
                ),
                format!(
                    "INSERT INTO {scores} SELECT site, {period}, survey, COALESCE(step, ''),
                        band, class, score, {dismissed}, COUNT(*)
                     FROM answers WHERE 1 = 1 {days} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
                ),
                format!(
                    "INSERT INTO {reasons} SELECT site, {period}, survey, COALESCE(step, ''),
                        band, class, {dismissed},
                        CASE WHEN follow_up = 'closed' THEN COALESCE(reason_ids, '')
                             ELSE '{OPEN}' END, COUNT(*)
                     FROM answers WHERE follow_up IS NOT NULL {days}
                     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
                ),
            ] {
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
        }
        for statement in [
            "DELETE FROM display_hours",
            "DELETE FROM display_days",
            "INSERT INTO display_hours SELECT site, created_at / 3600000, survey,
                COALESCE(step, ''), COUNT(*), SUM(dismissed) FROM displays GROUP BY 1, 2, 3, 4",
            match self.backend {
                Backend::Sqlite => {
                    "INSERT INTO display_days SELECT site, created_at / 86400000, survey,
                        COALESCE(step, ''), COUNT(*), SUM(dismissed) FROM displays
                     WHERE created_at < (SELECT day FROM rollup_folded) * CAST(86400000 AS BIGINT)
                     GROUP BY 1, 2, 3, 4"
                }
                Backend::Postgres => {
                    "INSERT INTO display_days SELECT site, created_at / 86400000, survey,
                        COALESCE(step, ''), COUNT(*), SUM(dismissed) FROM displays
                     GROUP BY 1, 2, 3, 4"
                }
            },
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        let counted: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM rollup_hours")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(counted.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }
}
