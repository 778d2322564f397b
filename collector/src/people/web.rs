//! What every page handler shares: the answer as a page under the strict
//! policy, the form of a POST, redirects, and the refusals a page shows
//! (sign in first, no such page, not for your role, wait a while).

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use super::auth::Refusal;
use super::text::Text;
use super::{Denied, Person, pages};

/// Pages may load their own stylesheet and submit their own forms; nothing
/// else: no script, no inline style, no frame, no other origin.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                               frame-ancestors 'none'; base-uri 'none'";

/// `html` as a page: under [`PAGE_POLICY`], never cached (it may show a
/// token, a link or someone's answers).
pub fn page(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Html(html),
    )
        .into_response()
}

/// 303 to `location` (a path of the collector's own).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Adds `Retry-After` for a lock-out of `wait`.
pub fn retry_after(mut response: Response, wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// Where to go after signing in: a path of the collector's own, else the
/// list of sites (never another host: `//evil`, `/\evil` and `https:` are
/// refused).
pub fn safe_next(next: &str) -> &str {
    let own = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if own { next } else { "/dashboard" }
}

/// `/signin?next=...` for the page `uri`.
pub fn sign_in_first(uri: &Uri) -> Response {
    let here = uri.path_and_query().map_or("/dashboard", |p| p.as_str());
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    see_other(&format!("/signin?next={next}"))
}

/// How a page answers a refusal: sign in first (303), no such page (404),
/// not for your role (403), wait (429).
pub fn refused(t: &Text, person: Option<&Person>, refusal: Refusal, uri: &Uri) -> Response {
    match refusal {
        Refusal::Denied(Denied::Anonymous) => sign_in_first(uri),
        Refusal::Denied(Denied::NotFound) => not_found(t, person),
        Refusal::Denied(Denied::Forbidden) => page(
            StatusCode::FORBIDDEN,
            pages::message(t, t.forbidden_title, person, t.forbidden),
        ),
        Refusal::Locked(wait) => retry_after(
            page(
                StatusCode::TOO_MANY_REQUESTS,
                pages::message(t, t.locked_title, person, t.locked),
            ),
            wait,
        ),
    }
}

pub fn not_found(t: &Text, person: Option<&Person>) -> Response {
    page(
        StatusCode::NOT_FOUND,
        pages::message(t, t.not_found_title, person, t.not_found),
    )
}

/// A page for a store that does not answer (503): the form may be sent again.
pub fn unavailable(t: &Text, person: Option<&Person>) -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        pages::message(t, t.unavailable_title, person, t.unavailable),
    )
}

/// A submitted form (`application/x-www-form-urlencoded`), its fields in
/// order; a field may repeat (the sites of a token).
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// An email as accounts keep it: trimmed, lower case.
pub fn normal_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `email` looks like one (something@domain.tld, no spaces), and is
/// not too long (RFC 5321: 254).
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !domain.contains('@')
}

/// Whether the request's `Host` is this machine (`localhost`, 127.0.0.0/8,
/// `[::1]`): where a session cookie may go without `Secure`.
pub fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_own_paths_are_followed() {
        assert_eq!(
            safe_next("/dashboard/shop?from=2026-01-01"),
            "/dashboard/shop?from=2026-01-01"
        );
        for foreign in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "javascript:x",
            "/\nx",
        ] {
            assert_eq!(safe_next(foreign), "/dashboard", "{foreign:?}");
        }
    }

    #[test]
    fn forms_keep_repeated_fields_and_decode_them() {
        let form = FormData::parse(b"name=CI+job&sites=shop&sites=blog&x=%C3%B1");
        assert_eq!(form.get("name"), "CI job");
        assert_eq!(form.all("sites"), ["shop", "blog"]);
        assert_eq!(form.get("x"), "ñ");
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn emails_are_checked_loosely_and_kept_in_lower_case() {
        assert!(is_email("ana@shop.example"));
        assert!(!is_email("ana"));
        assert!(!is_email("ana@shop"));
        assert!(!is_email("a b@shop.example"));
        assert!(!is_email("<a>@shop.example"));
        assert_eq!(normal_email("  Ana@Shop.Example "), "ana@shop.example");
    }

    #[test]
    fn only_this_machine_is_a_loopback_host() {
        let host = |h: &'static str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, HeaderValue::from_static(h));
            loopback_host(&m)
        };
        assert!(host("127.0.0.1:8080"));
        assert!(host("localhost"));
        assert!(host("[::1]:8080"));
        assert!(!host("pulso.example.com"));
        assert!(!host("10.0.0.2:8080"));
        assert!(!loopback_host(&HeaderMap::new()));
    }
}
