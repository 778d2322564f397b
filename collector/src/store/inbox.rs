//! The inbox's reads: a page of a site's answers through the team's filters
//! (newest first, a keyset cursor), counts per status, one answer with its
//! inbox state, the respondent's timeline, its activity feed, the site's
//! tags, the replies that wait, the answers overdue, and response times.
//! The writes are in `inbox_write.rs`.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AnswerRow, Backend, Store, StoreError, to_row};

/// An answer's owner as shown: a member who may work on answers of its site
/// (active, and an owner of the instance or an agent or admin of the site);
/// anyone else is no owner, and the answer shows as unassigned.
pub(super) const OWNER_EMAIL: &str =
    "(SELECT u.email FROM users u WHERE u.id = a.owner_id AND u.active = 1
      AND (u.owner = 1 OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id
           AND m.site = a.site AND m.role IN ('agent', 'admin'))))";

/// Whose answers a page lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OwnerFilter {
    #[default]
    Any,
    /// No owner who may work on them.
    Unassigned,
    /// This person's (a user id).
    User(i64),
}

/// The filters of the inbox.
#[derive(Clone, Debug, Default)]
pub struct InboxFilter {
    /// Any of these statuses; empty: all but `dismissed`.
    pub statuses: Vec<String>,
    pub owner: OwnerFilter,
    pub class: Option<String>,
    pub band: Option<String>,
    pub survey: Option<String>,
    pub step: Option<String>,
    /// Created at or after, before (Unix milliseconds).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// With (or without) an open text or an "Other" text.
    pub commented: Option<bool>,
    /// A tag's name, any case.
    pub tag: Option<String>,
    /// Words every answer's texts must have (as word beginnings), folded for
    /// case and accents by the database's search.
    pub words: Vec<String>,
    /// Only answers overdue at these cutoffs: per class, created before it
    /// and still new.
    pub overdue: Option<Vec<(String, i64)>>,
}

/// Where a page starts: after the answer of this creation time and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

/// An answer as the inbox lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxRow {
    pub id: String,
    pub created_at: i64,
    pub survey: String,
    pub step: Option<String>,
    pub locale: String,
    pub score: i64,
    pub class: String,
    pub band: String,
    pub follow_up: Option<String>,
    pub open_text: Option<String>,
    pub reason_texts: Option<String>,
    pub other_text: Option<String>,
    pub status: String,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub version: i64,
    pub read: bool,
}

/// One answer with everything the inbox keeps of it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxAnswer {
    pub answer: AnswerRow,
    pub status: String,
    /// The owner who may work on it, by email.
    pub owner: Option<String>,
    pub version: i64,
    pub resolution: Option<String>,
    pub resolved_at: Option<i64>,
    pub first_action_at: Option<i64>,
    pub overdue_at: Option<i64>,
    pub tags: Vec<String>,
}

/// A line of an answer's activity feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityLine {
    pub id: i64,
    pub at: i64,
    pub author: String,
    /// `note`, `status`, `owner`, `tags`, `reply`, `reply_seen`, `overdue`.
    pub kind: String,
    pub body: Option<String>,
    /// JSON object.
    pub detail: String,
}

/// An answer of a respondent's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelinePoint {
    pub id: String,
    pub created_at: i64,
    pub survey: String,
    pub step: Option<String>,
    pub score: i64,
    pub class: String,
}

/// A tag of a site, with how many answers have it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagCount {
    pub id: i64,
    pub name: String,
    pub answers: i64,
}

/// A reply that waits for its respondent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingReply {
    pub id: i64,
    pub answer_id: String,
    pub body: String,
    pub locale: String,
}

/// When an answer was first acted on and resolved, for response times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    pub class: String,
    pub owner: Option<String>,
    pub created_at: i64,
    pub first_action_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

/// A statement being built: its text and its parameters, numbered as bound.
#[derive(Default)]
pub(super) struct Sql {
    pub text: String,
    binds: Vec<Bind>,
}

#[derive(Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

impl Sql {
    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.binds.push(Bind::Text(value.into()));
        format!("${}", self.binds.len())
    }

    pub fn int(&mut self, value: i64) -> String {
        self.binds.push(Bind::Int(value));
        format!("${}", self.binds.len())
    }

    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// The search of `words` in an answer `a`'s texts, as each backend does it.
