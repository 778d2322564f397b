//! The demo shop: a small funnel (product → cart → checkout → done) on its own
//! origin, with the Pulso script tag in every page, like a real host site, and
//! beside it a single-page app (`/app/`, a plain JS router on pushState).
//! `pulso-shop` serves both; the end-to-end tests mount the same router.

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;

const LAYOUT: &str = include_str!("../shop/layout.html");
const APP: &str = include_str!("../app/index.html");
const APP_JS: &str = include_str!("../app/app.js");

/// The funnel's pages: path, step name, title, body.
const PAGES: [(&str, &str, &str, &str); 4] = [
    ("/", "product", "Mug", include_str!("../shop/product.html")),
    ("/cart", "cart", "Cart", include_str!("../shop/cart.html")),
    (
        "/checkout",
        "checkout",
        "Checkout",
        include_str!("../shop/checkout.html"),
    ),
    (
        "/done",
        "done",
        "Order placed",
        include_str!("../shop/done.html"),
    ),
];

/// Renders a page of the shop whose script tag points at `collector`, in a
/// document whose `lang` is `lang` (the card follows it).
pub fn render(collector: &str, lang: &str, step: &str, title: &str, body: &str) -> String {
    let mut page = LAYOUT
        .replace("{{COLLECTOR}}", collector)
        .replace("{{LANG}}", lang)
        .replace("{{TITLE}}", title)
        .replace("{{BODY}}", body);
    for (_, name, _, _) in PAGES {
        let marker = format!("{{{{STEP_{name}}}}}");
        let value = if name == step {
            "aria-current=\"step\""
        } else {
            ""
        };
        page = page.replace(&marker, value);
    }
    page
}

#[derive(serde::Deserialize)]
struct PageQuery {
    lang: Option<String>,
}

/// The shop as a router, its pages loading Pulso from `collector`
/// (e.g. `http://127.0.0.1:8080`). `?lang=es` marks a page as Spanish.
pub fn shop(collector: &str) -> Router {
    let collector = collector.trim_end_matches('/').to_owned();
    // Every path of the app serves its one document; the router draws the view.
    let app = Html(APP.replace("{{COLLECTOR}}", &collector));
    let pages = Router::new()
        .route(
            "/app",
            get(|| async { axum::response::Redirect::to("/app/") }),
        )
        .route(
            "/app/",
            get({
                let app = app.clone();
                move || async move { app }
            }),
        )
        .route("/app/{*view}", get(move || async move { app }))
        .route(
            "/app.js",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/javascript")],
                    APP_JS,
                )
            }),
        );
    PAGES
        .iter()
        .fold(pages, |router, (path, step, title, body)| {
            let collector = collector.clone();
            router.route(
                path,
                get(move |Query(q): Query<PageQuery>| async move {
                    let lang = match q.lang.as_deref() {
                        Some("es") => "es",
                        _ => "en",
                    };
                    Html(render(&collector, lang, step, title, body))
                }),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_carries_the_script_tag_and_its_step() {
        for (_, step, title, body) in PAGES {
            let page = render("http://collector.test", "en", step, title, body);
            assert!(page.contains(
                r#"<script async src="http://collector.test/pulso.js" data-site="shop"></script>"#
            ));
            assert!(!page.contains("{{"), "unfilled placeholder in {step}");
            assert_eq!(page.matches("aria-current=\"step\"").count(), 1);
        }
    }

    #[test]
    fn only_the_last_step_tracks_checkout_done() {
        let tracking: Vec<_> = PAGES
            .iter()
            .filter(|(_, _, _, body)| body.contains("'checkout_done'"))
            .map(|(path, ..)| *path)
            .collect();
        assert_eq!(tracking, ["/done"]);
    }
}
