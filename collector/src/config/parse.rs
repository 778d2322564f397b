//! The first step of reading `pulso.toml`: the file's raw shape (serde,
//! unknown keys refused), then each part checked into the types of
//! [`super::Settings`], every error located in the file.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use survey::{PathSeg, Survey};

use super::locate::{self, dotted, line_at, offset_of};
use super::{
    ConfigError, DEFAULT_DATABASE_URL, DEFAULT_LISTEN, Http, Limits, MIN_SECRET_CHARS, Secret,
    Settings, Site,
};
use crate::webhooks::{self, Webhook};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    per_ip_per_second: Option<u32>,
    per_ip_burst: Option<u32>,
    per_site_per_second: Option<u32>,
    per_site_burst: Option<u32>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    token_failures_per_client: Option<u32>,
    token_failures_per_site: Option<u32>,
    sign_in_failures_per_account: Option<u32>,
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
            token_failures_per_client: self
                .token_failures_per_client
                .unwrap_or(defaults.token_failures_per_client),
            token_failures_per_site: self
                .token_failures_per_site
                .unwrap_or(defaults.token_failures_per_site),
            sign_in_failures_per_account: self
                .sign_in_failures_per_account
                .unwrap_or(defaults.sign_in_failures_per_account),
        })
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
    session_idle: Option<String>,
    session_max: Option<String>,
    metrics_listen: Option<String>,
    metrics_token: Option<String>,
    limits: Option<RawLimits>,
    smtp: Option<RawSmtp>,
}

/// `[server.smtp]`: where the digest's emails go out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    /// `starttls` (default), `tls` or `none` (a relay on this machine).
    security: Option<String>,
    from: String,
}

