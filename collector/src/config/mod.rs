//! `pulso.toml`: read in two steps, raw (serde, unknown keys refused) then checked
//! into [`Settings`] ([`parse`], in `parse.rs`), with errors that name the file,
//! the line and the field (`locate.rs`); then `PULSO_*` variables override it.

mod locate;
mod parse;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use survey::{ClientConfig, PathSeg, Survey};

use crate::webhooks::Webhook;

use locate::{dotted, line_at, offset_of};
pub use parse::parse;

/// The checked configuration the collector runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: String,
    /// A PostgreSQL URL carries its password: never printed (see
    /// [`crate::store::redact_url`] for what logs show).
    pub database_url: Secret,
    /// Folder holding `pulso.js` and `widget/` (the output of `cargo xtask widget`).
    pub assets_dir: PathBuf,
    /// Where people reach the collector (`https://pulso.example.com`), for
    /// links in webhook messages; `None` when not set (links then use the
    /// address the collector listens on, see [`Settings::set_link_base`]).
    pub public_url: Option<String>,
    pub limits: Limits,
    pub http: Http,
    /// A second address that serves `/metrics` and nothing else, for the
    /// internal network (`metrics_listen`).
    pub metrics_listen: Option<String>,
    /// With it, `/metrics` on the main address answers to
    /// `Authorization: Bearer` it (`metrics_token`, or `PULSO_METRICS_TOKEN`);
    /// without it, it is not served there.
    pub metrics_token: Option<Secret>,
    pub sites: BTreeMap<String, Site>,
    /// Where people reach the collector, for links in emails: `public_url`,
    /// or the address it listens on.
    pub link_base: String,
    /// Where the digest's emails go out (`[server.smtp]`); none: no email.
    pub smtp: Option<Smtp>,
}

/// `[server.smtp]`, with its credentials from `PULSO_SMTP_USERNAME` and
/// `PULSO_SMTP_PASSWORD`.
#[derive(Clone, Debug, PartialEq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// `Pulso <pulso@example.com>`.
    pub from: String,
    pub username: Option<Secret>,
    pub password: Option<Secret>,
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain, then STARTTLS (port 587): required, never skipped.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Clear text, to a relay on this machine only.
    None,
}

/// How the server treats connections and requests (`[server]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Http {
    /// An answer gets its 2xx, or 503, within this (`answer_deadline`).
    pub answer_deadline: Duration,
    /// A client has this long to send a request's headers, counted from when
    /// the connection starts waiting for them: also how long an idle
    /// keep-alive connection stays open (`header_timeout`).
    pub header_timeout: Duration,
    /// Connections open at once; more wait in the listen queue (`max_connections`).
    pub max_connections: usize,
    /// On SIGTERM, requests in flight get this long to finish (`drain_timeout`).
    pub drain_timeout: Duration,
    /// A signed-in browser unused this long is signed out (`session_idle`).
    pub session_idle: Duration,
    /// Used or not, a session ends this long after sign-in (`session_max`).
    pub session_max: Duration,
}

impl Default for Http {
    fn default() -> Http {
        Http {
            answer_deadline: crate::store::DEFAULT_DEADLINE,
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain_timeout: Duration::from_secs(10),
            session_idle: Duration::from_secs(8 * 3600),
            session_max: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Rate limits (`[server.limits]`).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Requests per second one client IP may make to the browser-facing API...
    pub per_ip_per_second: u32,
    /// ...and how many it may make at once above that rate.
    pub per_ip_burst: u32,
    /// Answers per second one site may receive, from all its visitors together.
    pub per_site_per_second: u32,
    pub per_site_burst: u32,
    /// The reverse proxies in front of the collector. A request from one of
    /// them names its client in `X-Forwarded-For`: the rightmost address
    /// there that is not itself a trusted proxy. Any other request's client
    /// is its peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Wrong tokens (or passwords) one client address may try before it is
    /// locked out for a while, doubling with each further failure...
    pub token_failures_per_client: u32,
    /// ...and one site, from any addresses.
    pub token_failures_per_site: u32,
    /// Wrong passwords one account may be tried with, from any addresses,
    /// before its sign-in is locked for a while, doubling likewise.
    pub sign_in_failures_per_account: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_ip_per_second: 10,
            per_ip_burst: 60,
            per_site_per_second: 500,
            per_site_burst: 5000,
            trusted_proxies: Vec::new(),
            token_failures_per_client: crate::throttle::Policy::CLIENT.free,
            sign_in_failures_per_account: crate::throttle::Policy::ACCOUNT.free,
            token_failures_per_site: crate::throttle::Policy::SITE.free,
        }
    }
}

