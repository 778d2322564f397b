//! Team access: people sign in with their own accounts and hold a role per
//! site (`viewer` < `agent` < `admin`; an instance owner is an admin
//! everywhere). Sessions live on the server (a random cookie, stored hashed,
//! with idle and absolute limits); API tokens are per person, carry their
//! creator's role on the sites they name, and are stored hashed. A site's
//! `export_token` stays a read-only machine token (export and report).
//!
//! `auth.rs` finds who is asking ([`Caller`]) and guards state-changing
//! requests against cross-site forgery; `signin.rs`, `account.rs`,
//! `members.rs` and `audit.rs` are the handlers of the pages and endpoints
//! ([`router`]), `pages.rs` their HTML and `text.rs` its words in English
//! and Spanish, `web.rs` what they share; `cli.rs` the `pulso user` commands.

mod account;
pub mod audit;
mod auth;
pub mod cli;
mod members;
pub mod pages;
pub mod password;
pub mod secret;
mod signin;
mod text;
pub mod web;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

pub use audit::{AuditLine, AuditPage, AuditQuery};
pub use auth::{Caller, Refusal, SESSION_COOKIE, SESSION_COOKIE_PLAIN, csrf_layer, now_millis};
pub use signin::SignIns;
pub use text::{Text, for_request as text_for};

use crate::http::AppState;
use crate::store::{AuditEntry, User};

/// The pages and endpoints of team access.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin::form).post(signin::sign_in))
        .route("/signout", post(signin::sign_out))
        .route(
            "/set-password/{token}",
            get(signin::set_password_form).post(signin::set_password),
        )
        .route("/dashboard", get(account::sites))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/account/sessions/end", post(account::end_other_sessions))
        .route("/account/digest", post(account::set_digest))
        .route(
            "/dashboard/{site}/members",
            get(members::list).post(members::invite),
        )
        .route(
            "/dashboard/{site}/members/{id}/{action}",
            post(members::act),
        )
        .route("/dashboard/{site}/audit", get(audit::site_page))
        .route("/audit", get(audit::instance_page))
        .route("/v1/sites/{site}/audit", get(audit::site_api))
        .route("/v1/audit", get(audit::instance_api))
}

/// A line for the audit log, now.
pub fn audit_entry(
    site: Option<&str>,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
    client: Option<String>,
) -> AuditEntry {
    AuditEntry {
        at: now_millis(),
        site: site.map(str::to_owned),
        actor: actor.to_owned(),
        action: action.to_owned(),
        detail: detail.to_string(),
        client,
    }
}

/// What a member may do on a site, each role all of the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The dashboard, reports, reading answers.
    Viewer,
    /// And working on answers: status, owner, notes, tags, replies.
    Agent,
    /// And exports, members, API tokens, the audit log, erasure.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Agent, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What an action needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Reading: the dashboard, reports, answers, webhook status.
    Read,
    /// The report, which a site's machine token may read too.
    Report,
    /// Working on answers.
    Work,
    /// All answers, out: an export (a site's machine token may too).
    Export,
    /// Members, the audit log, erasure.
    Admin,
}

impl Need {
    fn role(self) -> Role {
        match self {
            Need::Read | Need::Report => Role::Viewer,
            Need::Work => Role::Agent,
            Need::Export | Need::Admin => Role::Admin,
        }
    }

    /// What a site's `export_token` opens.
    fn machine(self) -> bool {
        matches!(self, Need::Report | Need::Export)
    }
}

/// How a person's request proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A browser's session (the hash of its cookie).
    Session { id_hash: String },
    /// An API token, limited to these sites.
    Token {
        id: i64,
        name: String,
        sites: Vec<String>,
    },
}

/// A signed-in person and their roles.
#[derive(Clone, Debug)]
pub struct Person {
    pub user: User,
    /// Role per site.
    pub roles: Vec<(String, Role)>,
    pub via: Via,
}

/// Who is asking.
#[derive(Clone, Debug)]
pub enum Principal {
    Person(Person),
    /// A site's `export_token`.
    Machine {
        site: String,
    },
}

/// Why a request may not do what it asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// No credentials: 401.
    Anonymous,
    /// Not a member of the site (or no such site): 404, so that the answer
    /// says nothing of which sites exist.
    NotFound,
    /// A member, with too low a role: 403.
    Forbidden,
}

impl Person {
    /// The person's role on `site`: an owner's is admin everywhere; through
    /// a token, only on the token's sites.
    pub fn role_on(&self, site: &str) -> Option<Role> {
        if let Via::Token { sites, .. } = &self.via
            && !sites.iter().any(|s| s == site)
        {
            return None;
        }
        if self.user.owner {
            return Some(Role::Admin);
        }
        self.roles.iter().find(|(s, _)| s == site).map(|(_, r)| *r)
    }

