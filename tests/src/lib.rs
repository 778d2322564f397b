//! Harness for the end-to-end tests: a real collector process on a free port with
//! its own SQLite file, the demo shop on another origin, and headless Chromium
//! driven through chromedriver. Every test gets its own of each.
//!
//! The tests find their tools through variables `cargo xtask test` sets:
//! `PULSO_E2E_BIN`, `PULSO_E2E_ASSETS`, `PULSO_E2E_CHROMEDRIVER`, `PULSO_E2E_CHROMIUM`, `PULSO_E2E_DOCS`.

mod browser;
mod signin;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use browser::*;
pub use signin::*;

/// The export token every test configuration uses.
pub const TOKEN: &str = "e2e-export-token-0123456789";

/// How long a wait for something on the page may take before the test fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

pub(crate) fn var(name: &str) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{name} is not set: run the end-to-end tests through `cargo xtask test`")
        })
}

/// A running collector with a fresh database, and the demo shop pointing at it.
pub struct Stack {
    pub collector: String,
    /// `http://ADDR/metrics` when the configuration has `metrics_listen`.
    pub metrics: Option<String>,
    pub shop: String,
    pub dir: tempfile::TempDir,
    child: Child,
    shop_task: tokio::task::JoinHandle<()>,
}

impl Stack {
    /// Starts the shop's listener, then a collector that allows the shop's origin.
    pub async fn start() -> Stack {
        Stack::start_with("").await
    }

    /// As [`Stack::start`], with `extra` TOML inserted before the sites (limits).
    pub async fn start_with(extra: &str) -> Stack {
        Stack::start_configured(extra, "").await
    }

    /// As [`Stack::start_with`], with `appended` TOML at the end of the file
    /// (more of the shop site: `[[sites.shop.webhooks]]`).
    pub async fn start_configured(extra: &str, appended: &str) -> Stack {
        Stack::start_edited(|text| {
            text.replace("[sites.shop]", &format!("{extra}\n[sites.shop]")) + "\n" + appended
        })
        .await
    }

    /// A stack whose configuration is `edit` applied to the example's text.
    pub async fn start_edited(edit: impl FnOnce(String) -> String) -> Stack {
        let dir = tempfile::tempdir().expect("temp dir");
        let shop_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("shop port");
        let shop = format!("http://{}", shop_listener.local_addr().unwrap());
        let config = dir.path().join("pulso.toml");
        let text = edit(config_text(&shop));
        std::fs::write(&config, text).expect("write config");

        let (child, collector, metrics) = spawn_collector(dir.path(), "127.0.0.1:0", None).await;
        let router = examples::shop(&collector).merge(test_pages(&collector));
        let shop_task = tokio::spawn(async move {
            axum_serve(shop_listener, router).await;
        });
        Stack {
            collector,
            metrics,
            shop,
            dir,
            child,
            shop_task,
        }
    }

