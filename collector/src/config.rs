//! `pulso.toml`: read in two steps, raw (serde, unknown keys refused) then checked
//! into [`Settings`], with errors that name the file, the line and the field.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use survey::{ClientConfig, PathSeg, Survey};

use crate::webhooks::{self, Webhook};

/// The checked configuration the collector runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    /// Folder holding `pulso.js` and `widget/` (the output of `cargo xtask widget`).
    pub assets_dir: PathBuf,
    /// Where people reach the collector (`https://pulso.example.com`), for
    /// links in webhook messages; `None` when not set (links then use the
    /// address the collector listens on, see [`Settings::set_public_url`]).
    pub public_url: Option<String>,
    pub limits: Limits,
    pub http: Http,
    pub sites: BTreeMap<String, Site>,
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
}

impl Default for Http {
    fn default() -> Http {
        Http {
            answer_deadline: crate::store::DEFAULT_DEADLINE,
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain_timeout: Duration::from_secs(10),
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
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_ip_per_second: 10,
            per_ip_burst: 60,
            per_site_per_second: 500,
            per_site_burst: 5000,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    per_ip_per_second: Option<u32>,
    per_ip_burst: Option<u32>,
    per_site_per_second: Option<u32>,
    per_site_burst: Option<u32>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    /// Replaced by `trusted_proxies`; named only to say so.
    trust_proxy_headers: Option<bool>,
}

impl RawLimits {
    /// The limits, or the name and message of the field at fault.
    fn check(self) -> Result<Limits, (&'static str, String)> {
        if self.trust_proxy_headers.is_some() {
            return Err((
                "trust_proxy_headers",
                "replaced by trusted_proxies = [\"10.0.0.0/8\", ...]: the addresses of your \
                 proxies (a header from anyone else is not believed)"
                    .into(),
            ));
        }
        let defaults = Limits::default();
        let mut trusted_proxies = Vec::new();
        for text in &self.trusted_proxies {
            let net = text
                .parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    (
                        "trusted_proxies",
                        format!("`{text}` is not an address or CIDR block like 10.0.0.0/8"),
                    )
                })?;
            trusted_proxies.push(net.trunc());
        }
        Ok(Limits {
            per_ip_per_second: self.per_ip_per_second.unwrap_or(defaults.per_ip_per_second),
            per_ip_burst: self.per_ip_burst.unwrap_or(defaults.per_ip_burst),
            per_site_per_second: self
                .per_site_per_second
                .unwrap_or(defaults.per_site_per_second),
            per_site_burst: self.per_site_burst.unwrap_or(defaults.per_site_burst),
            trusted_proxies,
        })
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
    pub surveys: Vec<Survey>,
    pub webhooks: Vec<Arc<Webhook>>,
    /// Days after showing a survey before any survey of the site is shown to
    /// the same respondent (0: none).
    pub gap_days: u32,
    pub theme: survey::Theme,
}

impl Site {
    pub fn survey(&self, id: &str) -> Option<&Survey> {
        self.surveys.iter().find(|s| s.id == id)
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    pub fn client_config(&self) -> ClientConfig {
        let mut surveys: Vec<Survey> = self
            .surveys
            .iter()
            .map(|s| s.clone().with_patterns())
            .collect();
        // The loader shows the first due survey: highest priority first, then
        // in the order of the file.
        surveys.sort_by_key(|s| std::cmp::Reverse(s.priority));
        ClientConfig {
            site: self.key.clone(),
            surveys,
            gap_days: self.gap_days,
            theme: self.theme.clone(),
        }
    }
}

/// A secret whose `Debug` never shows it, so it cannot end up in a log line.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    sites: BTreeMap<String, toml::Spanned<RawSite>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    database_url: Option<String>,
    assets_dir: Option<PathBuf>,
    public_url: Option<String>,
    /// `"2s"`, `"500ms"`.
    answer_deadline: Option<String>,
    header_timeout: Option<String>,
    max_connections: Option<usize>,
    drain_timeout: Option<String>,
    limits: Option<RawLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    #[serde(default)]
    origins: Vec<toml::Spanned<String>>,
    export_token: Option<String>,
    #[serde(default)]
    surveys: Vec<toml::Spanned<Survey>>,
    #[serde(default)]
    webhooks: Vec<toml::Spanned<RawWebhook>>,
    #[serde(default)]
    gap_days: u32,
    #[serde(default)]
    theme: survey::Theme,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    id: String,
    url: String,
    #[serde(default)]
    format: webhooks::Format,
    secret: Option<String>,
    #[serde(default)]
    answers: webhooks::Answers,
    #[serde(default)]
    classes: Vec<String>,
    #[serde(default)]
    bands: Vec<String>,
    #[serde(default)]
    surveys: Vec<String>,
    #[serde(default)]
    steps: Vec<String>,
    /// `"24h"`, `"90m"`, `"2 days"`.
    give_up_after: Option<String>,
}

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
    apply_env(&mut settings, |k| std::env::var(k).ok());
    require_secrets(&settings, &path.display().to_string(), &text)?;
    Ok(settings)
}

