//! The inbox's writes. Each is one transaction that writes first (on SQLite
//! a read first would have to become a write, which fails at once when the
//! answer writer wrote meanwhile) with its activity lines, audit lines and
//! webhook events. A change of an answer is held to the version it was read
//! at: the update names it, and changes nothing when another change came
//! first.

use sqlx::Row;

use super::inbox::split_tags;
use super::privacy::{commit_audited, insert_audit};
use super::{AuditEntry, Event, Store, StoreError};

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// What a change of an answer sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct AnswerChange {
    pub status: Option<String>,
    /// With a status: the resolution (`None` inside: none).
    pub resolution: Option<Option<String>>,
    /// `Some(None)`: no owner.
    pub owner: Option<Option<i64>>,
    /// The answer's whole list of tags.
    pub tags: Option<Vec<String>>,
}

/// What else a write records.
#[derive(Default)]
pub struct Records {
    /// Lines of the answer's activity feed: (kind, body, detail JSON).
    pub activity: Vec<(String, Option<String>, String)>,
    /// Who, for the activity lines.
    pub author: String,
    pub audit: Vec<AuditEntry>,
    pub events: Vec<Event>,
    /// The write is a person's: the answer's first action is now, unless it
    /// was earlier.
    pub acted: bool,
}

/// How a change went.
#[derive(Debug, PartialEq, Eq)]
pub enum Changed {
    /// Made: the answer's new version.
    Done(i64),
    /// The answer is at another version than the one given (someone
    /// changed it meanwhile), or gone.
    Conflict,
}

/// A reply to write.
pub struct NewReply<'a> {
    pub site: &'a str,
    pub answer_id: &'a str,
    pub respondent: &'a str,
    pub user_id: Option<&'a str>,
    pub rkey: &'a str,
    pub ukey: Option<&'a str>,
    pub body: &'a str,
    pub locale: &'a str,
    pub author: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

