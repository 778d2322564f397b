//! `/openapi.json`: the HTTP API described from the code (utoipa): the shared
//! model's wire types, the handlers' paths, and the bodies they answer with.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The body of every error.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable, machine-readable (`score_out_of_range`, `rate_limited`, ...).
    pub code: String,
    pub message: String,
    /// The field, parameter or header at fault, when there is one.
    pub field: Option<String>,
}

/// A change refused because the answer changed meanwhile (409): the error,
/// and the answer as it is now (its `version` the one to send next).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    pub error: ErrorDetail,
    #[schema(value_type = Object)]
    pub current: serde_json::Value,
}

/// What `POST /v1/responses` answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stored {
    pub id: String,
    pub rev: u32,
    /// `false` when the same or a newer revision was already stored.
    pub stored: bool,
    /// What the page passed in that was not stored (`step`, `page`,
    /// `user_id`, `props.KEY`): the answer was stored without it. Absent
    /// when nothing was dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub answered: bool,
}

/// What `GET /v1/sites/{site}/webhooks` answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    pub webhooks: Vec<crate::webhooks::WebhookStatus>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A person's API token (`pulso_…`, made on the account page: the person's role on the \
             token's sites), or a site's `export_token` (a read-only machine token: export and \
             report of that site only)."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-pulso_session",
                "A signed-in browser's session (`pulso_session` on a plain-http loopback demo). \
                 State-changing requests with it must come from the collector's own pages \
                 (Sec-Fetch-Site / Origin).",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Pulso collector", description = "Self-hosted NPS surveys: answers in, exports and reports out."),
    paths(
        super::ingest::post_response,
        crate::programme::displays::post_display,
        super::site_config,
        super::history::history,
        super::export::export,
        super::export::report,
        super::export::webhooks,
        crate::privacy::erase,
        crate::people::audit::site_api,
        crate::people::audit::instance_api,
        crate::inbox::api::list,
        crate::inbox::api::answer,
        crate::inbox::api::change,
        crate::inbox::api::note,
        crate::inbox::api::reply,
        crate::inbox::tags::tags,
        crate::inbox::tags::rename_tag,
        crate::inbox::tags::merge_tag,
        crate::inbox::tags::delete_tag,
        crate::inbox::respondent::waiting,
        crate::inbox::respondent::seen,
        super::metrics,
        super::healthz,
        super::readyz,
        openapi_json,
    ),
    components(schemas(
        survey::Answer, survey::FollowUp, survey::Prop, survey::ClientConfig, survey::Survey,
        survey::Texts, survey::Band, survey::Reason, crate::export::JsonRow,
        crate::report::Report, crate::report::Stats, crate::report::Share,
        crate::report::BandReasons, crate::report::ReasonCount, crate::report::OtherText,
        ErrorBody, ErrorDetail, Stored, Status, History, super::history::Lookup, crate::privacy::EraseRequest, crate::store::Erased, Webhooks, crate::webhooks::WebhookStatus,
        crate::webhooks::Format, crate::webhooks::Answers, crate::store::HookState,
        crate::store::EventRow, crate::people::AuditLine, crate::people::AuditPage,
        crate::inbox::Status, crate::inbox::view::InboxList, crate::inbox::view::InboxItem,
        crate::inbox::view::AnswerView, crate::inbox::view::TimelineItem,
        crate::inbox::view::Activity, crate::inbox::view::Tags, crate::inbox::view::Tag,
        crate::inbox::query::ChangeBody, crate::inbox::api::TextBody,
        crate::inbox::api::ReplyMade, crate::inbox::tags::RenameBody,
        crate::inbox::tags::MergeBody, crate::inbox::respondent::Replies,
        crate::inbox::respondent::Reply, Conflict, crate::inbox::times::ResponseTimes,
        crate::inbox::times::Times, crate::inbox::times::Durations,
        crate::programme::displays::DisplayPost, crate::programme::displays::Event,
        crate::programme::displays::DisplayStored, crate::report::Change,
        crate::report::WaveStats, survey::Waves, survey::Thanks, survey::Cta,
        crate::report::CtaStats,
    )),
    modifiers(&Security)
)]
pub struct ApiDoc;

/// The document as the code describes it; [`super::schema::document`] adds
/// every rule the collector enforces.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This document, with the rules of this collector's configuration.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "The OpenAPI document")))]
pub async fn openapi_json(
    axum::extract::State(state): axum::extract::State<super::AppState>,
) -> Json<serde_json::Value> {
    Json(super::schema::document(state.settings()))
}
