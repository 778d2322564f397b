//! A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries
//! (installed when root and missing), `initdb` in a temp folder, run as an
//! unprivileged user on a free loopback port, stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, exec};

pub struct Server {
    dir: PathBuf,
    bin: PathBuf,
    as_user: Option<&'static str>,
    /// `postgres://pulso@127.0.0.1:PORT/postgres`: a superuser, trusted on loopback.
    pub url: String,
}

/// Where Debian puts the server programs (`/usr/lib/postgresql/VERSION/bin`).
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").exists() && bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Server {
    pub fn start() -> Result<Server> {
        let bin = match binaries() {
            Some(bin) => bin,
            None => {
                crate::tools::apt_install(
                    "PostgreSQL (the tests of its backend)",
                    &["postgresql"],
                )?;
                binaries().ok_or("postgresql is installed but its binaries were not found")?
            }
        };
        // PostgreSQL refuses to run as root: as root, run it as the package's user.
        let as_user = is_root().then_some("postgres");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("pulso-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if let Some(user) = as_user {
            exec(
                Command::new("chown")
                    .args([&format!("{user}:{user}")])
                    .arg(&dir),
            )?;
        }
        let server = Server {
            url: format!("postgres://pulso@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            as_user,
        };
        let data = server.dir.join("data");
        server.run("initdb", |c| {
            c.args([
                "-U",
                "pulso",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "-D",
            ])
            .arg(&data);
        })?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            server.dir.display()
        );
        server.run("pg_ctl", |c| {
            c.args(["-w", "-t", "60", "-l"])
                .arg(server.dir.join("log"))
                .args(["-o", &options, "-D"])
                .arg(&data)
                .arg("start");
        })?;
        eprintln!("postgres: {} ({})", server.url, server.dir.display());
        Ok(server)
    }

    /// Runs one of the server's programs, as the unprivileged user when root.
    fn run(&self, program: &str, args: impl FnOnce(&mut Command)) -> Result {
        let path = self.bin.join(program);
        let mut command = match self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        args(&mut command);
        command.current_dir(&self.dir);
        exec(&mut command)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A shell command that restarts the server (fast shutdown, same port),
    /// for the test of an outage of the database.
    pub fn restart_command(&self) -> String {
        let prefix = self
            .as_user
            .map(|u| format!("runuser -u {u} -- "))
            .unwrap_or_default();
        format!(
            "{prefix}{} -w -m fast -l {} -D {} restart",
            self.bin.join("pg_ctl").display(),
            self.dir.join("log").display(),
            self.data().display()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run("pg_ctl", |c| {
            c.args(["-w", "-m", "fast", "-D"]).arg(&data).arg("stop");
        });
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}