impl Settings {
    /// Sets where people reach the collector, and the links that use it.
    pub fn set_public_url(&mut self, url: &str) {
        let url = url.trim_end_matches('/').to_owned();
        for site in self.sites.values_mut() {
            for hook in &mut site.webhooks {
                Arc::make_mut(hook).dashboard_url = format!("{url}/dashboard/{}", site.key);
            }
        }
        self.public_url = Some(url);
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

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Environment overrides: `PULSO_LISTEN`, `PULSO_DATABASE_URL`, `PULSO_ASSETS_DIR`,
/// and `PULSO_SITE_<KEY>_TOKEN` (key upper-cased, `-` as `_`) for export tokens.
pub fn apply_env(settings: &mut Settings, var: impl Fn(&str) -> Option<String>) {
    if let Some(v) = var("PULSO_LISTEN") {
        settings.listen = v;
    }
    if let Some(v) = var("PULSO_DATABASE_URL") {
        settings.database_url = v;
    }
    if let Some(v) = var("PULSO_ASSETS_DIR") {
        settings.assets_dir = v.into();
    }
    if let Some(v) = var("PULSO_PUBLIC_URL") {
        settings.set_public_url(&v);
    }
    for site in settings.sites.values_mut() {
        let name = format!("PULSO_SITE_{}_TOKEN", env_key(&site.key));
        if let Some(v) = var(&name).filter(|v| !v.is_empty()) {
            site.export_token = Some(Secret(v));
        }
        for hook in &mut site.webhooks {
            if let Some(v) = var(&secret_var(&site.key, &hook.id)).filter(|v| v.len() >= 16) {
                Arc::make_mut(hook).secret = Some(Secret(v));
            }
        }
    }
}

/// Parses and checks the text of a config file; `file` is only used in errors.
pub fn parse(file: &str, text: &str) -> Result<Settings, ConfigError> {
    let line_of = |offset: usize| line_at(text, offset);
    let error = |offset: Option<usize>, field: String, message: String| ConfigError {
        file: file.to_owned(),
        line: offset.map_or(0, line_of),
        field,
        message,
    };

    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        error(e.span().map(|s| s.start), String::from("(syntax)"), message)
    })?;

