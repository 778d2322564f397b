//! The collector's router served on loopback for a test: its own database,
//! the configuration the API and ingest suites share, and helpers to post
//! answers and read them back.
#![allow(dead_code)]

use std::path::Path;

use collector::config;
use collector::store::Store;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

pub const TOKEN: &str = "api-test-token-0123456789";
pub const ORIGIN: &str = "http://shop.test";
pub const ID: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

pub struct App {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub http: Client,
    /// The collector's own store (for setting up people).
    pub store: Store,
}

/// A person made for a test: their password, and an API token for the
/// sites of their roles.
pub struct Member {
    pub email: String,
    pub password: String,
    pub token: String,
}

/// A password that passes the strength check.
pub const PASSWORD: &str = "lilac-tundra-oboe-91";

pub fn config_text(dir: &Path, database_url: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
database_url = "{database_url}"
assets_dir = "{assets}"

[sites.shop]
origins = ["{ORIGIN}"]
export_token = "{TOKEN}"

[[sites.shop.surveys]]
id = "checkout_nps"
steps = ["checkout_done", "onboarding"]
texts.en.question = "How likely are you to recommend the shop?"
texts.es.question = "¿Recomendarías la tienda?"

[[sites.shop.surveys.bands]]
id = "unhappy"
min = 0
max = 6
reasons = [
  {{ id = "late", text.en = "Late delivery", text.es = "Entrega tardía" }},
  {{ id = "price", text.en = "Price", text.es = "Precio" }},
]

[[sites.shop.surveys.bands]]
id = "happy"
min = 7
max = 10
reasons = [{{ id = "quality", text.en = "Quality", text.es = "Calidad" }}]

[sites.blog]
origins = ["http://blog.test"]

[[sites.blog.surveys]]
id = "reader_nps"
texts.en.question = "How likely are you to recommend the blog?"
"#,
        assets = dir.join("assets").display(),
    )
}

pub async fn spawn_app() -> App {
    spawn_app_with("").await
}

/// An app whose config has `extra` inserted before the sites (e.g. limits).
pub async fn spawn_app_with(extra: &str) -> App {
    spawn_app_edited(|text| text.replace("[sites.shop]", &format!("{extra}\n[sites.shop]"))).await
}

/// An app whose site `shop` has `extra` keys (e.g. `identity_secret`).
pub async fn spawn_app_with_site(extra: &str) -> App {
    let token = format!("export_token = \"{TOKEN}\"");
    spawn_app_edited(|text| text.replace(&token, &format!("{token}\n{extra}"))).await
}

/// An app whose config is `edit` applied to [`config_text`].
pub async fn spawn_app_edited(edit: impl FnOnce(String) -> String) -> App {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("assets/widget")).unwrap();
    std::fs::write(dir.path().join("assets/pulso.js"), "/* loader */").unwrap();
    std::fs::write(dir.path().join("assets/pulso.js.br"), "brotli bytes").unwrap();
    std::fs::write(dir.path().join("assets/widget/pulso-abc.wasm"), b"\0asm").unwrap();
    let database_url = super::database_url(dir.path()).await;
    let text = edit(config_text(dir.path(), &database_url));
    let path = dir.path().join("pulso.toml");
    std::fs::write(&path, &text).unwrap();
    // parse, not load: the developer's PULSO_* variables must not reach the test.
    let settings = config::parse("pulso.toml", &text).unwrap();
    let store = Store::open_with(
        settings.database_url.expose(),
        settings.http.answer_deadline,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = collector::AppState::new(settings, store.clone());
    tokio::spawn(collector::serve(listener, state, std::future::pending()));
    App {
        url,
        dir,
        database_url,
        http: Client::new(),
        store,
    }
}

pub fn answer() -> Value {
    json!({
        "id": ID, "rev": 1, "site": "shop", "survey": "checkout_nps",
        "respondent": "r-1", "score": 2, "step": "checkout_done", "page": "/done",
        "locale": "en", "props": {"plan": "pro"}
    })
}

impl App {
    /// `email` with `roles` (`(site, role)`), an owner if `owner`, the
    /// password [`PASSWORD`], and an API token for the sites of the roles
    /// (every configured site for an owner), made in the store directly.
    pub async fn member(&self, email: &str, owner: bool, roles: &[(&str, &str)]) -> Member {
        make_member(&self.store, email, owner, roles).await
    }

