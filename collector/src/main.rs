//! `pulso`: the collector's command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use collector::config::{self, Settings};
use collector::store::Store;
use collector::{AppState, export};
use futures_util::StreamExt;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "pulso", version, about = "Pulso NPS survey collector")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the loader, the widget and the API.
    Serve {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
    },
    /// Have the running collector read its configuration again, once this
    /// command has checked it (the same as sending it SIGHUP). The
    /// collector's process id is in the pid file `serve` writes beside the
    /// configuration (pulso.toml → pulso.pid).
    Reload {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
    },
    /// Check a configuration file and exit.
    CheckConfig { file: PathBuf },
    /// Write a site's answers to standard output (or --output), the same bytes
    /// as GET /v1/sites/SITE/export.
    Export {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        site: String,
        #[command(flatten)]
        params: Box<export::Params>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Create or upgrade the database schema and exit.
    Migrate {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
    },
    /// Recompute the report's rollups from the answers (`--rebuild`), in one
    /// transaction: answers posted meanwhile wait for it.
    Rollup {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
        /// Required: what the command does.
        #[arg(long, required = true)]
        rebuild: bool,
    },
    /// A site's weekly digest: printed as text, or sent now (--send) to the
    /// members who want it and the webhooks that listen.
    Digest {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        site: String,
        /// The ISO week, e.g. 2026-W48 (default: the latest week due).
        #[arg(long)]
        week: Option<String>,
        /// Send it now (claimed or not): emails and webhook events.
        #[arg(long)]
        send: bool,
    },
    /// Manage people: add (the first owner too), list, remove, reset-password.
    User {
        #[arg(
            long,
            default_value = "pulso.toml",
            env = "PULSO_CONFIG",
            global = true
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: collector::people::cli::UserCommand,
    },
    /// Erase a person's answers on a site, and their webhook events, in one
    /// transaction (recorded in the audit log).
    #[command(group(clap::ArgGroup::new("whom").required(true).args(["user_id", "respondent"])))]
    Erase {
        #[arg(long, default_value = "pulso.toml", env = "PULSO_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        site: String,
        /// Every answer of this user id (any device).
        #[arg(long)]
        user_id: Option<String>,
        /// Every answer of this browser's respondent id.
        #[arg(long)]
        respondent: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PULSO_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match start(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulso: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

/// Runs `command` on a runtime: the collector's sized for its database
/// (read first, so a bad file stops it before anything starts), tokio's
/// default for the one-off commands.
fn start(command: Command) -> Result<(), Error> {
    if let Command::Serve { config } = command {
        let settings = config::load(&config)?;
        let runtime = collector::server::runtime(settings.database_url.expose())?;
        return runtime.block_on(serve(settings, config));
    }
    tokio::runtime::Runtime::new()?.block_on(run(command))
}

async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::CheckConfig { file } => {
            let settings = config::load(&file)?;
            let surveys: usize = settings.sites.values().map(|s| s.surveys.len()).sum();
            println!(
                "{}: ok ({} sites, {surveys} surveys)",
                file.display(),
                settings.sites.len()
            );
            Ok(())
        }
        Command::Migrate { config } => {
            let settings = config::load(&config)?;
            let url = settings.database_url.expose();
            Store::open(url).await?.close().await;
            println!("{}: migrated", collector::store::redact_url(url));
            Ok(())
        }
        Command::Rollup { config, .. } => {
            let settings = config::load(&config)?;
            let store = Store::open(settings.database_url.expose()).await?;
            let counted = store.rebuild_rollups().await?;
            store.close().await;
            println!("rollups rebuilt from {counted} answers");
            Ok(())
        }
        Command::Digest {
            config,
            site,
            week,
            send,
        } => {
            let settings = config::load(&config)?;
            let site = settings
                .sites
                .get(&site)
                .ok_or_else(|| format!("no site `{site}` in {}", config.display()))?;
            let now = jiff::Timestamp::now().as_millisecond();
            let period = match &week {
                Some(week) => collector::digest::Period::parse_week(week)
                    .ok_or_else(|| format!("--week: `{week}` is not a week (2026-W48)"))?,
                None => {
                    collector::digest::due(
                        collector::digest::Kind::Weekly,
                        site.digest,
                        &site.time_zone,
                        now,
                    )
                    .ok_or("no week is due yet")?
                    .0
                }
            };
            let store = Store::open(settings.database_url.expose()).await?;
            if send {
                let sent = collector::digest::send_now(&settings, &store, site, period).await?;
                store.close().await;
                println!(
                    "digest {} of {}: emailed to {} member(s), {} webhook event(s) queued",
                    period.label(),
                    site.key,
                    sent.emails.len(),
                    sent.events
                );
                let not_sent = [sent.failed, sent.refused].concat();
                if !not_sent.is_empty() {
                    return Err(format!("not sent: {}", not_sent.join("; ")).into());
                }
                return Ok(());
            }
            let digest =
                collector::digest::build(&store, site, period, &settings.link_base, now).await?;
            store.close().await;
            let lang = site
                .surveys
                .first()
                .map_or("en", |s| s.default_locale.as_str());
            print!(
                "{}",
                collector::digest::render::text(collector::digest::render::words(lang), &digest)
            );
            Ok(())
        }
        Command::Export {
            config,
            site,
            params,
            output,
        } => {
            let asked = params
                .parse()
                .map_err(|(field, message)| format!("--{field}: {message}"))?;
            if asked.by.is_some() {
                return Err("--by: a breakdown is the report's; exports list every answer".into());
            }
            let settings = config::load(&config)?;
            if !settings.sites.contains_key(&site) {
                return Err(format!("no site `{site}` in {}", config.display()).into());
            }
            let store = Store::open(settings.database_url.expose()).await?;
            let mut out: Box<dyn Write> = match output {
                Some(path) => Box::new(std::fs::File::create(path)?),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut chunks = std::pin::pin!(export::export_stream(
                store.clone(),
                site,
                asked.filter,
                asked.format
            ));
            while let Some(chunk) = chunks.next().await {
                out.write_all(&chunk?)?;
            }
            out.flush()?;
            store.close().await;
            Ok(())
        }
        Command::Erase {
            config,
            site,
            user_id,
            respondent,
        } => {
            let settings = config::load(&config)?;
            if !settings.sites.contains_key(&site) {
                return Err(format!("no site `{site}` in {}", config.display()).into());
            }
            let subject = match (user_id, respondent) {
                (Some(u), None) => collector::store::Subject::UserId(u),
                (None, Some(r)) => collector::store::Subject::Respondent(r),
                _ => return Err("give one of --user-id and --respondent".into()),
            };
            let store = Store::open(settings.database_url.expose()).await?;
            let audit = collector::privacy::audit_of("cli", &site, &subject, None);
            let erased = store.erase(&site, &subject, audit).await?;
            println!(
                "erased {} answers and {} webhook events of that {} on {site}",
                erased.answers,
                erased.events,
                subject.kind()
            );
            store.close().await;
            Ok(())
        }
        Command::User { config, command } => {
            let settings = config::load(&config)?;
            let store = Store::open(settings.database_url.expose()).await?;
            let done = collector::people::cli::run(&settings, &store, command).await;
            store.close().await;
            println!("{}", done?);
            Ok(())
        }
        Command::Serve { .. } => unreachable!("`start` serves"),
        Command::Reload { config } => {
            config::load(&config)?;
            let pid_file = config.with_extension("pid");
            let pid = std::fs::read_to_string(&pid_file)
                .map_err(|e| format!("{}: {e} (is the collector running?)", pid_file.display()))?;
            let pid = pid.trim();
            if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{}: `{pid}` is no process id", pid_file.display()).into());
            }
            let signalled = std::process::Command::new("kill")
                .args(["-HUP", pid])
                .status()
                .map_err(|e| format!("cannot run kill: {e}"))?;
            if !signalled.success() {
                return Err(format!("no collector with process id {pid} to reload").into());
            }
            println!("{} checked; collector {pid} reloads it", config.display());
            Ok(())
        }
    }
}

async fn serve(mut settings: Settings, config: PathBuf) -> Result<(), Error> {
    // Logged before opening, so a database that does not answer is named (its
    // password never is).
    tracing::info!(
        database = %collector::store::redact_url(settings.database_url.expose()),
        assets = %settings.assets_dir.display(),
        "starting"
    );
    let store = Store::open_with(
        settings.database_url.expose(),
        settings.http.answer_deadline,
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen).await?;
    let addr = listener.local_addr()?;
    if settings.public_url.is_none() {
        // Links in webhook messages then point at the address actually bound.
        settings.set_link_base(&format!("http://{addr}"));
    }
    let metrics = match &settings.metrics_listen {
        Some(listen) => Some(tokio::net::TcpListener::bind(listen).await?),
        None => None,
    };
    // Machine-readable lines on stdout, for scripts and tests that bind port
    // 0 (the metrics' first: the listening line says the start is over).
    if let Some(metrics) = &metrics {
        println!("pulso metrics on http://{}/metrics", metrics.local_addr()?);
    }
    println!("pulso listening on http://{addr}");
    std::io::stdout().flush()?;
    let link_base = settings.link_base.clone();
    let state = AppState::new(settings, store.clone());
    let metrics =
        metrics.map(|listener| tokio::spawn(collector::serve_metrics(listener, state.clone())));
    // `pulso reload` finds the process here.
    let pid_file = config.with_extension("pid");
    if let Err(error) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
        tracing::warn!(file = %pid_file.display(), %error, "cannot write the pid file; pulso reload will not find this collector");
    }
    let (reload, reloads) = tokio::sync::mpsc::channel(1);
    let running = state.settings().clone();
    let watcher = tokio::spawn(reload_on_hangup(config, running, link_base, reload));
    collector::serve_reloading(listener, state, shutdown_signal(), reloads).await?;
    watcher.abort();
    let _ = std::fs::remove_file(&pid_file);
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
/// On every SIGHUP, the configuration file read and checked again: a good
/// one goes to `reload` (what only a restart can change — the address, the
/// database, the metrics address, the server's limits and timeouts — kept as
/// it runs, with a warning); a bad one is logged with its file, line and
/// field, and the running configuration stays.
async fn reload_on_hangup(
    path: PathBuf,
    running: Settings,
    link_base: String,
    reload: tokio::sync::mpsc::Sender<Settings>,
) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hangups.recv().await.is_some() {
            let mut next = match config::load(&path) {
                Ok(next) => next,
                Err(error) => {
                    tracing::error!(%error, "configuration not reloaded: the running one stays");
                    continue;
                }
            };
            let kept = restart_only(&running, &mut next);
            if !kept.is_empty() {
                tracing::warn!(
                    settings = kept.join(", "),
                    "changed in the file, but only a restart applies them"
                );
            }
            if next.public_url.is_none() {
                next.set_link_base(&link_base);
            }
            if reload.send(next).await.is_err() {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, running, link_base, reload);
    }
}

/// Puts back in `next` what only a restart changes; their names.
fn restart_only(running: &Settings, next: &mut Settings) -> Vec<&'static str> {
    let mut kept = Vec::new();
    if next.listen != running.listen {
        next.listen.clone_from(&running.listen);
        kept.push("server.listen");
    }
    if next.database_url != running.database_url {
        next.database_url = running.database_url.clone();
        kept.push("server.database_url");
    }
    if next.metrics_listen != running.metrics_listen {
        next.metrics_listen.clone_from(&running.metrics_listen);
        kept.push("server.metrics_listen");
    }
    if next.http != running.http {
        next.http = running.http.clone();
        kept.push("server (timeouts, connections)");
    }
    kept
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down; finishing requests in flight");
}