fn search(backend: Backend, sql: &mut Sql, words: &[String]) -> String {
    match backend {
        // FTS5 with `remove_diacritics`: quoted words, each a prefix.
        Backend::Sqlite => {
            let query: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
            let p = sql.text(query.join(" "));
            format!("a.rowid IN (SELECT rowid FROM answers_text WHERE answers_text MATCH {p})")
        }
        // The expression of the GIN index, folded alike.
        Backend::Postgres => {
            let query: Vec<String> = words.iter().map(|w| format!("{w}:*")).collect();
            let p = sql.text(query.join(" & "));
            format!(
                "to_tsvector('simple', pulso_fold(a.open_text) || ' ' || pulso_fold(a.other_text))
                 @@ to_tsquery('simple', pulso_fold({p}))"
            )
        }
    }
}

/// The conditions of `filter` on answers `a` of `site` (without the status
/// ones when `statuses` is false, for the counts per status).
fn conditions(
    backend: Backend,
    sql: &mut Sql,
    site: &str,
    filter: &InboxFilter,
    statuses: bool,
) -> Vec<String> {
    let mut w = vec![format!("a.site = {}", sql.text(site))];
    if statuses {
        if filter.statuses.is_empty() {
            w.push("a.status <> 'dismissed'".into());
        } else {
            let list: Vec<String> = filter
                .statuses
                .iter()
                .map(|s| sql.text(s.as_str()))
                .collect();
            w.push(format!("a.status IN ({})", list.join(", ")));
        }
    }
    match filter.owner {
        OwnerFilter::Any => {}
        OwnerFilter::Unassigned => w.push(format!("{OWNER_EMAIL} IS NULL")),
        OwnerFilter::User(id) => w.push(format!("a.owner_id = {}", sql.int(id))),
    }
    for (column, value) in [
        ("class", &filter.class),
        ("band", &filter.band),
        ("survey", &filter.survey),
        ("step", &filter.step),
    ] {
        if let Some(v) = value {
            w.push(format!("a.{column} = {}", sql.text(v.as_str())));
        }
    }
    if let Some(from) = filter.from {
        w.push(format!("a.created_at >= {}", sql.int(from)));
    }
    if let Some(to) = filter.to {
        w.push(format!("a.created_at < {}", sql.int(to)));
    }
    match filter.commented {
        Some(true) => w.push("(a.open_text IS NOT NULL OR a.other_text IS NOT NULL)".into()),
        Some(false) => w.push("a.open_text IS NULL AND a.other_text IS NULL".into()),
        None => {}
    }
    if let Some(tag) = &filter.tag {
        let p = sql.text(tag.to_lowercase());
        w.push(format!(
            "EXISTS (SELECT 1 FROM answer_tags x JOIN tags t ON t.id = x.tag_id
                     WHERE x.answer_id = a.id AND t.site = a.site AND t.folded = {p})"
        ));
    }
    if !filter.words.is_empty() {
        w.push(search(backend, sql, &filter.words));
    }
    if let Some(cutoffs) = &filter.overdue {
        w.push(overdue_condition(sql, cutoffs));
    }
    w
}

/// Still new, and created before its class's cutoff (no cutoffs: none is).
fn overdue_condition(sql: &mut Sql, cutoffs: &[(String, i64)]) -> String {
    if cutoffs.is_empty() {
        return "1 = 0".into();
    }
    let each: Vec<String> = cutoffs
        .iter()
        .map(|(class, cutoff)| {
            format!(
                "(a.class = {} AND a.created_at < {})",
                sql.text(class.as_str()),
                sql.int(*cutoff)
            )
        })
        .collect();
    format!("a.status = 'new' AND ({})", each.join(" OR "))
}

/// An answer's tags, `;`-joined in name order (no tag has `;`).
pub(super) fn tags_column(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "(SELECT group_concat(name, ';') FROM (SELECT t.name FROM answer_tags x
               JOIN tags t ON t.id = x.tag_id WHERE x.answer_id = a.id ORDER BY t.folded))"
        }
        Backend::Postgres => {
            "(SELECT string_agg(t.name, ';' ORDER BY t.folded) FROM answer_tags x
               JOIN tags t ON t.id = x.tag_id WHERE x.answer_id = a.id)"
        }
    }
}

