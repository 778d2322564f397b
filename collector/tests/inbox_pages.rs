//! The inbox's pages as a browser without JavaScript uses them: the list
//! with its views, counts and filters, bulk actions on the selected rows,
//! an answer's work form (its version held: a stale form gets 409 and the
//! current state), notes, a reply from a saved one, tags, unread marks; in
//! English and Spanish, under the page policy. On SQLite, and on
//! PostgreSQL when `PULSO_TEST_POSTGRES` names a server.

mod common;

use common::app::*;
use serde_json::json;

const INBOX: &str = r#"
[sites.shop.inbox]
resolutions = ["refunded", "explained"]

[[sites.shop.inbox.replies]]
id = "courier"
locale = "es"
title = "Cambio de mensajería"
text = "Cambiamos de mensajería: gracias por decírnoslo."
"#;

fn id(n: u32) -> String {
    format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}")
}

async fn seeded() -> (App, Member, String) {
    let app = spawn_app_edited(|t| t + INBOX).await;
    for (n, score, text) in [
        (1, 2, "Mi pedido llegó tarde <b>y roto</b>"),
        (2, 9, "Todo bien"),
        (3, 4, "Caro"),
    ] {
        let mut a = answer();
        a["id"] = json!(id(n));
        a["respondent"] = json!(format!("r-{n}"));
        a["score"] = json!(score);
        a["locale"] = json!("es");
        a["follow_up"] = json!({"kind": "open", "text": text});
        assert_eq!(app.post(&a).await.0, 200);
    }
    let agent = app
        .member("agent@shop.test", false, &[("shop", "agent")])
        .await;
    let cookie = app.sign_in(&agent.email, PASSWORD).await;
    (app, agent, cookie)
}

async fn get(app: &App, cookie: &str, path: &str, lang: &str) -> (u16, String) {
    let response = no_redirects()
        .get(format!("{}{path}", app.url))
        .header("cookie", cookie)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let policy = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let html = response.text().await.unwrap();
    if status == 200 {
        assert!(policy.starts_with("default-src 'none'"), "{path}: {policy}");
        assert!(
            !html.contains("<script") && !html.contains(" style="),
            "{path}"
        );
    }
    (status, html)
}

async fn post(
    app: &App,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let response = own_page(no_redirects().post(format!("{}{path}", app.url)), cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, response.text().await.unwrap(), location)
}

