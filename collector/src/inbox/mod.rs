//! The answer inbox: where the team works every answer. Each answer has a
//! workflow status (`new → open → waiting → resolved`, or `dismissed` for
//! spam and tests, the only one that leaves the NPS), an owner (a member who
//! may work on answers), tags, notes and replies, and a version that keeps two
//! agents from overwriting each other. Replies reach the respondent on the
//! site itself, through the loader.
//!
//! `settings.rs` is the site's `[inbox]` (deadlines, resolutions, assignment
//! rules, saved replies); `query.rs` reads the filters, cursors and changes
//! people send; `api.rs` the JSON endpoints, `pages.rs` and `text.rs` the
//! pages in English and Spanish, `respondent.rs` what the loader asks
//! (waiting replies), `work.rs` what a change records (activity, audit,
//! webhook events) and the deadline watch.

pub(crate) mod api;
mod html;
mod pages;
pub mod query;
pub(crate) mod respondent;
mod settings;
pub(crate) mod tags;
mod text;
pub mod times;
pub(crate) mod view;
pub mod work;

use axum::Router;
use axum::routing::{get, post};

pub use respondent::ReplyKeys;
pub use settings::{
    InboxSettings, Owner, RawInbox, Rule, SavedReply, Seen, check as check_settings,
};

use crate::http::AppState;

/// An answer's place in the team's work.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[schema(as = AnswerStatus)]
pub enum Status {
    /// Nobody has acted on it yet.
    New,
    /// Someone works on it.
    Open,
    /// The customer was contacted; the team waits for them.
    Waiting,
    Resolved,
    /// Spam or a test: left out of the NPS, reports and exports.
    Dismissed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Open,
        Status::Waiting,
        Status::Resolved,
        Status::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Waiting => "waiting",
            Status::Resolved => "resolved",
            Status::Dismissed => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The inbox's pages and endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/answers", get(api::list))
        .route(
            "/v1/sites/{site}/answers/{id}",
            get(api::answer).patch(api::change),
        )
        .route("/v1/sites/{site}/answers/{id}/notes", post(api::note))
        .route("/v1/sites/{site}/answers/{id}/replies", post(api::reply))
        .route("/v1/sites/{site}/tags", get(self::tags::tags))
        .route(
            "/v1/sites/{site}/tags/{tag}",
            axum::routing::patch(tags::rename_tag).delete(tags::delete_tag),
        )
        .route("/v1/sites/{site}/tags/{tag}/merge", post(tags::merge_tag))
        .route("/dashboard/{site}/answers", get(pages::inbox))
        .route("/dashboard/{site}/answers/bulk", post(pages::bulk))
        .route(
            "/dashboard/{site}/answers/{id}",
            get(pages::answer).post(pages::change),
        )
        .route("/dashboard/{site}/answers/{id}/notes", post(pages::note))
        .route("/dashboard/{site}/answers/{id}/replies", post(pages::reply))
        .route("/dashboard/{site}/answers/{id}/unread", post(pages::unread))
        .route(
            "/dashboard/{site}/tags",
            get(pages::tags).post(pages::tag_action_form),
        )
}

/// What the sites' pages ask for (CORS, rate limits): the replies that wait
/// for a respondent, and that one was seen.
pub fn browser_router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/replies", post(respondent::waiting))
        .route("/v1/sites/{site}/replies/{id}/seen", post(respondent::seen))
}
