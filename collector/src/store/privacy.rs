//! What a respondent is owed: erasure of a person's answers (by user id or
//! respondent id) and of everything made from them, retention (answers older
//! than a site keeps them), and the audit log that records both.

use sqlx::Row;

use super::{Store, StoreError};

/// Whose answers are erased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Every answer of this user id on the site (any device).
    UserId(String),
    /// Every answer of this browser's respondent id on the site.
    Respondent(String),
}

impl Subject {
    /// The column the subject is found by (never from input: no SQL is built
    /// of what a caller sent).
    fn column(&self) -> &'static str {
        match self {
            Subject::UserId(_) => "user_id",
            Subject::Respondent(_) => "respondent",
        }
    }

    fn value(&self) -> &str {
        match self {
            Subject::UserId(v) | Subject::Respondent(v) => v,
        }
    }

    /// `user_id` or `respondent`, as the audit log and the API name it.
    pub fn kind(&self) -> &'static str {
        self.column()
    }
}

/// What an erasure or a retention run removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// Answers deleted.
    pub answers: u64,
    /// Webhook events of those answers deleted, delivered or still waiting.
    pub events: u64,
}

/// One line of the audit log: who did what, to what, when, from where.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Unix milliseconds.
    pub at: i64,
    pub site: Option<String>,
    /// `cli`, `token:export`, `retention`, ...
    pub actor: String,
    /// `erase`, `retention`, ...
    pub action: String,
    /// A JSON object.
    pub detail: String,
    /// The client address, when the action came over HTTP.
    pub client: Option<String>,
}

/// Rows a retention run deletes per transaction: a large first run does not
/// hold the database's write lock (and the answers waiting on it) for long.
const RETENTION_CHUNK: i64 = 5000;

impl Store {
    /// Deletes every answer of `subject` on `site`, their webhook events, and
    /// records it in the audit log, in one transaction.
    pub async fn erase(
        &self,
        site: &str,
        subject: &Subject,
        mut audit: AuditEntry,
    ) -> Result<Erased, StoreError> {
        let column = subject.column();
        let mut tx = self.pool.begin().await?;
        let events = sqlx::query(&format!(
            "DELETE FROM webhook_events WHERE site = $1 AND answer_id IN
                (SELECT id FROM answers WHERE site = $1 AND {column} = $2)"
        ))
        .bind(site)
        .bind(subject.value())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let answers = sqlx::query(&format!(
            "DELETE FROM answers WHERE site = $1 AND {column} = $2"
        ))
        .bind(site)
        .bind(subject.value())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let erased = Erased { answers, events };
        audit.detail = merge_detail(&audit.detail, erased);
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(erased)
    }

    /// Deletes the answers of `site` created before `before` (Unix
    /// milliseconds) with their webhook events, a chunk per transaction, and
    /// records the run in the audit log (when it deleted anything).
    pub async fn delete_older(
        &self,
        site: &str,
        before: i64,
        mut audit: AuditEntry,
    ) -> Result<Erased, StoreError> {
        let mut total = Erased::default();
        loop {
            let mut tx = self.pool.begin().await?;
            let chosen = "SELECT id FROM answers WHERE site = $1 AND created_at < $2 LIMIT $3";
            total.events += sqlx::query(&format!(
                "DELETE FROM webhook_events WHERE site = $1 AND answer_id IN ({chosen})"
            ))
            .bind(site)
            .bind(before)
            .bind(RETENTION_CHUNK)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let answers = sqlx::query(&format!("DELETE FROM answers WHERE id IN ({chosen})"))
                .bind(site)
                .bind(before)
                .bind(RETENTION_CHUNK)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            total.answers += answers;
            if answers < RETENTION_CHUNK as u64 {
                break;
            }
        }
        // The displays of those days go too, or their response rate would
        // fall with nobody's answers left to count.
        loop {
            let gone = sqlx::query(
                "DELETE FROM displays WHERE id IN
                    (SELECT id FROM displays WHERE site = $1 AND created_at < $2 LIMIT $3)",
            )
            .bind(site)
            .bind(before)
            .bind(RETENTION_CHUNK)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if gone < RETENTION_CHUNK as u64 {
                break;
            }
        }
        if total.answers > 0 {
            audit.detail = merge_detail(&audit.detail, total);
            let mut tx = self.pool.begin().await?;
            insert_audit(&mut tx, &audit).await?;
            tx.commit().await?;
        }
        Ok(total)
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        commit_audited(self.pool.begin().await?, std::slice::from_ref(entry)).await
    }

    /// A site's audit log, newest first (`None`: the whole instance's).
    pub async fn audit_entries(
        &self,
        site: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .audit_page(site, None, limit)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    /// A page of a site's audit log, newest first: up to `limit` entries
    /// older than the entry `before` (an id from an earlier page), each with
    /// its id. Stable while entries are added: new ones come before.
    pub async fn audit_page(
        &self,
        site: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(i64, AuditEntry)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, site, actor, action, detail, client FROM audit
             WHERE ($1 IS NULL OR site = $1) AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(site)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    AuditEntry {
                        at: r.get(1),
                        site: r.get(2),
                        actor: r.get(3),
                        action: r.get(4),
                        detail: r.get(5),
                        client: r.get(6),
                    },
                )
            })
            .collect())
    }
}

/// The entry's detail with the counts added.
fn merge_detail(detail: &str, erased: Erased) -> String {
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(detail).unwrap_or_default();
    object.insert("answers".into(), erased.answers.into());
    object.insert("events".into(), erased.events.into());
    serde_json::Value::Object(object).to_string()
}

/// Writes a change's audit lines into its transaction and commits both:
/// the change is never without its record.
pub(super) async fn commit_audited(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    for entry in entries {
        insert_audit(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at, site, actor, action, detail, client) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.at)
    .bind(entry.site.as_deref())
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.detail)
    .bind(entry.client.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