    /// The collector's SQLite file.
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("pulso.db")
    }

    /// Kills the collector with SIGKILL: no shutdown, no flush, like a crash.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill the collector");
    }

    /// Sends SIGTERM and waits (at most 10 s) for the collector to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("the collector runs");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the collector did not stop within 10 s of SIGTERM")
            .expect("wait for the collector")
    }

    /// Starts the collector again on the same address and database.
    pub async fn restart(&mut self) {
        let address = self.collector.trim_start_matches("http://").to_owned();
        let (child, _, _) = spawn_collector(self.dir.path(), &address, None).await;
        self.child = child;
    }

    /// The site's CSV export, fetched over HTTP with the token.
    pub async fn export_csv(&self) -> Vec<csv::StringRecord> {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/v1/sites/shop/export?format=csv",
                self.collector
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("export request");
        assert_eq!(response.status(), 200, "export status");
        let body = response.text().await.expect("export body");
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let header = reader.headers().expect("header row").clone();
        assert_eq!(header.get(0), Some("id"));
        reader.records().map(|r| r.expect("csv row")).collect()
    }

    /// Runs `pulso user ARGS` on the stack's configuration and database, as
    /// an operator would on the collector's machine, `input` on its standard
    /// input (a password for `--password-stdin`); what it printed.
    pub fn pulso_user(&self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new(var("PULSO_E2E_BIN"))
            .args(["user", "--config"])
            .arg(self.dir.path().join("pulso.toml"))
            .args(args)
            .env(
                "PULSO_DATABASE_URL",
                format!("sqlite://{}", self.database().display()),
            )
            .env("PULSO_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pulso user");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write to pulso user");
        let out = child.wait_with_output().expect("pulso user");
        assert!(
            out.status.success(),
            "pulso user {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// The index of a column of the export.
    pub fn column(name: &str) -> usize {
        collector::export::COLUMNS
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

/// A webhook receiver on loopback: records every request; may start later
/// on its reserved address (until then connections are refused).
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    got: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// A free address, not listened on yet.
    pub async fn reserve() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        Receiver {
            addr,
            got: Default::default(),
            task: None,
        }
    }

    /// Starts answering 200 to every POST.
    pub async fn up(&mut self) {
        let got = self.got.clone();
        let app = axum::Router::new().fallback(axum::routing::post(
            move |headers: axum::http::HeaderMap, body: String| async move {
                got.lock().unwrap().push((headers, body));
                "ok"
            },
        ));
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.task = Some(tokio::spawn(axum_serve(listener, app)));
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Everything received so far: headers and body of each request.
    pub fn received(&self) -> Vec<(axum::http::HeaderMap, String)> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The shipped nginx configuration (`examples/deploy/nginx.conf`, on a free
/// loopback port and without TLS) in front of two collectors (or one named
/// twice), run from `dir`; stopped when dropped.
pub struct Nginx {
    pub url: String,
    pid: u32,
}

impl Nginx {
    pub async fn start(dir: &std::path::Path, upstreams: [&str; 2]) -> Nginx {
        let port = free_port();
        let example = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/deploy/nginx.conf"
        ))
        .expect("the example nginx configuration");
        let site: String = example
            .replace("127.0.0.1:8081", upstreams[0].trim_start_matches("http://"))
            .replace("127.0.0.1:8082", upstreams[1].trim_start_matches("http://"))
            .replace(
                "listen 443 ssl http2;",
                &format!("listen 127.0.0.1:{port};"),
            )
            .lines()
            .filter(|l| !l.trim_start().starts_with("ssl_certificate"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(site.contains(&format!("listen 127.0.0.1:{port};")) && !site.contains("8081"));
        let d = dir.display();
        let conf = format!(
            "user root; daemon off; pid {d}/nginx.pid; error_log {d}/nginx.log;\n\
             events {{}}\nhttp {{\naccess_log off;\nclient_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\nfastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n{site}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("write nginx.conf");
        // Not skipped where nginx is missing: `cargo xtask test` installs it.
        let child = Command::new(var("PULSO_E2E_NGINX"))
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Nginx {
            url: format!("http://127.0.0.1:{port}"),
            pid: child.id().expect("nginx runs"),
        };
        let http = reqwest::Client::new();
        eventually("nginx to answer", || async {
            let r = http
                .get(format!("{}/healthz", nginx.url))
                .send()
                .await
                .ok()?;
            (r.status() == 200).then_some(())
        })
        .await;
        nginx
    }
}

/// SIGTERM, however the test ends: nginx's master then stops its workers
/// (SIGKILL would leave them running).
impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
    }
}

/// Starts `pulso serve` on a free port with the configuration in `dir` and the
/// database at `database_url`; returns the process and its address.
pub async fn start_collector(dir: &std::path::Path, database_url: &str) -> (Child, String) {
    let (child, url, _) = spawn_collector(dir, "127.0.0.1:0", Some(database_url)).await;
    (child, url)
}

/// The example configuration (`examples/pulso.toml`) for a shop at `origin`,
/// with the test token.
pub fn example_config(origin: &str) -> String {
    config_text(origin)
}

/// Starts `pulso serve` on `listen` with the stack's config and database (the
/// SQLite file in `dir` unless given), and waits for its "listening" line;
/// returns the process, its address and its metrics address, if any.
async fn spawn_collector(
    dir: &std::path::Path,
    listen: &str,
    database_url: Option<&str>,
) -> (Child, String, Option<String>) {
    let database_url = database_url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("pulso.db").display()));
    let mut child = Command::new(var("PULSO_E2E_BIN"))
        .args(["serve", "--config"])
        .arg(dir.join("pulso.toml"))
        .env(
            "PULSO_LOG",
            std::env::var("PULSO_E2E_LOG").unwrap_or_else(|_| "off".into()),
        )
        .env("PULSO_LISTEN", listen)
        .env("PULSO_DATABASE_URL", database_url)
        .env("PULSO_ASSETS_DIR", var("PULSO_E2E_ASSETS"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the collector");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (url, metrics) = tokio::time::timeout(PATIENCE, async {
        let mut metrics = None;
        while let Some(line) = lines.next_line().await.expect("collector stdout") {
            if let Some(url) = line.strip_prefix("pulso metrics on ") {
                metrics = Some(url.to_owned());
            }
            if let Some(url) = line.strip_prefix("pulso listening on ") {
                return (url.to_owned(), metrics);
            }
        }
        panic!("the collector exited before listening");
    })
    .await
    .expect("the collector did not start in time");
    (child, url, metrics)
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shop_task.abort();
        let _ = self.child.start_kill();
    }
}

