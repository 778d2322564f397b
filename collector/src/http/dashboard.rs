//! `GET /dashboard/{site}`: the report as a page, for the site's members
//! (signed in; see `people`). Admins see the exports and the links to the
//! members and the audit log; viewers and agents do not.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::dashboard::{self, Shown, Viewer};
use crate::export::Params;
use crate::people::web::{self, page};
use crate::people::{Caller, Need};

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    tz: String,
    #[serde(default)]
    survey: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    prop: String,
    #[serde(default, rename = "trait")]
    traits: String,
}

pub async fn show(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site_key): Path<String>,
    Query(q): Query<PageQuery>,
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
    let params = Params {
        from: Some(q.from.clone()),
        to: Some(q.to.clone()),
        tz: Some(q.tz.clone()),
        survey: Some(q.survey.clone()),
        step: Some(q.step.clone()),
        by: Some(q.by.clone()),
        prop: Some(q.prop.clone()),
        traits: Some(q.traits.clone()),
        ..Params::default()
    };
    let (filter, tz, by) = match params.parse() {
        Ok(asked) => (asked.filter, asked.tz, asked.by),
        Err((field, message)) => {
            let html = crate::people::pages::message(t, field, Some(person), &message);
            return page(StatusCode::BAD_REQUEST, html);
        }
    };
    let mut report = match crate::report::report(state.store(), site, &filter, &tz).await {
        Ok(report) => report,
        Err(_) => return web::unavailable(t, Some(person)),
    };
    if let Some((of, key)) = by {
        match crate::report::segments(state.store(), &site.key, &filter, of, &key).await {
            Ok(segments) => report.segments = Some(segments),
            Err(_) => return web::unavailable(t, Some(person)),
        }
    }
    // What a segment can be: the site's kept traits, and the props its
    // surveys target on.
    let mut segment_keys: Vec<String> = site
        .keep_traits
        .iter()
        .map(|k| format!("trait:{k}"))
        .chain(
            site.surveys
                .iter()
                .flat_map(|s| s.when.iter().filter_map(|c| c.prop.clone()))
                .map(|k| format!("prop:{k}")),
        )
        .collect();
    segment_keys.dedup();
    let surveys: Vec<String> = site.surveys.iter().map(|s| s.id.clone()).collect();
    let mut steps: Vec<String> = site
        .surveys
        .iter()
        .flat_map(|s| s.steps.iter().cloned())
        .chain(report.by_step.keys().filter(|k| !k.is_empty()).cloned())
        .collect();
    steps.sort();
    steps.dedup();
    let shown = Shown {
        from: q.from,
        to: q.to,
        tz: q.tz,
        survey: q.survey,
        step: q.step,
        by: q.by,
        prop: q.prop,
        traits: q.traits,
        segment_keys,
    };
    let hooks = match crate::webhooks::statuses(state.store(), &site.webhooks, None, 0).await {
        Ok(hooks) => hooks,
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let now = crate::people::now_millis();
    let cutoffs = crate::inbox::query::overdue_cutoffs(site, now);
    let inbox = match state
        .store()
        .inbox_counts(&site.key, &crate::store::InboxFilter::default(), &cutoffs)
        .await
    {
        Ok((counts, overdue)) => {
            let n = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            [n("new"), n("open"), n("waiting"), overdue]
        }
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let principal = caller.principal.as_ref();
    let may = |need| principal.is_some_and(|p| p.allows(&site.key, need).is_ok());
    let nav = crate::people::pages::nav(t, person);
    let viewer = Viewer {
        nav: &nav,
        export: may(Need::Export),
        admin: may(Need::Admin),
        words: dashboard::for_lang(t.lang),
        inbox,
    };
    page(
        StatusCode::OK,
        dashboard::render(&report, &shown, &surveys, &steps, &hooks, &viewer),
    )
}

pub async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        dashboard::stylesheet(),
    )
        .into_response()
}