    let listen = raw.server.listen.unwrap_or_else(|| DEFAULT_LISTEN.into());
    let public_url = match raw.server.public_url {
        Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            return Err(error(
                offset_of(text, &[PathSeg::Key("server".into())]),
                "server.public_url".into(),
                format!("`{url}` is not an http(s) URL"),
            ));
        }
        url => url.map(|u| u.trim_end_matches('/').to_owned()),
    };
    let link_base = public_url
        .clone()
        .unwrap_or_else(|| format!("http://{listen}"));
    let mut sites = BTreeMap::new();
    for (key, spanned) in raw.sites {
        let at = Some(spanned.span().start);
        let raw_site = spanned.into_inner();
        let field = |name: &str| format!("sites.{key}.{name}");
        if !survey::is_id(&key) {
            return Err(error(
                at,
                format!("sites.{key}"),
                "site keys are letters, digits, '-' or '_'".into(),
            ));
        }
        let mut origins = Vec::new();
        for origin in raw_site.origins {
            let span = origin.span().start;
            let origin = origin.into_inner();
            if !is_origin(&origin) {
                return Err(error(
                    Some(span),
                    field("origins"),
                    format!(
                        "`{origin}` is not an origin like https://shop.example.com (scheme, host, optional port, no path)"
                    ),
                ));
            }
            origins.push(origin);
        }
        let mut seen = HashSet::new();
        let mut surveys = Vec::new();
        for (index, spanned_survey) in raw_site.surveys.into_iter().enumerate() {
            let survey = spanned_survey.into_inner();
            let mut path = vec![
                PathSeg::Key("sites".into()),
                PathSeg::Key(key.clone()),
                PathSeg::Key("surveys".into()),
                PathSeg::Index(index),
            ];
            if let Err(e) = survey.check() {
                path.extend(e.path);
                return Err(error(offset_of(text, &path), dotted(&path), e.message));
            }
            if !seen.insert(survey.id.clone()) {
                path.push(PathSeg::Key("id".into()));
                return Err(error(
                    offset_of(text, &path),
                    dotted(&path),
                    format!("survey id `{}` is used twice in this site", survey.id),
                ));
            }
            surveys.push(survey);
        }
        let export_token = match raw_site.export_token {
            Some(t) if t.trim().len() < 16 => {
                return Err(error(
                    at,
                    field("export_token"),
                    "an export token needs at least 16 characters".into(),
                ));
            }
            t => t.map(Secret),
        };
        if let Err((name, message)) = raw_site.theme.check() {
            let path = [
                PathSeg::Key("sites".into()),
                PathSeg::Key(key.clone()),
                PathSeg::Key("theme".into()),
                PathSeg::Key(name.into()),
            ];
            return Err(error(offset_of(text, &path), dotted(&path), message));
        }
        if raw_site.gap_days > 3650 {
            return Err(error(at, field("gap_days"), "at most 3650 days".into()));
        }
        let mut hooks: Vec<Arc<Webhook>> = Vec::new();
        for (index, raw_hook) in raw_site.webhooks.into_iter().enumerate() {
            let path = [
                PathSeg::Key("sites".into()),
                PathSeg::Key(key.clone()),
                PathSeg::Key("webhooks".into()),
                PathSeg::Index(index),
            ];
            let hook = webhook(&key, raw_hook.into_inner(), &surveys, &link_base).map_err(
                |(name, message)| {
                    let mut at = path.to_vec();
                    at.push(PathSeg::Key(name.into()));
                    error(offset_of(text, &at), dotted(&at), message)
                },
            )?;
            if hooks.iter().any(|h| h.id == hook.id) {
                let mut at = path.to_vec();
                at.push(PathSeg::Key("id".into()));
                return Err(error(
                    offset_of(text, &at),
                    dotted(&at),
                    format!("webhook id `{}` is used twice in this site", hook.id),
                ));
            }
            hooks.push(Arc::new(hook));
        }
        sites.insert(
            key.clone(),
            Site {
                key,
                origins,
                export_token,
                surveys,
                webhooks: hooks,
                gap_days: raw_site.gap_days,
                theme: raw_site.theme,
            },
        );
    }

    let server_error = |name: &str, message: String| {
        let path = [PathSeg::Key("server".into()), PathSeg::Key(name.into())];
        error(offset_of(text, &path), format!("server.{name}"), message)
    };
    let limits = match raw.server.limits {
        None => Limits::default(),
        Some(raw_limits) => raw_limits.check().map_err(|(name, message)| {
            let path = [
                PathSeg::Key("server".into()),
                PathSeg::Key("limits".into()),
                PathSeg::Key(name.into()),
            ];
            error(
                offset_of(text, &path),
                format!("server.limits.{name}"),
                message,
            )
        })?,
    };
    let defaults = Http::default();
    let duration =
        |name: &str, value: Option<String>, default: Duration, min: Duration, max: Duration| {
            match value {
                None => Ok(default),
                Some(text) => parse_duration(&text)
                    .filter(|d| (min..=max).contains(d))
                    .ok_or_else(|| {
                        server_error(
                            name,
                            format!(
                                "`{text}` is not a duration between {} ms and {} s, like \"2s\"",
                                min.as_millis(),
                                max.as_secs()
                            ),
                        )
                    }),
            }
        };
    let http = Http {
        answer_deadline: duration(
            "answer_deadline",
            raw.server.answer_deadline,
            defaults.answer_deadline,
            Duration::from_millis(100),
            Duration::from_secs(30),
        )?,
        header_timeout: duration(
            "header_timeout",
            raw.server.header_timeout,
            defaults.header_timeout,
            Duration::from_millis(100),
            Duration::from_secs(300),
        )?,
        drain_timeout: duration(
            "drain_timeout",
            raw.server.drain_timeout,
            defaults.drain_timeout,
            Duration::ZERO,
            Duration::from_secs(300),
        )?,
        max_connections: match raw.server.max_connections {
            Some(n) if !(1..=1_000_000).contains(&n) => {
                return Err(server_error(
                    "max_connections",
                    "between 1 and 1000000".into(),
                ));
            }
            n => n.unwrap_or(defaults.max_connections),
        },
    };

    Ok(Settings {
        listen,
        public_url,
        http,
        database_url: raw
            .server
            .database_url
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
        assets_dir: raw.server.assets_dir.unwrap_or_else(|| "assets".into()),
        limits,
        sites,
    })
}

