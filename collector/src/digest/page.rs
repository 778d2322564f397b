//! `GET /dashboard/{site}/weekly?week=2026-W48`: the weekly digest as a
//! printable page, for the site's members (the latest week due without
//! `week`), under the pages' CSP, in English or Spanish.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Kind, Period, build, due, render};
use crate::http::AppState;
use crate::people::web::{self, page};
use crate::people::{Caller, Need};

/// The digest's page.
pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard/{site}/weekly", get(weekly))
}

#[derive(Deserialize)]
struct WeekQuery {
    #[serde(default)]
    week: String,
}

async fn weekly(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site_key): Path<String>,
    Query(q): Query<WeekQuery>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let t = crate::people::text_for(&headers);
    let site = match caller.access(&state, &site_key, Need::Read) {
        Ok(site) => site,
        Err(refusal) => return web::refused(t, caller.person(), refusal, &uri),
    };
    let Some(person) = caller.person() else {
        return web::sign_in_first(&uri);
    };
    let now = crate::people::now_millis();
    let period = if q.week.is_empty() {
        due(Kind::Weekly, site.digest, &site.time_zone, now).map(|(p, _)| p)
    } else {
        Period::parse_week(&q.week)
    };
    let Some(period) = period else {
        let html = crate::people::pages::message(
            t,
            "week",
            Some(person),
            &format!("`{}` is not a week: 2026-W48", q.week),
        );
        return page(StatusCode::BAD_REQUEST, html);
    };
    let settings = state.settings();
    let digest = match build(state.store(), site, period, &settings.link_base, now).await {
        Ok(digest) => digest,
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let w = render::words(t.lang);
    let nav = crate::people::pages::nav(t, person);
    let previous = period.previous().label();
    let body = format!(
        "{nav}\n<main class=\"digest\">\n{}<p class=\"muted\"><a href=\"/dashboard/{site}/weekly?week={previous}\">← {previous}</a></p>\n</main>",
        render::html(w, &digest),
        site = crate::dashboard::esc(&site.key),
    );
    page(
        StatusCode::OK,
        crate::dashboard::document(w.lang, &render::subject(w, &digest), &body),
    )
}
