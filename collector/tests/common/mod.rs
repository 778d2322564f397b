//! What the collector's integration suites share: the database each test runs
//! on. `cargo xtask test` runs the suites twice, the second time with
//! `PULSO_TEST_POSTGRES` naming a throwaway PostgreSQL server.

pub mod app;
pub mod inbox;
pub mod smtp;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// A fresh database for one test: an SQLite file in `dir`, or a new database
/// on the PostgreSQL server of `PULSO_TEST_POSTGRES`.
pub async fn database_url(dir: &Path) -> String {
    let Some(server) = std::env::var("PULSO_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        return format!("sqlite://{}", dir.join("pulso.db").display());
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "pulso_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let (base, _) = server
        .rsplit_once('/')
        .expect("a server URL ends with /DATABASE");
    format!("{base}/{name}")
}