pub(super) fn split_tags(joined: Option<String>) -> Vec<String> {
    joined
        .map(|t| t.split(';').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn inbox_row(r: &AnyRow) -> InboxRow {
    InboxRow {
        id: r.get(0),
        created_at: r.get(1),
        survey: r.get(2),
        step: r.get(3),
        locale: r.get(4),
        score: r.get(5),
        class: r.get(6),
        band: r.get(7),
        follow_up: r.get(8),
        open_text: r.get(9),
        reason_texts: r.get(10),
        other_text: r.get(11),
        status: r.get(12),
        owner: r.get(13),
        tags: split_tags(r.get(14)),
        version: r.get(15),
        read: r.get::<i64, _>(16) != 0,
    }
}

impl Store {
    /// A page of `site`'s answers through `filter`, newest first, after
    /// `cursor`: at most `limit` rows, and the cursor of the next page when
    /// there is one. `reader`'s read marks are shown.
    pub async fn inbox_page(
        &self,
        site: &str,
        filter: &InboxFilter,
        cursor: Option<&Cursor>,
        limit: i64,
        reader: Option<i64>,
    ) -> Result<(Vec<InboxRow>, Option<Cursor>), StoreError> {
        let mut sql = Sql::default();
        let mut w = conditions(self.backend, &mut sql, site, filter, true);
        if let Some(c) = cursor {
            let (at, id) = (sql.int(c.created_at), sql.text(c.id.as_str()));
            w.push(format!(
                "(a.created_at < {at} OR (a.created_at = {at} AND a.id < {id}))"
            ));
        }
        let reader = sql.int(reader.unwrap_or(0));
        let limit_p = sql.int(limit + 1);
        sql.text = format!(
            "SELECT a.id, a.created_at, a.survey, a.step, a.locale, a.score, a.class, a.band,
                a.follow_up, a.open_text, a.reason_texts, a.other_text, a.status, {OWNER_EMAIL},
                {tags}, a.version,
                CAST(CASE WHEN EXISTS (SELECT 1 FROM answer_reads r WHERE r.user_id = {reader}
                     AND r.answer_id = a.id) THEN 1 ELSE 0 END AS BIGINT)
             FROM answers a WHERE {where_}
             ORDER BY a.created_at DESC, a.id DESC LIMIT {limit_p}",
            tags = tags_column(self.backend),
            where_ = w.join(" AND "),
        );
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut rows: Vec<InboxRow> = rows.iter().map(inbox_row).collect();
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next = more.then(|| rows.last()).flatten().map(|r| Cursor {
            created_at: r.created_at,
            id: r.id.clone(),
        });
        Ok((rows, next))
    }

    /// How many answers of each status pass `filter` (its statuses aside),
    /// and how many of them are overdue at `cutoffs`.
    pub async fn inbox_counts(
        &self,
        site: &str,
        filter: &InboxFilter,
        cutoffs: &[(String, i64)],
    ) -> Result<(Vec<(String, i64)>, i64), StoreError> {
        let mut sql = Sql::default();
        let w = conditions(self.backend, &mut sql, site, filter, false);
        let overdue = overdue_condition(&mut sql, cutoffs);
        sql.text = format!(
            "SELECT a.status, COUNT(*),
                CAST(SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END) AS BIGINT)
             FROM answers a WHERE {} GROUP BY a.status",
            w.join(" AND ")
        );
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut overdue_total = 0;
        let counts = rows
            .iter()
            .map(|r| {
                overdue_total += r.get::<Option<i64>, _>(2).unwrap_or(0);
                (r.get::<String, _>(0), r.get::<i64, _>(1))
            })
            .collect();
        Ok((counts, overdue_total))
    }

    /// Answer `id` of `site` with its inbox state.
    pub async fn inbox_answer(
        &self,
        site: &str,
        id: &str,
    ) -> Result<Option<InboxAnswer>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT a.id, a.created_at, a.updated_at, a.site, a.survey, a.step, a.page, a.locale,
                a.score, a.class, a.band, a.first_survey, a.follow_up, a.reason_ids,
                a.reason_texts, a.other_text, a.open_text, a.respondent, a.user_id, a.props,
                a.traits, a.user_verified, a.cta, a.status, {OWNER_EMAIL} AS owner, a.version,
                a.resolution,
                a.resolved_at, a.first_action_at, a.overdue_at, {} AS tags
             FROM answers a WHERE a.site = $1 AND a.id = $2",
            tags_column(self.backend)
        ))
        .bind(site)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| InboxAnswer {
            answer: to_row(&r),
            status: r.get("status"),
            owner: r.get("owner"),
            version: r.get("version"),
            resolution: r.get("resolution"),
            resolved_at: r.get("resolved_at"),
            first_action_at: r.get("first_action_at"),
            overdue_at: r.get("overdue_at"),
            tags: split_tags(r.get("tags")),
        }))
    }

    /// Every answer on `site` of the respondent, or of the user id (only
    /// verified answers' when `verified_only`), oldest first.
    pub async fn timeline(
        &self,
        site: &str,
        respondent: &str,
        user_id: Option<&str>,
        verified_only: bool,
    ) -> Result<Vec<TimelinePoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, created_at, survey, step, score, class FROM answers
             WHERE site = $1 AND status <> 'dismissed' AND (respondent = $2
                OR ($3 IS NOT NULL AND user_id = $3 AND ($4 = 0 OR user_verified = 1)))
             ORDER BY created_at, id LIMIT 500",
        )
        .bind(site)
        .bind(respondent)
        .bind(user_id)
        .bind(i64::from(verified_only))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| TimelinePoint {
                id: r.get(0),
                created_at: r.get(1),
                survey: r.get(2),
                step: r.get(3),
                score: r.get(4),
                class: r.get(5),
            })
            .collect())
    }

    /// Answer `id`'s notes, changes and replies, oldest first.
    pub async fn activity(&self, site: &str, id: &str) -> Result<Vec<ActivityLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, author, kind, body, detail FROM answer_events
             WHERE site = $1 AND answer_id = $2 ORDER BY id",
        )
        .bind(site)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| ActivityLine {
                id: r.get(0),
                at: r.get(1),
                author: r.get(2),
                kind: r.get(3),
                body: r.get(4),
                detail: r.get(5),
            })
            .collect())
    }

    /// The site's tags by name, with their answers' counts.
    pub async fn site_tags(&self, site: &str) -> Result<Vec<TagCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, CAST(COUNT(x.answer_id) AS BIGINT) FROM tags t
             LEFT JOIN answer_tags x ON x.tag_id = t.id
             WHERE t.site = $1 GROUP BY t.id, t.name, t.folded ORDER BY t.folded",
        )
        .bind(site)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| TagCount {
                id: r.get(0),
                name: r.get(1),
                answers: r.get(2),
            })
            .collect())
    }

    /// The keys (8 hex digits of a respondent id or a verified user's hash)
    /// of the replies that wait on `site` at `now`, at most `limit`.
    pub async fn waiting_reply_keys(
        &self,
        site: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT rkey, ukey FROM replies WHERE site = $1 AND seen_at IS NULL AND expires_at > $2
             ORDER BY id DESC LIMIT $3",
        )
        .bind(site)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut keys: Vec<String> = rows
            .iter()
            .flat_map(|r| [Some(r.get::<String, _>(0)), r.get::<Option<String>, _>(1)])
            .flatten()
            .collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// The replies waiting on `site` for the respondent, or for the
    /// (verified) user, oldest first.
    pub async fn waiting_replies(
        &self,
        site: &str,
        respondent: &str,
        user_id: Option<&str>,
        now: i64,
    ) -> Result<Vec<WaitingReply>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, answer_id, body, locale FROM replies
             WHERE site = $1 AND seen_at IS NULL AND expires_at > $2
               AND (respondent = $3 OR ($4 IS NOT NULL AND user_id = $4))
             ORDER BY id LIMIT 5",
        )
        .bind(site)
        .bind(now)
        .bind(respondent)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| WaitingReply {
                id: r.get(0),
                answer_id: r.get(1),
                body: r.get(2),
                locale: r.get(3),
            })
            .collect())
    }

    /// Answers of `site` overdue at `cutoffs` whose `answer.overdue` has not
    /// gone out, oldest first, at most `limit`.
    pub async fn overdue_answers(
        &self,
        site: &str,
        cutoffs: &[(String, i64)],
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::default();
        let site_p = sql.text(site);
        let overdue = overdue_condition(&mut sql, cutoffs);
        let limit_p = sql.int(limit);
        sql.text = format!(
            "SELECT a.id FROM answers a WHERE a.site = {site_p} AND a.overdue_at IS NULL
               AND {overdue} ORDER BY a.created_at LIMIT {limit_p}"
        );
        let rows = sql.query().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// When each acted-on answer of `site` created in `[from, to)` was first
    /// acted on and resolved, with its class and owner.
    pub async fn handled(
        &self,
        site: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Vec<Handled>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT a.class, {OWNER_EMAIL}, a.created_at, a.first_action_at, a.resolved_at
             FROM answers a
             WHERE a.site = $1 AND a.status <> 'dismissed'
               AND ($2 IS NULL OR a.created_at >= $2) AND ($3 IS NULL OR a.created_at < $3)
               AND (a.first_action_at IS NOT NULL OR a.resolved_at IS NOT NULL)"
        ))
        .bind(site)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Handled {
                class: r.get(0),
                owner: r.get(1),
                created_at: r.get(2),
                first_action_at: r.get(3),
                resolved_at: r.get(4),
            })
            .collect())
    }
}
