//! People: users and their role per site, sessions, API tokens and one-time
//! set-password links. Secrets arrive here already hashed (SHA-256 of a
//! random token, Argon2id of a password): nothing this module stores can be
//! used to sign in. Every change is written with its lines of the audit log,
//! in one transaction: no change without its record, no record without its
//! change.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::privacy::{commit_audited, insert_audit};
use super::{AuditEntry, Store, StoreError};

/// A person who may sign in.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; `None` until the person sets one.
    pub password_hash: Option<String>,
    /// Every right on every site.
    pub owner: bool,
    pub active: bool,
    pub created_at: i64,
}

/// The password's hash stays out of logs: only whether there is one.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &self.password_hash.as_ref().map(|_| "<set>"))
            .field("owner", &self.owner)
            .field("active", &self.active)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A signed-in browser, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub client: Option<String>,
}

/// A person's API token, as stored (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The sites it may act on, with its creator's role there.
    pub sites: Vec<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const USER: &str = "id, email, name, password_hash, owner, active, created_at";
/// [`USER`] of a join's `u`.
const U_USER: &str = "u.id, u.email, u.name, u.password_hash, u.owner, u.active, u.created_at";

fn user_of(r: &AnyRow) -> User {
    User {
        id: r.get(0),
        email: r.get(1),
        name: r.get(2),
        password_hash: r.get(3),
        owner: r.get::<i64, _>(4) != 0,
        active: r.get::<i64, _>(5) != 0,
        created_at: r.get(6),
    }
}

fn session_of(r: &AnyRow) -> SessionRow {
    SessionRow {
        id_hash: r.get(0),
        user_id: r.get(1),
        created_at: r.get(2),
        last_used_at: r.get(3),
        expires_at: r.get(4),
        client: r.get(5),
    }
}

fn token_of(r: &AnyRow) -> TokenRow {
    TokenRow {
        id: r.get(0),
        user_id: r.get(1),
        name: r.get(2),
        sites: serde_json::from_str(&r.get::<String, _>(3)).unwrap_or_default(),
        created_at: r.get(4),
        last_used_at: r.get(5),
        revoked_at: r.get(6),
    }
}

/// Whether the error is a broken uniqueness (an email taken).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