/// A site that may embed the widget.
#[derive(Clone, Debug)]
pub struct Site {
    pub key: String,
    /// Origins (`scheme://host[:port]`) whose pages may post answers for this site.
    pub origins: Vec<String>,
    /// Bearer token for exports; `None` means exports of this site are closed.
    pub export_token: Option<Secret>,
    /// Key of the HMAC with which the site's backend vouches for a user id
    /// (verified identify); `None`: user ids are taken as given.
    pub identity_secret: Option<Secret>,
    /// Answers older than this many days are deleted, daily; `None`: kept.
    pub retention_days: Option<u32>,
    pub surveys: Vec<Survey>,
    pub webhooks: Vec<Arc<Webhook>>,
    /// Days after showing a survey before any survey of the site is shown to
    /// the same respondent (0: none).
    pub gap_days: u32,
    pub theme: survey::Theme,
    /// How the team works the site's answers (`[sites.KEY.inbox]`).
    pub inbox: crate::inbox::InboxSettings,
    /// Where its waves open and its weekly digest is sent (`time_zone`,
    /// UTC by default).
    pub time_zone: jiff::tz::TimeZone,
    /// The schedules of its surveys asked in waves, by survey id.
    pub waves: BTreeMap<String, crate::programme::Schedule>,
    /// The traits of `identify` kept with answers (`keep_traits`): nothing
    /// else of them is stored.
    pub keep_traits: Vec<String>,
    /// When its weekly digest goes out (`[sites.KEY.digest]`).
    pub digest: crate::digest::Schedule,
}