/// The list: views, counts, filters; every respondent text escaped; unread
/// marks until opened; bulk actions on the selected rows.
#[tokio::test]
async fn the_list_page_filters_and_acts_on_the_selected() {
    let (app, _, cookie) = seeded().await;
    let (status, html) = get(&app, &cookie, "/dashboard/shop/answers", "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("Unassigned detractors"), "{html}");
    assert!(html.contains("&lt;b&gt;y roto&lt;/b&gt;"), "escaped");
    assert_eq!(
        html.matches("class=\"unread").count(),
        3,
        "nothing opened yet"
    );
    assert!(html.contains("name=\"ids\""), "an agent gets the bulk form");
    let (_, html) = get(
        &app,
        &cookie,
        "/dashboard/shop/answers?class=detractor&q=llego",
        "en",
    )
    .await;
    assert!(
        html.contains(&id(1)) && !html.contains(&id(3)),
        "filters and search"
    );
    let (status, _) = get(&app, &cookie, "/dashboard/shop/answers?class=angry", "en").await;
    assert_eq!(status, 400);

    let (status, html, _) = post(
        &app,
        &cookie,
        "/dashboard/shop/answers/bulk",
        &[
            ("ids", &id(1)),
            ("ids", &id(3)),
            ("action", "me"),
            ("tag", ""),
            ("back", "class=detractor"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("2 answers changed."), "{html}");
    let (_, html, _) = post(
        &app,
        &cookie,
        "/dashboard/shop/answers/bulk",
        &[
            ("ids", &id(1)),
            ("action", "tag"),
            ("tag", "mensajería"),
            ("back", ""),
        ],
    )
    .await;
    assert!(html.contains("1 answers changed."), "{html}");
    let (_, html) = get(
        &app,
        &cookie,
        "/dashboard/shop/answers?owner=me&tag=Mensajer%C3%ADa",
        "es",
    )
    .await;
    assert!(
        html.contains("lang=\"es\"") && html.contains("Bandeja"),
        "Spanish"
    );
    assert!(html.contains(&id(1)) && !html.contains(&id(3)), "{html}");
    let (_, html, _) = post(
        &app,
        &cookie,
        "/dashboard/shop/answers/bulk",
        &[("action", "me"), ("back", "")],
    )
    .await;
    assert!(html.contains("Select answers first."));

    // A viewer reads, without the bulk form.
    let viewer = app
        .member("viewer@shop.test", false, &[("shop", "viewer")])
        .await;
    let viewer_cookie = app.sign_in(&viewer.email, PASSWORD).await;
    let (status, html) = get(&app, &viewer_cookie, "/dashboard/shop/answers", "en").await;
    assert_eq!(status, 200);
    assert!(!html.contains("name=\"ids\""));
    let (status, _, _) = post(
        &app,
        &viewer_cookie,
        "/dashboard/shop/answers/bulk",
        &[("ids", &id(1)), ("action", "me")],
    )
    .await;
    assert_eq!(status, 403);
}

/// An answer's page: its work form held to its version, a note, a reply
/// started from a saved one, unread again; the tags page.
#[tokio::test]
async fn the_answer_page_works_an_answer() {
    let (app, _, cookie) = seeded().await;
    let path = format!("/dashboard/shop/answers/{}", id(1));
    let (status, html) = get(&app, &cookie, &path, "es").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Trabajarla") && html.contains("name=\"version\" value=\"1\""),
        "{html}"
    );
    assert!(
        html.contains("Cambio de mensajería"),
        "the saved replies of the answer's locale"
    );
    let (_, list) = get(&app, &cookie, "/dashboard/shop/answers", "en").await;
    assert_eq!(list.matches("class=\"unread").count(), 2, "opened: read");

    let (status, _, location) = post(
        &app,
        &cookie,
        &path,
        &[
            ("version", "1"),
            ("status", "resolved"),
            ("resolution", "refunded"),
            ("owner", "agent@shop.test"),
            ("tags", "Envío, caro"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        location.as_deref(),
        Some(format!("{path}?done=saved").as_str())
    );
    // The same form again, from a tab still at version 1.
    let (status, html, _) = post(
        &app,
        &cookie,
        &path,
        &[
            ("version", "1"),
            ("status", "open"),
            ("owner", ""),
            ("tags", ""),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert!(html.contains("Someone changed this answer"), "{html}");
    assert!(
        html.contains("name=\"version\" value=\"2\""),
        "the current state, to act on"
    );

    let (status, _, _) = post(
        &app,
        &cookie,
        &format!("{path}/notes"),
        &[("text", "Llamé: era el mensajero")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &cookie, &format!("{path}?template=courier"), "es").await;
    assert!(
        html.contains(">Cambiamos de mensajería: gracias por decírnoslo.</textarea>"),
        "{html}"
    );
    let (status, _, location) = post(
        &app,
        &cookie,
        &format!("{path}/replies"),
        &[("text", "Cambiamos de mensajería: gracias por decírnoslo.")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &cookie, location.as_deref().unwrap(), "en").await;
    assert!(
        html.contains("The reply waits for the respondent"),
        "{html}"
    );
    for said in ["Llamé: era el mensajero", "Envío", "refunded", "replied"] {
        assert!(html.contains(said), "{said} in the page");
    }
    let (status, _, _) = post(&app, &cookie, &format!("{path}/notes"), &[("text", "")]).await;
    assert_eq!(status, 422);
    let (status, _, location) = post(&app, &cookie, &format!("{path}/unread"), &[]).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/dashboard/shop/answers"))
    );

    let (status, html) = get(&app, &cookie, "/dashboard/shop/tags", "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("Envío") && html.contains("caro"), "{html}");
    let tags = app.store.site_tags("shop").await.unwrap();
    let envio = tags
        .iter()
        .find(|t| t.name == "Envío")
        .unwrap()
        .id
        .to_string();
    let (status, html, _) = post(
        &app,
        &cookie,
        "/dashboard/shop/tags",
        &[("action", "rename"), ("tag", &envio), ("name", "caro")],
    )
    .await;
    assert_eq!(status, 409, "a name another tag has");
    assert!(html.contains("merge them"));
    let (status, _, _) = post(
        &app,
        &cookie,
        "/dashboard/shop/tags",
        &[("action", "delete"), ("tag", &envio)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.store.site_tags("shop").await.unwrap().len(), 1);
    let (status, _) = get(
        &app,
        &cookie,
        &format!("/dashboard/shop/answers/{}", id(99)),
        "en",
    )
    .await;
    assert_eq!(status, 404);
}
