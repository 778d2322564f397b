//! Team access over real HTTP: who may do what on which site (a table of
//! role × endpoint × status, through API tokens and signed-in browsers),
//! sessions that end on the server (sign-out, idle and absolute limits, a
//! changed password, an admin's revocation), cross-site forgery refused, and
//! the dashboard a member sees. On SQLite, and on PostgreSQL when
//! `PULSO_TEST_POSTGRES` names a server (`cargo xtask test` does both).

mod common;

use collector::people::secret;
use collector::store::SessionRow;
use common::app::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

/// How a request proves who asks.
#[derive(Clone, Debug)]
enum As {
    Nobody,
    /// A site's `export_token`.
    Machine,
    /// A person's API token.
    Token(String),
    /// A signed-in browser's cookie (`name=value`), from the collector's pages.
    Browser(String),
}

impl As {
    fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            As::Nobody => request,
            As::Machine => request.bearer_auth(TOKEN),
            As::Token(t) => request.bearer_auth(t),
            As::Browser(c) => request
                .header("cookie", c)
                .header("sec-fetch-site", "same-origin"),
        }
    }
}

/// What the table asks of each caller, on site `shop`.
const ENDPOINTS: [(&str, &str); 9] = [
    ("GET", "/v1/sites/shop/report"),
    ("GET", "/v1/sites/shop/export?format=csv"),
    ("GET", "/v1/sites/shop/webhooks"),
    ("POST", "/v1/sites/shop/erase"),
    ("GET", "/v1/sites/shop/audit"),
    ("GET", "/v1/audit"),
    ("GET", "/dashboard/shop"),
    ("GET", "/dashboard/shop/members"),
    ("GET", "/dashboard/shop/audit"),
];

async fn status(app: &App, who: &As, method: &str, path: &str) -> (u16, String) {
    let http = no_redirects();
    let url = format!("{}{path}", app.url);
    let mut request = http.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
    if method == "POST" {
        request = request
            .header("content-type", "application/json")
            .body(r#"{"respondent":"nobody-at-all"}"#);
    }
    let response = who.apply(request).send().await.unwrap();
    let code = response.status().as_u16();
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap().starts_with("application/json"));
    let body = response.text().await.unwrap();
    if json && code >= 400 {
        let error: Value = serde_json::from_str(&body).unwrap();
        assert!(error["error"]["code"].is_string(), "{path}: {body}");
        return (code, error["error"]["code"].as_str().unwrap().to_owned());
    }
    (code, String::new())
}

