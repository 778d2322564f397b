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
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulso: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

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
            Store::open(&settings.database_url).await?.close().await;
            println!("{}: migrated", settings.database_url);
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
            let settings = config::load(&config)?;
            if !settings.sites.contains_key(&site) {
                return Err(format!("no site `{site}` in {}", config.display()).into());
            }
            let store = Store::open(&settings.database_url).await?;
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
        Command::Serve { config } => serve(config::load(&config)?).await,
    }
}

async fn serve(mut settings: Settings) -> Result<(), Error> {
    let store = Store::open_with(&settings.database_url, settings.http.answer_deadline).await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen).await?;
    let addr = listener.local_addr()?;
    if settings.public_url.is_none() {
        // Links in webhook messages then point at the address actually bound.
        settings.set_public_url(&format!("http://{addr}"));
    }
    tracing::info!(database = %settings.database_url, assets = %settings.assets_dir.display(), "starting");
    // One machine-readable line on stdout, for scripts and tests that bind port 0.
    println!("pulso listening on http://{addr}");
    std::io::stdout().flush()?;
    let state = AppState::new(settings, store.clone());
    collector::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
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
