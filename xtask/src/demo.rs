//! `cargo xtask demo`: the widget, the collector on a SQLite file, and the demo
//! shop on its own origin, until Ctrl-C.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::assets::{self, target_dir};
use crate::{Result, cargo, exec, root};

const COLLECTOR: &str = "127.0.0.1:8080";
const SHOP: &str = "127.0.0.1:8000";
const OWNER: &str = "owner@pulso.demo";
/// The example configuration's read-only machine token of the shop.
const EXPORT_TOKEN: &str = "demo-export-token-change-me";

/// A fresh password for the demo owner: 80 random bits.
fn demo_password() -> Result<String> {
    let mut bytes = [0u8; 10];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read random bytes: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("demo-{}-{}", &hex[..10], &hex[10..]))
}

/// The demo owner, with `password` (added, or their password reset when the
/// demo's database has them already).
fn demo_owner(pulso: &std::path::Path, database: &str, password: &str) -> Result {
    let run = |args: &[&str]| -> Result<bool> {
        let mut child = Command::new(pulso)
            .args(["user", "--config"])
            .arg(root().join("examples/pulso.toml"))
            .args(args)
            .env("PULSO_DATABASE_URL", database)
            .env("PULSO_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run pulso user: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = writeln!(stdin, "{password}");
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("pulso user: {e}"))?;
        if !out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("has an account")
        {
            return Err(format!(
                "pulso user: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.status.success())
    };
    let added = run(&[
        "add",
        "--email",
        OWNER,
        "--name",
        "Demo owner",
        "--owner",
        "--password-stdin",
    ])?;
    if !added {
        run(&["reset-password", "--email", OWNER, "--password-stdin"])?;
    }
    Ok(())
}

/// An API token of the demo owner's for the shop (to seed the inbox).
fn demo_token(pulso: &std::path::Path, database: &str) -> Result<String> {
    let out = Command::new(pulso)
        .args(["user", "--config"])
        .arg(root().join("examples/pulso.toml"))
        .args([
            "token",
            "--email",
            OWNER,
            "--name",
            "demo seed",
            "--site",
            "shop",
        ])
        .env("PULSO_DATABASE_URL", database)
        .env("PULSO_LOG", "warn")
        .output()
        .map_err(|e| format!("cannot run pulso user token: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("pulso_"))
        .map(str::to_owned)
        .ok_or_else(|| format!("pulso user token: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Waits (at most 30 s) until the collector at `address` takes connections.
fn wait_for(address: &str) -> Result {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(address).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the collector did not listen on {address} within 30 s"
    ))
}

pub fn run() -> Result {
    let built = assets::build()?;
    exec(cargo().args(["build", "-p", "pulso-collector", "-p", "pulso-examples"]))?;
    let bin = target_dir().join("debug");
    let data = target_dir().join("demo");
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let database = format!("sqlite://{}", data.join("pulso.db").display());
    // The collector listens on loopback only: the printed password opens
    // nothing from another machine.
    let password = demo_password()?;
    demo_owner(&bin.join("pulso"), &database, &password)?;

    let collector = Command::new(bin.join("pulso"))
        .args(["serve", "--config"])
        .arg(root().join("examples/pulso.toml"))
        .env("PULSO_LISTEN", COLLECTOR)
        .env("PULSO_DATABASE_URL", &database)
        .env("PULSO_ASSETS_DIR", &built.dir)
        .spawn()
        .map_err(|e| format!("cannot start the collector: {e}"))?;
    let shop = Command::new(bin.join("pulso-shop"))
        .args([
            "--listen",
            SHOP,
            "--collector",
            &format!("http://{COLLECTOR}"),
        ])
        .spawn()
        .map_err(|e| format!("cannot start the demo shop: {e}"))?;
    let mut children = Children(vec![collector, shop]);

    wait_for(COLLECTOR)?;
    let seeded = crate::demo_seed::seed(
        COLLECTOR,
        EXPORT_TOKEN,
        || demo_token(&bin.join("pulso"), &database),
        OWNER,
    )?;
    if seeded {
        println!("demo: nine answers seeded into the inbox, one or more in each state");
    }
    println!(
        "
Pulso demo
  shop:       http://{SHOP}/            (product → cart → checkout → done asks the survey)
  app:        http://{SHOP}/app/        (single-page app: sign in, open Account; 2 s later, half
                                          of the visitors are asked)
  collector:  http://{COLLECTOR}/healthz
  database:   {database}
  dashboard:  http://{COLLECTOR}/dashboard/shop
              sign in as {OWNER}, password {password}
              (a new password each run; members, tokens and the audit log are on the pages)
  inbox:      http://{COLLECTOR}/dashboard/shop/answers
  export:     curl -H 'Authorization: Bearer {EXPORT_TOKEN}' \\
                'http://{COLLECTOR}/v1/sites/shop/export?format=csv'
              (the site's read-only machine token: export and report)
Ctrl-C stops both.
"
    );
    loop {
        for child in &mut children.0 {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "a demo process stopped ({status}); is port 8000 or 8080 in use?"
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Stops the demo's processes however the task ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