/// Every role on every endpoint, through a token and through a browser:
/// 401 without credentials, 403 for a role too low, 404 for a site the
/// caller is no member of (the same as for a site that does not exist),
/// and the pages redirect the anonymous to sign in.
#[tokio::test]
async fn each_role_opens_what_it_should_and_nothing_more() {
    // Dead tokens are guesses, throttled per client: this test makes many.
    let app = spawn_app_with("[server.limits]\ntoken_failures_per_client = 1000").await;
    assert_eq!(app.post(&answer()).await.0, 200);
    let owner = app.member("owner@pulso.test", true, &[]).await;
    let admin = app.admin().await;
    let agent = app
        .member("agent@shop.test", false, &[("shop", "agent")])
        .await;
    let viewer = app
        .member("viewer@shop.test", false, &[("shop", "viewer")])
        .await;
    let stranger = app
        .member("admin@blog.test", false, &[("blog", "admin")])
        .await;

    // Expected status per endpoint, in the order of ENDPOINTS.
    let table: Vec<(&str, As, [u16; 9])> = vec![
        (
            "nobody",
            As::Nobody,
            [401, 401, 401, 401, 401, 401, 303, 303, 303],
        ),
        (
            "machine token",
            As::Machine,
            [200, 200, 403, 403, 403, 401, 403, 403, 403],
        ),
        (
            "viewer token",
            As::Token(viewer.token.clone()),
            [200, 403, 200, 403, 403, 403, 200, 403, 403],
        ),
        (
            "agent token",
            As::Token(agent.token.clone()),
            [200, 403, 200, 403, 403, 403, 200, 403, 403],
        ),
        (
            "admin token",
            As::Token(admin.token.clone()),
            [200, 200, 200, 200, 200, 403, 200, 200, 200],
        ),
        (
            "other site's admin token",
            As::Token(stranger.token.clone()),
            [404, 404, 404, 404, 404, 403, 404, 404, 404],
        ),
        (
            "owner token",
            As::Token(owner.token.clone()),
            [200, 200, 200, 200, 200, 403, 200, 200, 200],
        ),
        (
            "dead token",
            As::Token(secret::api_token()),
            [401, 401, 401, 401, 401, 401, 303, 303, 303],
        ),
    ];
    let mut rows = table;
    for (name, member) in [
        ("viewer browser", &viewer),
        ("agent browser", &agent),
        ("admin browser", &admin),
        ("other site's admin browser", &stranger),
        ("owner browser", &owner),
    ] {
        let cookie = app.sign_in(&member.email, &member.password).await;
        let expected = match name {
            "viewer browser" | "agent browser" => [200, 403, 200, 403, 403, 403, 200, 403, 403],
            "admin browser" => [200, 200, 200, 200, 200, 403, 200, 200, 200],
            "other site's admin browser" => [404, 404, 404, 404, 404, 403, 404, 404, 404],
            _ => [200; 9],
        };
        rows.push((name, As::Browser(cookie), expected));
    }
    let mut wrong = Vec::new();
    for (name, who, expected) in &rows {
        for ((method, path), want) in ENDPOINTS.iter().zip(expected) {
            let (got, code) = status(&app, who, method, path).await;
            if got != *want {
                wrong.push(format!(
                    "{name} {method} {path}: {got} {code}, expected {want}"
                ));
            }
            let named = match got {
                401 => code == "unauthorized",
                403 => code == "forbidden" || code.is_empty(),
                404 => code == "not_found" || code.is_empty(),
                _ => true,
            };
            assert!(named, "{name} {method} {path}: {got} with code {code:?}");
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // A site that does not exist answers as one the caller is not a member of.
    let (nope, _) = status(
        &app,
        &As::Token(admin.token.clone()),
        "GET",
        "/v1/sites/nope/report",
    )
    .await;
    assert_eq!(nope, 404);
}

/// The session cookie's attributes: HttpOnly, SameSite=Lax, the `__Host-`
/// prefix and `Secure` behind an https `public_url`; plain only to a browser
/// on this machine, and sign-in refused over plain http from elsewhere.
#[tokio::test]
async fn session_cookies_are_host_only_and_secure_behind_https() {
    let plain = spawn_app().await;
    let member = plain.admin().await;
    let response = no_redirects()
        .post(format!("{}/signin", plain.url))
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", member.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("pulso_session="), "{cookie}");
    for part in [
        "; Path=/",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Max-Age=604800",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 64, "256 random bits, hex");

    let remote = no_redirects()
        .post(format!("{}/signin", plain.url))
        .header("host", "pulso.example.com")
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", member.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        remote.status(),
        400,
        "a password over plain http to another host"
    );
    assert!(remote.headers().get("set-cookie").is_none());

    let https = spawn_app_with("public_url = \"https://pulso.example.com\"").await;
    let member = https.admin().await;
    let response = no_redirects()
        .post(format!("{}/signin", https.url))
        .header("origin", "https://pulso.example.com")
        .form(&[("email", member.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-pulso_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("; Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let page = https
        .http
        .get(format!("{}/dashboard/shop", https.url))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    // The plain name is not read behind https.
    let plain_name = pair.replace("__Host-pulso_session", "pulso_session");
    let report = https
        .http
        .get(format!("{}/v1/sites/shop/report", https.url))
        .header("cookie", plain_name)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 401);
}

async fn report_with(app: &App, cookie: &str) -> u16 {
    app.http
        .get(format!("{}/v1/sites/shop/report", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A session ends on the server: signing out, a changed password, an
/// admin's "sign out everywhere", the idle and the absolute limits. The old
/// cookie, replayed, gets 401.
#[tokio::test]
async fn ended_sessions_stay_ended_when_their_cookie_is_replayed() {
    let app = spawn_app_with("session_idle = \"1h\"\nsession_max = \"168h\"").await;
    let admin = app.admin().await;
    let agent = app
        .member("agent@shop.test", false, &[("shop", "agent")])
        .await;

    // Signing out.
    let cookie = app.sign_in(&admin.email, PASSWORD).await;
    assert_eq!(report_with(&app, &cookie).await, 200);
    let out = no_redirects()
        .post(format!("{}/signout", app.url))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        report_with(&app, &cookie).await,
        401,
        "replayed after sign-out"
    );

    // An admin signs the agent out everywhere.
    let agents = [
        app.sign_in(&agent.email, PASSWORD).await,
        app.sign_in(&agent.email, PASSWORD).await,
    ];
    assert_eq!(report_with(&app, &agents[0]).await, 200);
    let admin_cookie = app.sign_in(&admin.email, PASSWORD).await;
    let id = app
        .store
        .user_by_email(&agent.email)
        .await
        .unwrap()
        .unwrap()
        .id;
    let ended = no_redirects()
        .post(format!("{}/dashboard/shop/members/{id}/sessions", app.url))
        .header("cookie", &admin_cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 303);
    for cookie in &agents {
        assert_eq!(report_with(&app, cookie).await, 401, "revoked by an admin");
    }

    // A changed password ends every other session; this browser gets a new one.
    let other = app.sign_in(&admin.email, PASSWORD).await;
    let changed = no_redirects()
        .post(format!("{}/account/password", app.url))
        .header("cookie", &admin_cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("current", PASSWORD),
            ("password", "quartz-meadow-lantern-7"),
            ("repeat", "quartz-meadow-lantern-7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 303);
    let renewed = changed.headers()["set-cookie"].to_str().unwrap();
    let renewed = renewed.split(';').next().unwrap().to_owned();
    assert_eq!(
        report_with(&app, &other).await,
        401,
        "another browser, after the change"
    );
    assert_eq!(
        report_with(&app, &admin_cookie).await,
        401,
        "this browser's old cookie"
    );
    assert_eq!(
        report_with(&app, &renewed).await,
        200,
        "this browser's new cookie"
    );

    // Idle and absolute limits: sessions the clock has passed.
    let user = app
        .store
        .user_by_email(&admin.email)
        .await
        .unwrap()
        .unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    let open = |created: i64, used: i64, expires: i64| {
        let value = secret::random();
        let row = SessionRow {
            id_hash: secret::digest(&value),
            user_id: user.id,
            created_at: created,
            last_used_at: used,
            expires_at: expires,
            client: None,
        };
        (format!("pulso_session={value}"), row)
    };
    let hour = 3_600_000;
    for (what, (cookie, row), want) in [
        ("fresh", open(now - hour, now - 60_000, now + hour), 200),
        (
            "idle past 1h",
            open(now - 3 * hour, now - 2 * hour, now + hour),
            401,
        ),
        (
            "past its absolute limit",
            open(now - 8 * 24 * hour, now - 60_000, now - 1),
            401,
        ),
    ] {
        app.store.create_session(&row, &[]).await.unwrap();
        assert_eq!(report_with(&app, &cookie).await, want, "{what}");
    }
}

/// State-changing requests must come from the collector's own pages: the
/// sign-in form included, with or without a session; bearer-token scripts
/// are not a browser's doing; the sites' own posts of answers pass even when
/// the browser adds the collector's cookie.
#[tokio::test]
async fn forged_cross_site_requests_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let cookie = app.sign_in(&admin.email, PASSWORD).await;
    let http = no_redirects();
    let forged = [
        ("POST", "/signin", None, Some("http://evil.test"), None),
        ("POST", "/signin", None, None, Some("cross-site")),
        ("POST", "/signin", None, None, None),
        (
            "POST",
            "/signout",
            Some(&cookie),
            Some("http://evil.test"),
            None,
        ),
        (
            "POST",
            "/account/tokens",
            Some(&cookie),
            None,
            Some("same-site"),
        ),
        (
            "POST",
            "/dashboard/shop/members",
            Some(&cookie),
            Some("http://evil.test"),
            None,
        ),
        (
            "POST",
            "/v1/sites/shop/erase",
            Some(&cookie),
            Some("http://evil.test"),
            Some("cross-site"),
        ),
    ];
    for (method, path, cookie, origin, fetch_site) in forged {
        let mut request = http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.url),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "email={}&password={PASSWORD}&name=x&sites=shop",
                admin.email
            ));
        if let Some(c) = cookie {
            request = request.header("cookie", c.as_str());
        }
        if let Some(o) = origin {
            request = request.header("origin", o);
        }
        if let Some(f) = fetch_site {
            request = request.header("sec-fetch-site", f);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            403,
            "{method} {path} {origin:?} {fetch_site:?}"
        );
        assert!(response.headers().get("set-cookie").is_none());
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "cross_site_request");
        assert_eq!(error["error"]["field"], "origin");
    }
    // Nothing was changed: the session lives, no token was made.
    assert_eq!(report_with(&app, &cookie).await, 200);
    let user = app
        .store
        .user_by_email(&admin.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.store.tokens_of(user.id).await.unwrap().len(),
        1,
        "only the test's own"
    );

    // The collector's own origin passes, as does a script's bearer token.
    let own = http
        .post(format!("{}/signin", app.url))
        .header("origin", &app.url)
        .form(&[("email", admin.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 303);
    let script = http
        .post(format!("{}/v1/sites/shop/erase", app.url))
        .bearer_auth(&admin.token)
        .json(&json!({"respondent": "nobody-at-all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    // A respondent who is also signed in to the dashboard still answers.
    let answer = http
        .post(format!("{}/v1/responses", app.url))
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .json(&answer())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// The dashboard for a signed-in member: under the strict policy, every
/// respondent's text escaped; exports and the admin's links only for admins.
#[tokio::test]
async fn the_dashboard_shows_a_member_their_site_and_escapes_every_text() {
    let app = spawn_app().await;
    let mut hostile = closed(2, &["other"], Some("<script>alert('x')</script>"));
    hostile["id"] = json!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a41");
    assert_eq!(app.post(&hostile).await.0, 200);
    let admin = app.admin().await;
    let viewer = app
        .member("viewer@shop.test", false, &[("shop", "viewer")])
        .await;

    let anonymous = no_redirects()
        .get(format!("{}/dashboard/shop?from=2026-01-01", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        anonymous.headers()["location"],
        "/signin?next=%2Fdashboard%2Fshop%3Ffrom%3D2026-01-01"
    );

    let page = |cookie: String| {
        let http = app.http.clone();
        let url = format!("{}/dashboard/shop", app.url);
        async move {
            let response = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let policy = response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                policy.starts_with("default-src 'none'; style-src 'self'"),
                "{policy}"
            );
            assert_eq!(response.headers()["cache-control"], "no-store");
            response.text().await.unwrap()
        }
    };
    let html = page(app.sign_in(&admin.email, PASSWORD).await).await;
    assert!(
        html.contains("<svg") && html.contains("Scores 0–10"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        !html.contains("<script"),
        "an unescaped text or a script reached the page"
    );
    assert!(
        !html.contains(" style="),
        "no inline style under the policy"
    );
    assert!(
        html.contains("/v1/sites/shop/export?format=csv"),
        "an admin exports"
    );
    assert!(html.contains("/dashboard/shop/members"));
    assert!(html.contains("action=\"/signout\""));

    let html = page(app.sign_in(&viewer.email, PASSWORD).await).await;
    assert!(html.contains("<svg"), "a viewer reads the report");
    assert!(!html.contains("/export"), "a viewer sees no export");
    assert!(!html.contains("/members"), "nor the members");

    let sites = app
        .http
        .get(format!("{}/dashboard", app.url))
        .header("cookie", app.sign_in(&viewer.email, PASSWORD).await)
        .header("accept-language", "es-ES,es;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sites.contains("lang=\"es\"") && sites.contains("Tus sitios"),
        "{sites}"
    );
    assert!(sites.contains("href=\"/dashboard/shop\"") && !sites.contains("/dashboard/blog"));
}