impl Store {
    /// A new person; `Err(StoreError::Taken)` when the email is someone's.
    /// With `role` on a site, and the set-password link `invite` (the hash
    /// of its token and its expiry), all or nothing.
    pub async fn create_user(
        &self,
        new: &NewUser<'_>,
        audit: &[AuditEntry],
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO users (email, name, owner, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {USER}"
        ))
        .bind(new.email)
        .bind(new.name)
        .bind(i64::from(new.owner))
        .bind(new.password_hash)
        .bind(new.now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Taken
            } else {
                e.into()
            }
        })?;
        let user = user_of(&row);
        if let Some((site, role)) = new.role {
            upsert_role(&mut tx, user.id, site, role).await?;
        }
        if let Some((hash, expires_at)) = new.invite {
            insert_invite(&mut tx, user.id, hash, new.now, expires_at).await?;
        }
        commit_audited(tx, audit).await?;
        Ok(user)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER} FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_of))
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_of))
    }

    /// Every person, by email.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {USER} FROM users ORDER BY email"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(user_of).collect())
    }

    /// Removes a person with their memberships, sessions, tokens and links.
    pub async fn remove_user(&self, id: i64, audit: &[AuditEntry]) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["memberships", "sessions", "api_tokens", "invites"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, audit).await?;
        Ok(true)
    }

    /// Sets a person's password hash and ends every session of theirs but
    /// `keep` (a changed password signs out everywhere else).
    pub async fn set_password(
        &self,
        id: i64,
        hash: &str,
        keep: Option<&str>,
        now: i64,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        delete_sessions(&mut tx, id, keep).await?;
        // A link not yet used would set it again: it opens no more.
        sqlx::query("DELETE FROM invites WHERE user_id = $1 AND used_at IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        commit_audited(tx, audit).await?;
        Ok(())
    }

    /// `user`'s role per site, by site.
    pub async fn memberships(&self, user: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT site, role FROM memberships WHERE user_id = $1 ORDER BY site")
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The members of `site` and their roles, by email.
    pub async fn members(&self, site: &str) -> Result<Vec<(User, String)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {U_USER}, m.role FROM users u JOIN memberships m ON m.user_id = u.id
             WHERE m.site = $1 ORDER BY u.email"
        ))
        .bind(site)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| (user_of(r), r.get(7))).collect())
    }

    /// Gives `user` `role` on `site` (a new membership or a changed one).
    pub async fn set_role(
        &self,
        user: i64,
        site: &str,
        role: &str,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        // Every transaction here writes first: on SQLite a read first would
        // have to become a write later, which fails at once (SQLITE_BUSY)
        // when another connection wrote meanwhile.
        let mut tx = self.pool.begin().await?;
        upsert_role(&mut tx, user, site, role).await?;
        commit_audited(tx, audit).await?;
        Ok(())
    }

    pub async fn remove_member(
        &self,
        user: i64,
        site: &str,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND site = $2")
            .bind(user)
            .bind(site)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, audit).await?;
        Ok(true)
    }

    /// A set-password link for `user`, valid until `expires_at`. Earlier
    /// unused links of theirs stop working: only the newest opens.
    pub async fn create_invite(
        &self,
        user: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_invite(&mut tx, user, token_hash, now, expires_at).await?;
        commit_audited(tx, audit).await?;
        Ok(())
    }

    /// Resets a person's password: the old one opens nothing, every session
    /// of theirs ends, and the link `token_hash` (until `expires_at`) sets a
    /// new one.
    pub async fn reset_password(
        &self,
        user: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = NULL, updated_at = $2 WHERE id = $1")
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        delete_sessions(&mut tx, user, None).await?;
        insert_invite(&mut tx, user, token_hash, now, expires_at).await?;
        commit_audited(tx, audit).await?;
        Ok(())
    }

    /// The user of a link still valid at `now`, without using it.
    pub async fn invite_user(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {U_USER} FROM users u JOIN invites l ON l.user_id = u.id
             WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND u.active = 1"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_of))
    }

    /// Uses a link: sets its user's password (ending their sessions) and
    /// marks it used, in one transaction; `None` if it was used, expired or
    /// unknown (a link opens once). `audit` is completed with the user.
    pub async fn use_invite(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
        audit: impl FnOnce(&User) -> AuditEntry,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE invites SET used_at = $2
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.get(0);
        let user = sqlx::query(&format!(
            "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND active = 1
             RETURNING {USER}"
        ))
        .bind(id)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = user.as_ref().map(user_of) else {
            return Ok(None);
        };
        delete_sessions(&mut tx, id, None).await?;
        insert_audit(&mut tx, &audit(&user)).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    pub async fn create_session(
        &self,
        session: &SessionRow,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_used_at, expires_at, client)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&session.id_hash)
        .bind(session.user_id)
        .bind(session.created_at)
        .bind(session.last_used_at)
        .bind(session.expires_at)
        .bind(session.client.as_deref())
        .execute(&mut *tx)
        .await?;
        // Sessions that ended by themselves go as new ones come.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(session.user_id)
            .bind(session.created_at)
            .execute(&mut *tx)
            .await?;
        commit_audited(tx, audit).await?;
        Ok(())
    }

    /// The session of `id_hash` and its user, if it is alive at `now`: before
    /// its absolute limit, used within `idle_millis`, its user active.
    pub async fn live_session(
        &self,
        id_hash: &str,
        now: i64,
        idle_millis: i64,
    ) -> Result<Option<(SessionRow, User)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {U_USER}, s.id_hash, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.client
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_used_at > $3 AND u.active = 1"
        ))
        .bind(id_hash)
        .bind(now)
        .bind(now.saturating_sub(idle_millis))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| {
            let session = SessionRow {
                id_hash: r.get(7),
                user_id: r.get(8),
                created_at: r.get(9),
                last_used_at: r.get(10),
                expires_at: r.get(11),
                client: r.get(12),
            };
            (session, user_of(&r))
        }))
    }

    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends the session of `id_hash` (signing out).
    pub async fn end_session(&self, id_hash: &str, audit: &[AuditEntry]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        commit_audited(tx, audit).await?;
        Ok(())
    }

    /// Ends every session of `user` but `keep`, if given; returns how many.
    pub async fn end_sessions(
        &self,
        user: i64,
        keep: Option<&str>,
        audit: &[AuditEntry],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ended = delete_sessions(&mut tx, user, keep).await?;
        commit_audited(tx, audit).await?;
        Ok(ended)
    }

    /// `user`'s sessions alive at `now`, the latest used first.
    pub async fn sessions_of(&self, user: i64, now: i64) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id_hash, user_id, created_at, last_used_at, expires_at, client FROM sessions
             WHERE user_id = $1 AND expires_at > $2 ORDER BY last_used_at DESC",
        )
        .bind(user)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(session_of).collect())
    }

    /// A token of `user` for `sites`, named `name`; returns its id.
    pub async fn create_token(
        &self,
        token_hash: &str,
        user: i64,
        name: &str,
        sites: &[String],
        now: i64,
        audit: &[AuditEntry],
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, name, sites, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash)
        .bind(user)
        .bind(name)
        .bind(serde_json::to_string(sites).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(tx, audit).await?;
        Ok(row.get(0))
    }

    /// The live (not revoked) token of `token_hash`, and its person (active).
    pub async fn live_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(TokenRow, User)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {U_USER}, t.id, t.user_id, t.name, t.sites, t.created_at, t.last_used_at,
                    t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = 1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| {
            let token = TokenRow {
                id: r.get(7),
                user_id: r.get(8),
                name: r.get(9),
                sites: serde_json::from_str(&r.get::<String, _>(10)).unwrap_or_default(),
                created_at: r.get(11),
                last_used_at: r.get(12),
                revoked_at: r.get(13),
            };
            (token, user_of(&r))
        }))
    }

    pub async fn touch_token(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes `user`'s live token `id`, returning it; `None` if there is no
    /// such token. `audit` is completed with the token.
    pub async fn revoke_token(
        &self,
        user: i64,
        id: i64,
        now: i64,
        audit: impl FnOnce(&TokenRow) -> Vec<AuditEntry>,
    ) -> Result<Option<TokenRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
             RETURNING id, user_id, name, sites, created_at, last_used_at, revoked_at",
        )
        .bind(id)
        .bind(user)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(token) = row.as_ref().map(token_of) else {
            return Ok(None);
        };
        commit_audited(tx, &audit(&token)).await?;
        Ok(Some(token))
    }

    /// `user`'s tokens, revoked ones included, the newest first.
    pub async fn tokens_of(&self, user: i64) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, sites, created_at, last_used_at, revoked_at FROM api_tokens
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(token_of).collect())
    }
}

/// A person to add (see [`Store::create_user`]).
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub owner: bool,
    /// A site and the role on it.
    pub role: Option<(&'a str, &'a str)>,
    /// The hash of a set-password link's token, and its expiry.
    pub invite: Option<(&'a str, i64)>,
    /// A password set at once (Argon2id PHC string), instead of a link.
    pub password_hash: Option<&'a str>,
    pub now: i64,
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

async fn upsert_role(tx: &mut Tx<'_>, user: i64, site: &str, role: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memberships (user_id, site, role) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, site) DO UPDATE SET role = excluded.role",
    )
    .bind(user)
    .bind(site)
    .bind(role)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A link for `user`; their earlier unused ones open no more.
async fn insert_invite(
    tx: &mut Tx<'_>,
    user: i64,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM invites WHERE user_id = $1 AND used_at IS NULL")
        .bind(user)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO invites (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn delete_sessions(
    tx: &mut Tx<'_>,
    user: i64,
    keep: Option<&str>,
) -> Result<u64, StoreError> {
    let done = match keep {
        Some(keep) => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
                .bind(user)
                .bind(keep)
                .execute(&mut **tx)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(done.rows_affected())
}