/// Pages for the trigger tests, on the shop's origin: `/t/...` is a blank page
/// with the two tags (any path: URL rules); `/t/hostile/...` adds aggressive
/// global CSS; `/t/csp/...` is served under a strict Content-Security-Policy;
/// `/t/nostorage/...` has `localStorage` blocked, as some privacy modes do;
/// `/t/consent/...` is the spy page with `data-consent="required"`;
/// `/t/spy/...` records every URL the page passes to `fetch` in
/// `window.fetched` (a fetch whose body nobody reads leaves no resource
/// timing entry, so `performance` cannot tell) and every console warning in
/// `window.warned`. A fetch whose URL matches the regular expression
/// `window.hold` is held back (counted in `window.held`) until
/// `window.release()`; one whose URL matches `window.fail` fails as a network
/// error would.
fn test_pages(collector: &str) -> axum::Router {
    use axum::http::header::CONTENT_SECURITY_POLICY;
    use axum::response::{Html, IntoResponse};
    const NONCE: &str = "e2e-nonce-0123456789";
    let page = move |head: &str, collector: &str, nonce: &str| {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>test page</title>{head}\
             <script{nonce}>window.pulso=window.pulso||function(){{(pulso.q=pulso.q||[]).push(arguments)}};</script>\
             <script async src=\"{collector}/pulso.js\" data-site=\"shop\"{nonce}></script></head>\
             <body><h1>A page</h1><p>Some text of the host page.</p><button type=\"button\">A host button</button></body></html>"
        )
    };
    let hostile = "<style>* { all: unset !important; } button { display: none !important; } \
                   div { display: none !important; } input { visibility: hidden !important; } \
                   body { font-size: 40px !important; }</style>";
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{NONCE}' {collector} 'wasm-unsafe-eval'; \
         connect-src {collector}; style-src 'nonce-{NONCE}'; img-src 'none'"
    );
    let blocked = "<script>Object.defineProperty(window, 'localStorage', { get() { \
                   throw new DOMException('The operation is insecure.', 'SecurityError') } });</script>";
    let spy = "<script>window.fetched = []; window.held = []; const f = window.fetch; \
               window.fetch = (r, o) => { const u = String(r.url || r); fetched.push(u); \
               if (window.fail && fail.test(u)) return Promise.reject(new TypeError('Failed to fetch')); \
               return window.hold && hold.test(u) ? new Promise((g) => held.push(() => g(f(r, o)))) : f(r, o) }; \
               window.release = () => held.splice(0).forEach((g) => g()); \
               window.warned = []; const w = console.warn; \
               console.warn = (...a) => (warned.push(a.join(' ')), w(...a));</script>";
    let (plain, bad, strict, no_storage, spied) = (
        page("", collector, ""),
        page(hostile, collector, ""),
        page("", collector, &format!(" nonce=\"{NONCE}\"")),
        page(blocked, collector, ""),
        page(spy, collector, ""),
    );
    // The snippet with `data-consent="required"` (on the stub's tag too,
    // where it does nothing), and the spy.
    let consent = page(spy, collector, " data-consent=\"required\"");
    // The time-to-visible benchmark's two pages: each records in
    // `window.visibleAt` when its card is first laid out, on the page's own
    // clock (from navigation start), and asks for its card at once: the same
    // moment for both, the configuration fetch included.
    let poll = |tag: &str| {
        format!(
            "<script>(function poll() {{ const h = document.querySelector('{tag}'); \
             const c = h && h.shadowRoot && h.shadowRoot.querySelector('.card'); \
             if (c && c.getBoundingClientRect().height > 0) window.visibleAt = performance.now(); \
             else requestAnimationFrame(poll); }})();</script>"
        )
    };
    let visible_pulso = page(
        &format!(
            "{}<script>window.pulso=window.pulso||function(){{(pulso.q=pulso.q||[]).push(arguments)}};\
             pulso('track', 'checkout_done', {{total: 30}});</script>",
            poll("pulso-survey")
        ),
        collector,
        "",
    );
    let visible_plain = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>test page</title>{}\
         <script src=\"/t/plain-card.js\"></script><script>plainCard({}, 'shop', {});</script></head>\
         <body><h1>A page</h1><p>Some text of the host page.</p></body></html>",
        poll("plain-survey"),
        serde_json::to_string(collector).expect("a string"),
        serde_json::to_string(include_str!("../../widget/src/card.css")).expect("a string"),
    );
    axum::Router::new()
        .route(
            "/t/visible/pulso",
            axum::routing::get(move || async move { Html(visible_pulso) }),
        )
        .route(
            "/t/visible/plain",
            axum::routing::get(move || async move { Html(visible_plain) }),
        )
        .route(
            "/t/{*path}",
            axum::routing::get(move || async move { Html(plain) }),
        )
        .route(
            "/t/plain-card.js",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/javascript")],
                    include_str!("../pages/plain-card.js"),
                )
            }),
        )
        .route(
            "/t/hostile/{*path}",
            axum::routing::get(move || async move { Html(bad) }),
        )
        .route(
            "/t/nostorage/{*path}",
            axum::routing::get(move || async move { Html(no_storage) }),
        )
        .route(
            "/t/spy/{*path}",
            axum::routing::get(move || async move { Html(spied) }),
        )
        .route(
            "/t/consent/{*path}",
            axum::routing::get(move || async move { Html(consent) }),
        )
        .route(
            "/t/csp/{*path}",
            axum::routing::get(move || async move {
                ([(CONTENT_SECURITY_POLICY, policy)], Html(strict)).into_response()
            }),
        )
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    let _ = axum::serve(listener, router).await;
}

/// The shipped example configuration, with the shop's origin and the test token.
fn config_text(shop_origin: &str) -> String {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/pulso.toml"
    ))
    .expect("examples/pulso.toml");
    example
        .lines()
        .map(|line| {
            if line.starts_with("origins = ") {
                format!("origins = [\"{shop_origin}\"]")
            } else if line.starts_with("export_token = ") {
                format!("export_token = \"{TOKEN}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