/// A webhook checked against its site; errors name the field inside it.
fn webhook(
    site: &str,
    raw: RawWebhook,
    surveys: &[Survey],
    public_url: &str,
) -> Result<Webhook, (&'static str, String)> {
    if !survey::is_id(&raw.id) {
        return Err(("id", "webhook ids are letters, digits, '-' or '_'".into()));
    }
    let url = reqwest::Url::parse(&raw.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or(("url", format!("`{}` is not an http(s) URL", raw.url)))?;
    let secret = match raw.secret {
        Some(s) if s.len() < 16 => {
            return Err((
                "secret",
                "a webhook secret needs at least 16 characters".into(),
            ));
        }
        s => s.map(Secret),
    };
    if let Some(c) = raw
        .classes
        .iter()
        .find(|c| survey::Class::from_name(c).is_none())
    {
        return Err((
            "classes",
            format!("`{c}` is not a class (detractor, passive, promoter)"),
        ));
    }
    if let Some(s) = raw
        .surveys
        .iter()
        .find(|s| !surveys.iter().any(|x| &x.id == *s))
    {
        return Err(("surveys", format!("no survey `{s}` in this site")));
    }
    let in_scope = |s: &&Survey| raw.surveys.is_empty() || raw.surveys.contains(&s.id);
    if let Some(b) = raw.bands.iter().find(|b| {
        !surveys
            .iter()
            .filter(in_scope)
            .any(|s| s.bands.iter().any(|x| &x.id == *b))
    }) {
        return Err((
            "bands",
            format!("no band `{b}` in the surveys of this webhook"),
        ));
    }
    if let Some(s) = raw.steps.iter().find(|s| !survey::is_id(s)) {
        return Err(("steps", format!("`{s}` is not a step name")));
    }
    let give_up_after = match raw.give_up_after {
        None => webhooks::DEFAULT_GIVE_UP_AFTER,
        Some(text) => parse_duration(&text)
            .filter(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_secs(30 * 86400))
            .ok_or((
                "give_up_after",
                format!("`{text}` is not a duration between 1s and 30 days, like \"24h\""),
            ))?,
    };
    Ok(Webhook {
        id: raw.id,
        site: site.to_owned(),
        url,
        format: raw.format,
        secret,
        answers: raw.answers,
        classes: raw.classes,
        bands: raw.bands,
        surveys: raw.surveys,
        steps: raw.steps,
        give_up_after,
        dashboard_url: format!("{public_url}/dashboard/{site}"),
    })
}

/// `"24h"`, `"90m"`, `"2 days"`, `"500ms"`: a duration as people write it.
fn parse_duration(text: &str) -> Option<Duration> {
    text.parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
}

/// `sites.shop.surveys[0].bands[1]`: a path as people read it.
fn dotted(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) if out.is_empty() => out.push_str(k),
            PathSeg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Where in the file the value at `path` is written: the deepest part of the
/// path that the file spells out (a defaulted value points at its table).
fn offset_of(text: &str, path: &[PathSeg]) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue>]> = None;
    for seg in path {
        let value = match (seg, table, array) {
            (PathSeg::Key(name), Some(t), _) => {
                let Some((k, v)) = t
                    .iter()
                    .find(|(k, _)| k.get_ref().as_ref() == name.as_str())
                else {
                    break;
                };
                best = Some(k.span().start);
                v
            }
            (PathSeg::Index(i), _, Some(items)) => {
                let Some(v) = items.get(*i) else { break };
                best = Some(v.span().start);
                v
            }
            _ => break,
        };
        (table, array) = match value.get_ref() {
            DeValue::Table(t) => (Some(t), None),
            DeValue::Array(a) => (None, Some(&a[..])),
            _ => (None, None),
        };
    }
    best
}

/// `scheme://host[:port]` exactly as a browser sends it in the `Origin` header.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest == rest.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
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
        });
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
        });
        assert_eq!(
            s.sites["shop"].export_token.as_ref().unwrap().expose(),
            "from-the-environment"
        );
        assert_eq!(s.database_url, "sqlite://other.db");
    }
}