    /// How the audit log names who did something.
    pub fn actor(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.user.email.clone(),
            Via::Token { name, .. } => format!("{} (token {name})", self.user.email),
        }
    }
}

impl Principal {
    /// Whether this principal may do `need` on `site`.
    pub fn allows(&self, site: &str, need: Need) -> Result<(), Denied> {
        match self {
            Principal::Machine { site: own } if own == site => {
                need.machine().then_some(()).ok_or(Denied::Forbidden)
            }
            Principal::Machine { .. } => Err(Denied::NotFound),
            Principal::Person(person) => match person.role_on(site) {
                None => Err(Denied::NotFound),
                Some(role) if role >= need.role() => Ok(()),
                Some(_) => Err(Denied::Forbidden),
            },
        }
    }

    pub fn actor(&self) -> String {
        match self {
            Principal::Person(p) => p.actor(),
            Principal::Machine { .. } => "token:export".into(),
        }
    }

    pub fn person(&self) -> Option<&Person> {
        match self {
            Principal::Person(p) => Some(p),
            Principal::Machine { .. } => None,
        }
    }
}

/// The audit lines of something done to a token (`token_created`,
/// `token_revoked`): one per site it acts on, so that each site's admins see it.
pub fn token_audit(
    actor: &str,
    action: &str,
    name: &str,
    sites: &[String],
    client: Option<String>,
) -> Vec<AuditEntry> {
    let detail = serde_json::json!({ "name": name, "sites": sites });
    sites
        .iter()
        .map(|site| audit_entry(Some(site), actor, action, detail.clone(), client.clone()))
        .collect()
}

/// How long a set-password link opens.
pub const LINK_LIFE: Duration = Duration::from_secs(72 * 3600);

/// A fresh set-password link's token, and what is stored of it: its hash
/// and its expiry.
pub fn new_link(now: i64) -> (String, String, i64) {
    let token = secret::random();
    let life = i64::try_from(LINK_LIFE.as_millis()).unwrap_or(i64::MAX);
    let hash = secret::digest(&token);
    (token, hash, now.saturating_add(life))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(owner: bool, roles: &[(&str, Role)], via: Via) -> Principal {
        Principal::Person(Person {
            user: User {
                id: 1,
                email: "ana@shop.example".into(),
                name: "Ana".into(),
                password_hash: None,
                owner,
                active: true,
                created_at: 0,
            },
            roles: roles.iter().map(|(s, r)| (s.to_string(), *r)).collect(),
            via,
        })
    }

    #[test]
    fn roles_open_what_they_should_on_their_own_sites_only() {
        let session = Via::Session {
            id_hash: "h".into(),
        };
        let viewer = person(false, &[("shop", Role::Viewer)], session.clone());
        assert_eq!(viewer.allows("shop", Need::Read), Ok(()));
        assert_eq!(viewer.allows("shop", Need::Work), Err(Denied::Forbidden));
        assert_eq!(viewer.allows("shop", Need::Export), Err(Denied::Forbidden));
        assert_eq!(viewer.allows("blog", Need::Read), Err(Denied::NotFound));
        let agent = person(
            false,
            &[("shop", Role::Agent), ("blog", Role::Admin)],
            session.clone(),
        );
        assert_eq!(agent.allows("shop", Need::Work), Ok(()));
        assert_eq!(agent.allows("shop", Need::Admin), Err(Denied::Forbidden));
        assert_eq!(agent.allows("blog", Need::Admin), Ok(()));
        let owner = person(true, &[], session);
        assert_eq!(owner.allows("anything", Need::Admin), Ok(()));
    }

    #[test]
    fn a_persons_debug_output_holds_no_password_hash() {
        let Principal::Person(mut p) = person(
            false,
            &[],
            Via::Session {
                id_hash: "h".into(),
            },
        ) else {
            unreachable!()
        };
        p.user.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$salt$hash".into());
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("argon2") && shown.contains("<set>"),
            "{shown}"
        );
    }

    #[test]
    fn a_token_acts_on_its_sites_with_its_creators_role() {
        let via = Via::Token {
            id: 1,
            name: "ci".into(),
            sites: vec!["shop".into()],
        };
        let token = person(false, &[("shop", Role::Admin), ("blog", Role::Admin)], via);
        assert_eq!(token.allows("shop", Need::Export), Ok(()));
        assert_eq!(token.allows("blog", Need::Read), Err(Denied::NotFound));
        let machine = Principal::Machine {
            site: "shop".into(),
        };
        assert_eq!(machine.allows("shop", Need::Export), Ok(()));
        assert_eq!(machine.allows("shop", Need::Report), Ok(()));
        assert_eq!(machine.allows("shop", Need::Read), Err(Denied::Forbidden));
        assert_eq!(machine.allows("blog", Need::Report), Err(Denied::NotFound));
    }
}