async fn insert_activity(
    tx: &mut Tx<'_>,
    site: &str,
    answer: &str,
    now: i64,
    records: &Records,
) -> Result<(), StoreError> {
    for (kind, body, detail) in &records.activity {
        sqlx::query(
            "INSERT INTO answer_events (answer_id, site, at, author, kind, body, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(answer)
        .bind(site)
        .bind(now)
        .bind(&records.author)
        .bind(kind.as_str())
        .bind(body.as_deref())
        .bind(detail.as_str())
        .execute(&mut **tx)
        .await?;
    }
    for entry in &records.audit {
        insert_audit(tx, entry).await?;
    }
    Ok(())
}

/// Webhook events into the outbox, once each (by their key).
pub(super) async fn insert_events(tx: &mut Tx<'_>, events: &[Event]) -> Result<(), StoreError> {
    for e in events {
        sqlx::query(
            "INSERT INTO webhook_events (key, site, webhook, answer_id, kind, body, created_at, next_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&e.key)
        .bind(&e.site)
        .bind(&e.webhook)
        .bind(&e.answer_id)
        .bind(e.kind)
        .bind(&e.body)
        .bind(e.created_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The tags of `names` on `site`, made when missing; their ids.
async fn tag_ids(tx: &mut Tx<'_>, site: &str, names: &[String]) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::new();
    for name in names {
        let folded = name.to_lowercase();
        sqlx::query(
            "INSERT INTO tags (site, name, folded) VALUES ($1, $2, $3)
             ON CONFLICT (site, folded) DO NOTHING",
        )
        .bind(site)
        .bind(name)
        .bind(&folded)
        .execute(&mut **tx)
        .await?;
        let row = sqlx::query("SELECT id FROM tags WHERE site = $1 AND folded = $2")
            .bind(site)
            .bind(&folded)
            .fetch_one(&mut **tx)
            .await?;
        ids.push(row.get(0));
    }
    Ok(ids)
}

impl Store {
    /// Writes `events` into the outbox, commits, and wakes the delivery
    /// worker when there were any.
    async fn commit_with(&self, mut tx: Tx<'_>, events: &[Event]) -> Result<(), StoreError> {
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        if !events.is_empty() {
            self.events_ready.notify_one();
        }
        Ok(())
    }

    /// Changes answer `id` of `site` from `version`: nothing at all when it is
    /// at another version (or gone).
    pub async fn change_answer(
        &self,
        site: &str,
        id: &str,
        version: i64,
        change: &AnswerChange,
        now: i64,
        records: &Records,
    ) -> Result<Changed, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut sql = super::inbox::Sql::default();
        let mut set = vec!["version = version + 1".to_owned()];
        if let Some(status) = &change.status {
            let p = sql.text(status.as_str());
            set.push(format!("status = {p}"));
            let now_p = sql.int(now);
            set.push(format!(
                "resolved_at = CASE WHEN {p} = 'resolved' THEN COALESCE(resolved_at, {now_p}) ELSE NULL END"
            ));
            let resolution = change.resolution.clone().flatten();
            let r = match resolution {
                Some(r) => sql.text(r),
                None => "NULL".to_owned(),
            };
            set.push(format!(
                "resolution = CASE WHEN {p} = 'resolved' THEN {r} ELSE NULL END"
            ));
        }
        if let Some(owner) = change.owner {
            set.push(match owner {
                Some(user) => format!("owner_id = {}", sql.int(user)),
                None => "owner_id = NULL".to_owned(),
            });
        }
        if records.acted {
            set.push(format!(
                "first_action_at = COALESCE(first_action_at, {})",
                sql.int(now)
            ));
        }
        let (site_p, id_p, v_p) = (sql.text(site), sql.text(id), sql.int(version));
        sql.text = format!(
            "UPDATE answers SET {} WHERE site = {site_p} AND id = {id_p} AND version = {v_p}",
            set.join(", ")
        );
        let done = sql.query().execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(Changed::Conflict);
        }
        if let Some(names) = &change.tags {
            sqlx::query("DELETE FROM answer_tags WHERE answer_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for tag in tag_ids(&mut tx, site, names).await? {
                sqlx::query("INSERT INTO answer_tags (answer_id, tag_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        insert_activity(&mut tx, site, id, now, records).await?;
        self.commit_with(tx, &records.events).await?;
        Ok(Changed::Done(version + 1))
    }

    /// A note (or other activity without a change of the answer's fields:
    /// the version stays, so nobody's open edit conflicts with it).
    pub async fn add_activity(
        &self,
        site: &str,
        id: &str,
        now: i64,
        records: &Records,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE answers SET first_action_at = CASE WHEN $3 = 1
                 THEN COALESCE(first_action_at, $4) ELSE first_action_at END
             WHERE site = $1 AND id = $2",
        )
        .bind(site)
        .bind(id)
        .bind(i64::from(records.acted))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_activity(&mut tx, site, id, now, records).await?;
        self.commit_with(tx, &records.events).await?;
        Ok(true)
    }

    /// A reply to the respondent of an answer, with its activity line and
    /// the webhook events `events` makes of its id; its id.
    pub async fn add_reply(
        &self,
        reply: &NewReply<'_>,
        records: &Records,
        events: impl FnOnce(i64) -> Vec<Event>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO replies (answer_id, site, respondent, user_id, rkey, ukey, body, locale,
                 author, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(reply.answer_id)
        .bind(reply.site)
        .bind(reply.respondent)
        .bind(reply.user_id)
        .bind(reply.rkey)
        .bind(reply.ukey)
        .bind(reply.body)
        .bind(reply.locale)
        .bind(reply.author)
        .bind(reply.now)
        .bind(reply.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.get(0);
        sqlx::query(
            "UPDATE answers SET first_action_at = COALESCE(first_action_at, $3)
             WHERE site = $1 AND id = $2",
        )
        .bind(reply.site)
        .bind(reply.answer_id)
        .bind(reply.now)
        .execute(&mut *tx)
        .await?;
        insert_activity(&mut tx, reply.site, reply.answer_id, reply.now, records).await?;
        self.commit_with(tx, &events(id)).await?;
        Ok(id)
    }

    /// Marks reply `id` seen by its respondent (or user): `false` when it is
    /// not theirs, or was seen already. The answer's feed says so.
    pub async fn reply_seen(
        &self,
        site: &str,
        id: i64,
        respondent: &str,
        user_id: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE replies SET seen_at = $5
             WHERE id = $1 AND site = $2 AND seen_at IS NULL
               AND (respondent = $3 OR ($4 IS NOT NULL AND user_id = $4))
             RETURNING answer_id",
        )
        .bind(id)
        .bind(site)
        .bind(respondent)
        .bind(user_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let answer: String = row.get(0);
        sqlx::query(
            "INSERT INTO answer_events (answer_id, site, at, author, kind, detail)
             VALUES ($1, $2, $3, 'respondent', 'reply_seen', $4)",
        )
        .bind(&answer)
        .bind(site)
        .bind(now)
        .bind(serde_json::json!({ "reply": id }).to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks `answer` read by `user`.
    pub async fn mark_read(&self, user: i64, answer: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO answer_reads (user_id, answer_id, read_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, answer_id) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(user)
        .bind(answer)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks `answer` unread by `user`.
    pub async fn mark_unread(&self, user: i64, answer: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM answer_reads WHERE user_id = $1 AND answer_id = $2")
            .bind(user)
            .bind(answer)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Notes that answer `id` went overdue (once: `false` when it already
    /// had, or was acted on meanwhile), with its events.
    pub async fn mark_overdue(
        &self,
        site: &str,
        id: &str,
        now: i64,
        records: &Records,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE answers SET overdue_at = $3
             WHERE site = $1 AND id = $2 AND overdue_at IS NULL AND status = 'new'",
        )
        .bind(site)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_activity(&mut tx, site, id, now, records).await?;
        self.commit_with(tx, &records.events).await?;
        Ok(true)
    }

    /// Renames tag `id` of `site`; `Err(Taken)` when another tag has that
    /// name (merge them instead).
    pub async fn rename_tag(
        &self,
        site: &str,
        id: i64,
        name: &str,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE tags SET name = $3, folded = $4 WHERE site = $1 AND id = $2")
                .bind(site)
                .bind(id)
                .bind(name)
                .bind(name.to_lowercase())
                .execute(&mut *tx)
                .await
                .map_err(|e| match e.as_database_error() {
                    Some(d) if d.is_unique_violation() => StoreError::Taken,
                    _ => e.into(),
                })?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, audit).await?;
        Ok(true)
    }

    /// Moves every answer of tag `from` to tag `into` and deletes `from`.
    pub async fn merge_tags(
        &self,
        site: &str,
        from: i64,
        into: i64,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO answer_tags (answer_id, tag_id)
             SELECT x.answer_id, $3 FROM answer_tags x JOIN tags t ON t.id = x.tag_id
             WHERE x.tag_id = $2 AND t.site = $1
               AND EXISTS (SELECT 1 FROM tags i WHERE i.id = $3 AND i.site = $1)
             ON CONFLICT (answer_id, tag_id) DO NOTHING",
        )
        .bind(site)
        .bind(from)
        .bind(into)
        .execute(&mut *tx)
        .await?;
        let _ = done;
        let gone = sqlx::query(
            "DELETE FROM tags WHERE site = $1 AND id = $2 AND $2 <> $3
               AND EXISTS (SELECT 1 FROM tags i WHERE i.id = $3 AND i.site = $1)",
        )
        .bind(site)
        .bind(from)
        .bind(into)
        .execute(&mut *tx)
        .await?;
        if gone.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, audit).await?;
        Ok(true)
    }

    /// Deletes tag `id` of `site` from every answer.
    pub async fn delete_tag(
        &self,
        site: &str,
        id: i64,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM answer_tags WHERE tag_id IN (SELECT id FROM tags WHERE site = $1 AND id = $2)")
            .bind(site)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM tags WHERE site = $1 AND id = $2")
            .bind(site)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, audit).await?;
        Ok(true)
    }

    /// The tags of answer `id`, by name.
    pub async fn answer_tags(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.name FROM answer_tags x JOIN tags t ON t.id = x.tag_id
             WHERE x.answer_id = $1 ORDER BY t.folded",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(split_tags(Some(
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join(";"),
        ))
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect())
    }
}
