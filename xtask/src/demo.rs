//! `cargo xtask demo`: the widget, the collector on a SQLite file, and the demo
//! shop on its own origin, until Ctrl-C.

use std::process::{Child, Command};
use std::time::Duration;

use crate::assets::{self, target_dir};
use crate::{Result, cargo, exec, root};

const COLLECTOR: &str = "127.0.0.1:8080";
const SHOP: &str = "127.0.0.1:8000";

pub fn run() -> Result {
    let built = assets::build()?;
    exec(cargo().args(["build", "-p", "pulso-collector", "-p", "pulso-examples"]))?;
    let bin = target_dir().join("debug");
    let data = target_dir().join("demo");
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let database = format!("sqlite://{}", data.join("pulso.db").display());

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

    std::thread::sleep(Duration::from_millis(500));
    println!(
        "
Pulso demo
  shop:       http://{SHOP}/            (product → cart → checkout → done asks the survey)
  app:        http://{SHOP}/app/        (single-page app: sign in, open Account; 2 s later, half
                                          of the visitors are asked)
  collector:  http://{COLLECTOR}/healthz
  database:   {database}
  dashboard:  http://{COLLECTOR}/dashboard/shop   (token: demo-export-token-change-me)
  export:     curl -H 'Authorization: Bearer demo-export-token-change-me' \\
                'http://{COLLECTOR}/v1/sites/shop/export?format=csv'
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