    /// An admin of `shop` (and only of it), with an API token for it.
    pub async fn admin(&self) -> Member {
        self.member("admin@shop.test", false, &[("shop", "admin")])
            .await
    }

    /// Signs in through the form, as a browser of the collector's own page
    /// would; the `name=value` of the session cookie.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        sign_in(&self.url, email, password).await
    }
}

/// [`App::member`] on any store.
pub async fn make_member(
    store: &Store,
    email: &str,
    owner: bool,
    roles: &[(&str, &str)],
) -> Member {
    use collector::people::{password, secret};
    let hash = password::hash(PASSWORD);
    let user = store
        .create_user(
            &collector::store::NewUser {
                email,
                name: "Test Person",
                owner,
                role: None,
                invite: None,
                password_hash: Some(&hash),
                now: 1,
            },
            &[],
        )
        .await
        .unwrap();
    for (site, role) in roles {
        store.set_role(user.id, site, role, &[]).await.unwrap();
    }
    let token = secret::api_token();
    let mut sites: Vec<String> = roles.iter().map(|(s, _)| s.to_string()).collect();
    if owner {
        sites = vec!["shop".into(), "blog".into()];
    }
    store
        .create_token(&secret::digest(&token), user.id, "test", &sites, 1, &[])
        .await
        .unwrap();
    Member {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        token,
    }
}

/// [`App::sign_in`] at the collector of `url`.
pub async fn sign_in(url: &str, email: &str, password: &str) -> String {
    let response = no_redirects()
        .post(format!("{url}/signin"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signing in {email}");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

impl App {
    /// The export with `query`, through the site's machine token.
    pub async fn export_as(&self, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/sites/shop/export?{query}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, body: &Value) -> (StatusCode, Value) {
        self.post_raw(body.to_string(), "application/json", Some(ORIGIN))
            .await
    }

    pub async fn post_raw(
        &self,
        body: String,
        content_type: &str,
        origin: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}/v1/responses", self.url))
            .header("content-type", content_type)
            .body(body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn export(&self) -> Vec<csv::StringRecord> {
        let response = self
            .http
            .get(format!("{}/v1/sites/shop/export?format=csv", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().len(),
            collector::export::COLUMNS.len()
        );
        reader.records().map(Result::unwrap).collect()
    }
}

pub fn col(row: &csv::StringRecord, name: &str) -> String {
    let index = collector::export::COLUMNS
        .iter()
        .position(|c| *c == name)
        .unwrap();
    row[index].to_owned()
}

/// Sets `pointer` (a JSON pointer) in the answer, or removes it when `value` is None.
pub fn with(pointer: &str, value: Option<Value>) -> Value {
    let mut a = answer();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = a.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    match value {
        Some(v) => target.insert(key.to_owned(), v),
        None => target.remove(key),
    };
    a
}

/// The answer with this follow-up.
pub fn follow(value: Value) -> Value {
    with("/follow_up", Some(value))
}

/// A later survey's closed answer for `score`, in Spanish.
pub fn closed(score: u8, reasons: &[&str], other: Option<&str>) -> Value {
    let mut a = answer();
    a["score"] = json!(score);
    a["first_survey"] = json!(false);
    a["locale"] = json!("es");
    a["follow_up"] = json!({"kind": "closed", "reasons": reasons});
    if let Some(text) = other {
        a["follow_up"]["other"] = json!(text);
    }
    a
}

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser on the collector's own pages.
pub fn own_page(request: reqwest::RequestBuilder, cookie: &str) -> reqwest::RequestBuilder {
    request
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
}

/// The path of the set-password link in `text`.
pub fn link_in(text: &str) -> String {
    let at = text.find("/set-password/").expect("a set-password link");
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '-')
        .collect()
}

pub async fn set_password(app: &App, link: &str, password: &str, repeat: &str) -> (u16, String) {
    let response = no_redirects()
        .post(format!("{}{link}", app.url))
        .header("sec-fetch-site", "same-origin")
        .form(&[("password", password), ("repeat", repeat)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}