/// `[sites.KEY.digest]`: when the weekly digest goes out, in the site's
/// time zone.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    /// `monday` (default) … `sunday`.
    day: Option<String>,
    /// 0–23, default 9.
    hour: Option<i8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    #[serde(default)]
    origins: Vec<toml::Spanned<String>>,
    export_token: Option<String>,
    identity_secret: Option<String>,
    retention_days: Option<u32>,
    #[serde(default)]
    surveys: Vec<toml::Spanned<Survey>>,
    #[serde(default)]
    webhooks: Vec<toml::Spanned<RawWebhook>>,
    #[serde(default)]
    gap_days: u32,
    #[serde(default)]
    theme: survey::Theme,
    #[serde(default)]
    inbox: crate::inbox::RawInbox,
    /// An IANA zone: where the site's waves open and its digest is sent.
    time_zone: Option<String>,
    /// The traits of `identify` stored with answers, for segments.
    #[serde(default)]
    keep_traits: Vec<String>,
    #[serde(default)]
    digest: RawDigest,
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
    #[serde(default)]
    inbox_events: Vec<String>,
    /// `digest.weekly`, `nps.dropped`: none unless listed.
    #[serde(default)]
    programme_events: Vec<String>,
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
        let time_zone = match &raw_site.time_zone {
            None => jiff::tz::TimeZone::UTC,
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                error(
                    at,
                    field("time_zone"),
                    format!("`{name}` is not an IANA time zone (\"Europe/Madrid\")"),
                )
            })?,
        };
        let mut kept = HashSet::new();
        for name in &raw_site.keep_traits {
            if !survey::is_id(name) || !kept.insert(name.as_str()) {
                return Err(error(
                    at,
                    field("keep_traits"),
                    format!("`{name}`: trait names are ids (letters, digits, '-', '_'), each once"),
                ));
            }
        }
        if raw_site.keep_traits.len() > survey::MAX_PROPS {
            return Err(error(
                at,
                field("keep_traits"),
                format!("at most {} traits", survey::MAX_PROPS),
            ));
        }
        let digest = digest_schedule(&raw_site.digest).map_err(|(name, message)| {
            let path = [
                PathSeg::Key("sites".into()),
                PathSeg::Key(key.clone()),
                PathSeg::Key("digest".into()),
                PathSeg::Key(name.into()),
            ];
            error(offset_of(text, &path), dotted(&path), message)
        })?;
        let mut waves = BTreeMap::new();
        for (index, survey) in surveys.iter().enumerate() {
            let Some(raw_waves) = &survey.waves else {
                continue;
            };
            let schedule =
                crate::programme::Schedule::parse(raw_waves).map_err(|(name, message)| {
                    let path = [
                        PathSeg::Key("sites".into()),
                        PathSeg::Key(key.clone()),
                        PathSeg::Key("surveys".into()),
                        PathSeg::Index(index),
                        PathSeg::Key("waves".into()),
                        PathSeg::Key(name.into()),
                    ];
                    error(offset_of(text, &path), dotted(&path), message)
                })?;
            waves.insert(survey.id.clone(), schedule);
        }
        let secret = |name: &str, value: Option<String>| match value {
            Some(t) if t.trim().chars().count() < MIN_SECRET_CHARS => Err(error(
                at,
                field(name),
                format!("needs at least {MIN_SECRET_CHARS} characters"),
            )),
            t => Ok(t.map(Secret::new)),
        };
        let export_token = secret("export_token", raw_site.export_token)?;
        let identity_secret = secret("identity_secret", raw_site.identity_secret)?;
        if raw_site.retention_days.is_some_and(|d| d == 0) {
            return Err(error(
                at,
                field("retention_days"),
                "at least 1 day (leave it out to keep answers)".into(),
            ));
        }
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
        let inbox = crate::inbox::check_settings(raw_site.inbox, &surveys, parse_duration)
            .map_err(|(name, message)| {
                let mut path = vec![
                    PathSeg::Key("sites".into()),
                    PathSeg::Key(key.clone()),
                    PathSeg::Key("inbox".into()),
                ];
                path.extend(locate::segments(&name));
                error(offset_of(text, &path), dotted(&path), message)
            })?;
        // A thank-you that says when the team will be in touch needs the
        // inbox to give the band's class a deadline.
        for (s, survey) in surveys.iter().enumerate() {
            for (b, band) in survey.bands.iter().enumerate() {
                let Some(class) = band
                    .thanks
                    .as_ref()
                    .filter(|t| t.in_touch)
                    .and_then(|_| crate::programme::thanks::class_of(band))
                else {
                    continue;
                };
                if inbox.deadline(class).is_none() {
                    let path = [
                        PathSeg::Key("sites".into()),
                        PathSeg::Key(key.clone()),
                        PathSeg::Key("surveys".into()),
                        PathSeg::Index(s),
                        PathSeg::Key("bands".into()),
                        PathSeg::Index(b),
                        PathSeg::Key("thanks".into()),
                        PathSeg::Key("in_touch".into()),
                    ];
                    return Err(error(
                        offset_of(text, &path),
                        dotted(&path),
                        format!(
                            "the inbox gives {}s no deadline (`deadlines` under \
                             [sites.{key}.inbox]): nothing would be due by the time it promises",
                            class.as_str()
                        ),
                    ));
                }
            }
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
                identity_secret,
                retention_days: raw_site.retention_days,
                surveys,
                webhooks: hooks,
                gap_days: raw_site.gap_days,
                theme: raw_site.theme,
                inbox,
                time_zone,
                waves,
                keep_traits: raw_site.keep_traits,
                digest,
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
        session_idle: duration(
            "session_idle",
            raw.server.session_idle,
            defaults.session_idle,
            Duration::from_secs(60),
            Duration::from_secs(30 * 24 * 3600),
        )?,
        session_max: duration(
            "session_max",
            raw.server.session_max,
            defaults.session_max,
            Duration::from_secs(60),
            Duration::from_secs(90 * 24 * 3600),
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

    let metrics_token = match raw.server.metrics_token {
        Some(t) if t.trim().chars().count() < MIN_SECRET_CHARS => {
            return Err(server_error(
                "metrics_token",
                format!("needs at least {MIN_SECRET_CHARS} characters"),
            ));
        }
        t => t.map(Secret::new),
    };
    let smtp = match raw.server.smtp {
        None => None,
        Some(raw_smtp) => Some(smtp(raw_smtp).map_err(|(name, message)| {
            let path = [
                PathSeg::Key("server".into()),
                PathSeg::Key("smtp".into()),
                PathSeg::Key(name.into()),
            ];
            error(
                offset_of(text, &path),
                format!("server.smtp.{name}"),
                message,
            )
        })?),
    };
    Ok(Settings {
        link_base: public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}")),
        smtp,
        listen,
        public_url,
        http,
        metrics_listen: raw.server.metrics_listen,
        metrics_token,
        database_url: Secret::new(
            raw.server
                .database_url
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
        ),
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
    // The URL is a credential (Slack's is): errors show its origin only.
    let url = reqwest::Url::parse(&raw.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or((
            "url",
            format!(
                "`{}` is not an http(s) URL",
                raw.url.split('/').take(3).collect::<Vec<_>>().join("/")
            ),
        ))?;
    let secret = match raw.secret {
        Some(s) if s.chars().count() < MIN_SECRET_CHARS => {
            return Err((
                "secret",
                format!("a webhook secret needs at least {MIN_SECRET_CHARS} characters"),
            ));
        }
        s => s.map(Secret::new),
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
    if let Some(k) = raw
        .programme_events
        .iter()
        .find(|k| !crate::digest::EVENTS.contains(&k.as_str()))
    {
        return Err((
            "programme_events",
            format!("`{k}` is none of {}", crate::digest::EVENTS.join(", ")),
        ));
    }
    if let Some(k) = raw
        .inbox_events
        .iter()
        .find(|k| !webhooks::inbox::KINDS.contains(&k.as_str()))
    {
        return Err((
            "inbox_events",
            format!("`{k}` is none of {}", webhooks::inbox::KINDS.join(", ")),
        ));
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
        url: Secret::wrap(url),
        format: raw.format,
        secret,
        answers: raw.answers,
        classes: raw.classes,
        bands: raw.bands,
        surveys: raw.surveys,
        steps: raw.steps,
        give_up_after,
        inbox_events: raw.inbox_events,
        programme_events: raw.programme_events,
        dashboard_url: format!("{public_url}/dashboard/{site}"),
    })
}

/// `"24h"`, `"90m"`, `"2 days"`, `"500ms"`: a duration as people write it.
fn parse_duration(text: &str) -> Option<Duration> {
    text.parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
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

/// `[sites.KEY.digest]` checked.
fn digest_schedule(raw: &RawDigest) -> Result<crate::digest::Schedule, (&'static str, String)> {
    use jiff::civil::Weekday;
    let day = match raw.day.as_deref().unwrap_or("monday") {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        other => return Err(("day", format!("`{other}` is no day: monday … sunday"))),
    };
    let hour = raw.hour.unwrap_or(9);
    if !(0..=23).contains(&hour) {
        return Err(("hour", format!("{hour}: an hour of the day, 0 to 23")));
    }
    Ok(crate::digest::Schedule { day, hour })
}

/// `[server.smtp]` checked (its credentials come from the environment).
fn smtp(raw: RawSmtp) -> Result<crate::config::Smtp, (&'static str, String)> {
    use crate::config::SmtpSecurity;
    let security = match raw.security.as_deref().unwrap_or("starttls") {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        other => {
            return Err((
                "security",
                format!("`{other}`: starttls, tls or none (a relay on this machine)"),
            ));
        }
    };
    if security == SmtpSecurity::None
        && !matches!(raw.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    {
        return Err((
            "security",
            "none sends in clear text: only to a relay on this machine (localhost)".into(),
        ));
    }
    if raw.host.trim().is_empty() {
        return Err(("host", "the SMTP server's name".into()));
    }
    if raw.from.parse::<lettre::message::Mailbox>().is_err() {
        return Err((
            "from",
            format!(
                "`{}` is not an address (\"Pulso <pulso@example.com>\")",
                raw.from
            ),
        ));
    }
    let port = raw.port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    });
    Ok(crate::config::Smtp {
        host: raw.host,
        port,
        security,
        from: raw.from,
        username: None,
        password: None,
    })
}
