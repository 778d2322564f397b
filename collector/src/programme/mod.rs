//! The NPS programme: how a team runs NPS over time rather than counting
//! answers. Displays (`POST /v1/displays`, for the response rate), surveys
//! asked in waves (`waves`), the thank-you that says when the team will be
//! in touch (`thanks.rs`), the trend alert of waves (`alerts.rs`); a change between two periods and whether it is
//! real lives with the report (`report::change`).

pub mod alerts;
pub mod displays;
pub mod thanks;
pub mod waves;

use axum::Router;
use axum::routing::post;

use crate::http::AppState;

pub use waves::{Schedule, Wave};

/// The programme's browser API, behind the browser layers (CORS, the
/// per-address limit).
pub fn browser_router() -> Router<AppState> {
    Router::new().route("/v1/displays", post(displays::post_display))
}