impl Site {
    pub fn survey(&self, id: &str) -> Option<&Survey> {
        self.surveys.iter().find(|s| s.id == id)
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// Whether some survey is asked in waves: then what the loader gets
    /// depends on the time ([`Site::client_config_at`]).
    pub fn has_waves(&self) -> bool {
        !self.waves.is_empty()
    }

    /// Whether survey `id` may be shown at `now` (milliseconds): always,
    /// unless it is asked in waves and none is open.
    pub fn is_due(&self, id: &str, now: i64) -> bool {
        self.waves
            .get(id)
            .is_none_or(|w| w.is_open(now, &self.time_zone))
    }

    /// What the loader gets: every survey.
    pub fn client_config(&self) -> ClientConfig {
        self.client_config_of(|_| true)
    }

    /// What the loader gets at `now`: the surveys asked in waves only while
    /// one is open.
    pub fn client_config_at(&self, now: i64) -> ClientConfig {
        self.client_config_of(|s| self.is_due(&s.id, now))
    }

    fn client_config_of(&self, keep: impl Fn(&Survey) -> bool) -> ClientConfig {
        let mut surveys: Vec<Survey> = self
            .surveys
            .iter()
            .filter(|s| keep(s))
            .map(|s| {
                let mut survey = survey::Survey {
                    keep_traits: self.keep_traits.clone(),
                    ..s.clone().for_client()
                };
                crate::programme::thanks::write_in_touch(&mut survey, &self.inbox);
                survey
            })
            .collect();
        // The loader shows the first due survey: highest priority first, then
        // in the order of the file.
        surveys.sort_by_key(|s| std::cmp::Reverse(s.priority));
        ClientConfig {
            site: self.key.clone(),
            surveys,
            gap_days: self.gap_days,
            gap_ms: survey::days_ms(self.gap_days),
            theme: survey::Theme {
                css: self.theme.to_css(),
                ..self.theme.clone()
            },
            w: Vec::new(),
        }
    }
}

/// A secret whose `Debug` never shows it, so it cannot end up in a log line:
/// tokens and keys, and URLs that are credentials (a database URL with its
/// password, a Slack webhook's URL).
#[derive(Clone, PartialEq)]
pub struct Secret<T = String>(T);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl<T> Secret<T> {
    pub fn wrap(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value, for where it is used (a connection, a request).
    pub fn get(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The token `examples/pulso.toml` ships with: it opens the demo's exports,
/// and nothing anywhere else (refused unless the collector listens on
/// loopback).
pub const DEMO_TOKEN: &str = "demo-export-token-change-me";

/// Shortest token or secret accepted, from the file or the environment.
pub const MIN_SECRET_CHARS: usize = 16;

/// A configuration error, located in the file.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {field}: {message}")]
pub struct ConfigError {
    pub file: String,
    /// 1-based line; 0 when the error is not tied to a place in the file.
    pub line: usize,
    pub field: String,
    pub message: String,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://pulso.db";

/// Reads and checks a config file, then applies `PULSO_*` environment overrides.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: 0,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let mut settings = parse(&path.display().to_string(), &text)?;
    // Relative paths in the file are relative to the file, like most tools do.
    let base = path.parent().unwrap_or(Path::new("."));
    if settings.assets_dir.is_relative() {
        settings.assets_dir = base.join(&settings.assets_dir);
    }
    let file = path.display().to_string();
    apply_env(&mut settings, |k| std::env::var(k).ok()).map_err(|(field, message)| {
        ConfigError {
            file: file.clone(),
            line: 0,
            field,
            message,
        }
    })?;
    require_secrets(&settings, &file, &text)?;
    refuse_demo_token(&settings, &file, &text)?;
    Ok(settings)
}

/// The demo token is public (it is in the repository): it may open exports
/// only on a collector that only this machine can reach.
pub fn refuse_demo_token(settings: &Settings, file: &str, text: &str) -> Result<(), ConfigError> {
    if is_loopback(&settings.listen) {
        return Ok(());
    }
    for site in settings.sites.values() {
        if site
            .export_token
            .as_ref()
            .is_some_and(|t| t.expose() == DEMO_TOKEN)
        {
            let path = [PathSeg::Key("sites".into()), PathSeg::Key(site.key.clone())];
            return Err(ConfigError {
                file: file.to_owned(),
                line: offset_of(text, &path).map_or(0, |o| line_at(text, o)),
                field: format!("sites.{}.export_token", site.key),
                message: format!(
                    "the demo token works only while the collector listens on loopback (listen is \
                     {}): set a token of your own, e.g. in PULSO_SITE_{}_TOKEN",
                    settings.listen,
                    env_key(&site.key)
                ),
            });
        }
    }
    Ok(())
}

/// Whether `listen` (`HOST:PORT`) is an address of this machine only.
pub fn is_loopback(listen: &str) -> bool {
    let host = listen.rsplit_once(':').map_or(listen, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Settings {
    /// Sets where people reach the collector, and the links that use it.
    pub fn set_public_url(&mut self, url: &str) {
        self.set_link_base(url);
        self.public_url = Some(url.trim_end_matches('/').to_owned());
    }

    /// Points the links of webhook messages at `url` (the address bound,
    /// when no `public_url` is set), leaving `public_url` unset: origin
    /// checks then hold requests to the `Host` they came to.
    pub fn set_link_base(&mut self, url: &str) {
        let url = url.trim_end_matches('/');
        self.link_base = url.to_owned();
        for site in self.sites.values_mut() {
            for hook in &mut site.webhooks {
                Arc::make_mut(hook).dashboard_url = format!("{url}/dashboard/{}", site.key);
            }
        }
    }
}

/// Every webhook has its secret once the environment has been read.
pub fn require_secrets(settings: &Settings, file: &str, text: &str) -> Result<(), ConfigError> {
    for site in settings.sites.values() {
        for (index, hook) in site.webhooks.iter().enumerate() {
            if hook.secret.is_none() {
                let path = [
                    PathSeg::Key("sites".into()),
                    PathSeg::Key(site.key.clone()),
                    PathSeg::Key("webhooks".into()),
                    PathSeg::Index(index),
                ];
                return Err(ConfigError {
                    file: file.to_owned(),
                    line: offset_of(text, &path).map_or(0, |o| line_at(text, o)),
                    field: format!("{}.secret", dotted(&path)),
                    message: format!(
                        "a webhook needs a secret of at least 16 characters, here or in {}",
                        secret_var(&site.key, &hook.id)
                    ),
                });
            }
        }
    }
    Ok(())
}

fn env_key(key: &str) -> String {
    key.to_uppercase().replace('-', "_")
}

/// `PULSO_SITE_SHOP_WEBHOOK_ALERTS_SECRET`.
fn secret_var(site: &str, hook: &str) -> String {
    format!(
        "PULSO_SITE_{}_WEBHOOK_{}_SECRET",
        env_key(site),
        env_key(hook)
    )
}

/// Environment overrides: `PULSO_LISTEN`, `PULSO_DATABASE_URL`, `PULSO_ASSETS_DIR`,
/// `PULSO_PUBLIC_URL`, `PULSO_METRICS_TOKEN`, and per site (key upper-cased,
/// `-` as `_`) `PULSO_SITE_<KEY>_TOKEN` (export token),
/// `PULSO_SITE_<KEY>_IDENTITY_SECRET` and
/// `PULSO_SITE_<KEY>_WEBHOOK_<ID>_SECRET`. A token or secret shorter than the
/// file would take is refused: the variable's name and why.
pub fn apply_env(
    settings: &mut Settings,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), (String, String)> {
    let secret = |name: &str| -> Result<Option<Secret>, (String, String)> {
        match var(name).filter(|v| !v.is_empty()) {
            Some(v) if v.trim().chars().count() < MIN_SECRET_CHARS => Err((
                name.to_owned(),
                format!("needs at least {MIN_SECRET_CHARS} characters"),
            )),
            v => Ok(v.map(Secret)),
        }
    };
    if let Some(v) = var("PULSO_LISTEN") {
        settings.listen = v;
    }
    if let Some(v) = var("PULSO_DATABASE_URL") {
        settings.database_url = Secret(v);
    }
    if let Some(v) = secret("PULSO_METRICS_TOKEN")? {
        settings.metrics_token = Some(v);
    }
    if let Some(smtp) = &mut settings.smtp {
        // A user name is no secret, but it travels with the password.
        smtp.username = var("PULSO_SMTP_USERNAME")
            .filter(|v| !v.is_empty())
            .map(Secret::new);
        smtp.password = var("PULSO_SMTP_PASSWORD")
            .filter(|v| !v.is_empty())
            .map(Secret::new);
    }
    if let Some(v) = var("PULSO_ASSETS_DIR") {
        settings.assets_dir = v.into();
    }
    if let Some(v) = var("PULSO_PUBLIC_URL") {
        settings.set_public_url(&v);
    }
    for site in settings.sites.values_mut() {
        let key = env_key(&site.key);
        if let Some(v) = secret(&format!("PULSO_SITE_{key}_TOKEN"))? {
            site.export_token = Some(v);
        }
        if let Some(v) = secret(&format!("PULSO_SITE_{key}_IDENTITY_SECRET"))? {
            site.identity_secret = Some(v);
        }
        for hook in &mut site.webhooks {
            if let Some(v) = secret(&secret_var(&site.key, &hook.id))? {
                Arc::make_mut(hook).secret = Some(v);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks;

    const GOOD: &str = r#"
[server]
listen = "127.0.0.1:0"

[sites.shop]
origins = ["http://127.0.0.1:8000"]
export_token = "0123456789abcdef"

[[sites.shop.surveys]]
id = "checkout"
steps = ["checkout_done"]
texts.en.question = "How likely are you to recommend the shop?"
"#;

    #[test]
    fn a_good_file_parses() {
        let s = parse("pulso.toml", GOOD).unwrap();
        let shop = &s.sites["shop"];
        assert_eq!(shop.origins, ["http://127.0.0.1:8000"]);
        assert_eq!(shop.survey("checkout").unwrap().bands.len(), 4);
        assert_eq!(s.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(format!("{:?}", shop.export_token), "Some(Secret(***))");
    }

    #[test]
    fn unknown_keys_name_file_and_line() {
        let text = GOOD.replace("steps =", "colour = 1\nsteps =");
        let e = parse("pulso.toml", &text).unwrap_err();
        assert_eq!(e.file, "pulso.toml");
        assert_eq!(e.line, 11, "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn overlapping_bands_name_the_field() {
        let text = format!(
            "{GOOD}bands = [{{id = \"low\", min = 0, max = 6}}, {{id = \"high\", min = 6, max = 10}}]\n"
        );
        let e = parse("pulso.toml", &text).unwrap_err();
        assert_eq!(e.field, "sites.shop.surveys[0].bands");
        assert_eq!(e.line, 13, "{e}");
        assert!(e.message.contains("score 6"), "{e}");
    }

    #[test]
    fn duplicate_survey_ids_are_refused() {
        let survey = &GOOD[GOOD.find("[[sites").unwrap()..];
        let e = parse("pulso.toml", &format!("{GOOD}{survey}")).unwrap_err();
        assert_eq!(e.field, "sites.shop.surveys[1].id");
    }

    #[test]
    fn origins_must_be_origins() {
        let text = GOOD.replace("http://127.0.0.1:8000", "http://127.0.0.1:8000/shop");
        let e = parse("pulso.toml", &text).unwrap_err();
        assert_eq!(e.field, "sites.shop.origins");
        assert_eq!(e.line, 6);
    }

    const HOOK: &str = r#"
[[sites.shop.webhooks]]
id = "alerts"
url = "https://hooks.slack.example/services/T0/B0/secret-path"
format = "slack"
classes = ["detractor"]
give_up_after = "2h"
"#;

    #[test]
    fn webhooks_parse_with_secrets_from_file_or_environment() {
        let text = format!("{GOOD}{HOOK}secret = \"0123456789abcdef\"\n");
        let s = parse("pulso.toml", &text).unwrap();
        let hook = &s.sites["shop"].webhooks[0];
        assert_eq!(hook.format, webhooks::Format::Slack);
        assert_eq!(hook.give_up_after, Duration::from_secs(7200));
        assert_eq!(hook.dashboard_url, "http://127.0.0.1:0/dashboard/shop");
        assert!(format!("{hook:?}").contains("Secret(***)"));

        let text = format!("{GOOD}{HOOK}");
        let mut s = parse("pulso.toml", &text).unwrap();
        let e = require_secrets(&s, "pulso.toml", &text).unwrap_err();
        assert_eq!(e.field, "sites.shop.webhooks[0].secret");
        assert_eq!(e.line, 14, "{e}");
        assert!(
            e.message.contains("PULSO_SITE_SHOP_WEBHOOK_ALERTS_SECRET"),
            "{e}"
        );
        apply_env(&mut s, |k| match k {
            "PULSO_SITE_SHOP_WEBHOOK_ALERTS_SECRET" => Some("from-the-environment".into()),
            "PULSO_PUBLIC_URL" => Some("https://pulso.example/".into()),
            _ => None,
        })
        .unwrap();
        require_secrets(&s, "pulso.toml", &text).unwrap();
        let hook = &s.sites["shop"].webhooks[0];
        assert_eq!(
            hook.secret.as_ref().unwrap().expose(),
            "from-the-environment"
        );
        assert_eq!(hook.dashboard_url, "https://pulso.example/dashboard/shop");
    }

    #[test]
    fn bad_webhooks_name_the_field_and_line() {
        for (from, to, field, line) in [
            ("https://hooks", "ftp://hooks", "url", 16),
            ("format = \"slack\"", "format = \"xml\"", "(syntax)", 17),
            ("[\"detractor\"]", "[\"grumpy\"]", "classes", 18),
            ("\"2h\"", "\"soon\"", "give_up_after", 19),
            (
                "give_up_after",
                "bands = [\"nope\"]\ngive_up_after",
                "bands",
                19,
            ),
        ] {
            let text = format!("{GOOD}{}", HOOK.replace(from, to));
            let e = parse("pulso.toml", &text).unwrap_err();
            let want = if field == "(syntax)" {
                field.to_owned()
            } else {
                format!("sites.shop.webhooks[0].{field}")
            };
            assert_eq!((e.field.as_str(), e.line), (want.as_str(), line), "{e}");
        }
        let twice = format!("{GOOD}{HOOK}{HOOK}");
        let e = parse("pulso.toml", &twice).unwrap_err();
        assert_eq!(e.field, "sites.shop.webhooks[1].id");
    }

    #[test]
    fn short_tokens_are_refused_and_env_overrides() {
        let e = parse("f", &GOOD.replace("0123456789abcdef", "short")).unwrap_err();
        assert_eq!(e.field, "sites.shop.export_token");
        let mut s = parse("f", GOOD).unwrap();
        apply_env(&mut s, |k| match k {
            "PULSO_SITE_SHOP_TOKEN" => Some("from-the-environment".into()),
            "PULSO_DATABASE_URL" => Some("sqlite://other.db".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            s.sites["shop"].export_token.as_ref().unwrap().expose(),
            "from-the-environment"
        );
        assert_eq!(s.database_url.expose(), "sqlite://other.db");
    }

    #[test]
    fn tokens_from_the_environment_are_held_to_the_files_minimum() {
        for name in [
            "PULSO_SITE_SHOP_TOKEN",
            "PULSO_SITE_SHOP_IDENTITY_SECRET",
            "PULSO_METRICS_TOKEN",
        ] {
            let mut s = parse("f", GOOD).unwrap();
            let e = apply_env(&mut s, |k| (k == name).then(|| "short-token".into())).unwrap_err();
            assert_eq!(e.0, name);
            assert!(e.1.contains("16"), "{e:?}");
        }
        let e = parse("f", &GOOD.replace("0123456789abcdef", "0123456789abcde")).unwrap_err();
        assert_eq!(e.field, "sites.shop.export_token");
    }

    #[test]
    fn the_demo_token_opens_nothing_off_loopback() {
        let text = GOOD.replace("0123456789abcdef", DEMO_TOKEN);
        let mut s = parse("pulso.toml", &text).unwrap();
        for listen in ["127.0.0.1:8080", "[::1]:80", "localhost:8080"] {
            s.listen = listen.into();
            refuse_demo_token(&s, "pulso.toml", &text).unwrap();
        }
        for listen in [
            "0.0.0.0:8080",
            "192.0.2.4:80",
            "[::]:8080",
            "pulso.example.com:80",
        ] {
            s.listen = listen.into();
            let e = refuse_demo_token(&s, "pulso.toml", &text).unwrap_err();
            assert_eq!(e.field, "sites.shop.export_token", "{listen}");
            assert_eq!(e.line, 5);
        }
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let text = format!(
            r#"
[server]
listen = "127.0.0.1:0"
database_url = "postgres://pulso:db-password-42@db/pulso"
metrics_token = "metrics-token-0123456789"

[sites.shop]
origins = ["http://127.0.0.1:8000"]
export_token = "0123456789abcdef"
identity_secret = "identity-secret-0123456789"

[[sites.shop.surveys]]
id = "checkout"
texts.en.question = "How likely are you to recommend the shop?"
{HOOK}secret = "hook-secret-0123456789"
"#
        );
        let s = parse("pulso.toml", &text).unwrap();
        assert!(s.sites["shop"].identity_secret.is_some());
        let shown = format!("{s:?}");
        for secret in [
            "db-password-42",
            "0123456789abcdef",
            "identity-secret",
            "hook-secret",
            "metrics-token",
            "secret-path",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
