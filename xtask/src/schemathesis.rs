//! Schemathesis (from PyPI, pinned, in a virtual environment under
//! target/tools) against a running collector: requests generated from the
//! collector's own OpenAPI document, every check on, from a fixed seed (a
//! failure is the same failure on the next run), zero failures allowed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::assets::target_dir;
use crate::{Result, exec, root};

const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// Fixed, so that a run can be repeated exactly; change it to explore.
const SEED: &str = "229845012347713408861046218334402471853";
const MAX_EXAMPLES: &str = "150";
const TOKEN: &str = "schemathesis-token-0123456789";

/// `st`, installed when missing (python3 with venv is needed: Debian's
/// python3-venv, installed when root).
pub fn install() -> Result<PathBuf> {
    let venv = target_dir().join("tools/venv");
    let st = venv.join("bin/st");
    let pinned = venv.join(format!("{SCHEMATHESIS}.installed"));
    if st.is_file() && pinned.is_file() {
        return Ok(st);
    }
    if Command::new("python3")
        .args(["-m", "venv", "--help"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        crate::tools::apt_install(
            "Schemathesis runs in a Python virtual environment",
            &["python3-venv"],
        )?;
    }
    exec(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    exec(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        SCHEMATHESIS,
    ]))?;
    std::fs::write(&pinned, "").map_err(|e| format!("cannot write {}: {e}", pinned.display()))?;
    Ok(st)
}

/// The example configuration, its limits out of the fuzzer's way (it sends
/// thousands of requests, wrong tokens among them, from one address), the
/// metrics behind the same token as the exports.
fn config(dir: &Path) -> Result<PathBuf> {
    let example = std::fs::read_to_string(root().join("examples/pulso.toml"))
        .map_err(|e| format!("cannot read the example configuration: {e}"))?;
    let text = example
        .replace(
            "[sites.shop]",
            &format!(
                "metrics_token = \"{TOKEN}\"\n\n[server.limits]\nper_ip_per_second = 1000000\n\
                 per_ip_burst = 1000000\nper_site_per_second = 1000000\nper_site_burst = 1000000\n\
                 token_failures_per_client = 1000000\ntoken_failures_per_site = 1000000\n\n[sites.shop]"
            ),
        )
        .lines()
        .map(|line| {
            if line.starts_with("export_token = ") {
                format!("export_token = \"{TOKEN}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("pulso.toml");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Runs Schemathesis with `st` against the collector binary `pulso`.
pub fn run(st: &Path, pulso: &Path) -> Result {
    let dir = target_dir().join("tmp/schemathesis");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let config = config(&dir)?;
    let database = format!("sqlite://{}", dir.join("pulso.db").display());
    // An admin of the site with an API token of theirs: the fuzzer reaches
    // every endpoint as someone allowed to, and the machine token's
    // refusals are the tests' (tests/people.rs).
    let pulso_user = |args: &[&str]| {
        let mut command = Command::new(pulso);
        command
            .args(["user", "--config"])
            .arg(&config)
            .args(args)
            .env("PULSO_DATABASE_URL", &database)
            .env("PULSO_LOG", "warn");
        command
    };
    // (Its set-password link, printed, is of a throwaway database.)
    crate::exec_output(&mut pulso_user(&[
        "add",
        "--email",
        "schemathesis@pulso.test",
        "--name",
        "Schemathesis",
        "--site",
        "shop",
        "--role",
        "admin",
    ]))?;
    let token = crate::exec_output(&mut pulso_user(&[
        "token",
        "--email",
        "schemathesis@pulso.test",
        "--name",
        "schemathesis",
        "--site",
        "shop",
    ]))?
    .trim()
    .to_owned();
    let mut collector = Command::new(pulso)
        .args(["serve", "--config"])
        .arg(&config)
        .env("PULSO_LISTEN", "127.0.0.1:0")
        .env("PULSO_DATABASE_URL", &database)
        .env("PULSO_ASSETS_DIR", crate::assets::assets_dir())
        .env("PULSO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the collector: {e}"))?;
    let url = BufReader::new(collector.stdout.take().ok_or("no stdout")?)
        .lines()
        .map_while(std::result::Result::ok)
        .find_map(|l| l.strip_prefix("pulso listening on ").map(str::to_owned));
    let result = match url {
        None => Err("the collector did not start".to_owned()),
        Some(url) => {
            // Schemathesis's own configuration names the scheme the token is
            // for (and keeps it out of the command line printed).
            let settings = dir.join("schemathesis.toml");
            std::fs::write(
                &settings,
                // A missing If-Match is 428 Precondition Required (RFC 6585).
                "[auth.openapi.bearer]\nbearer = \"${PULSO_ST_TOKEN}\"\n\n\
                 [checks.missing_required_header]\n\
                 expected-statuses = [\"400\", \"401\", \"403\", \"406\", \"415\", \"422\", \"428\"]\n\n\
                 # An answer's owner must be an agent of the site: people,\n\
                 # not configuration, so the document cannot list them (422).\n\
                 [[operations]]\ninclude-name = \"PATCH /v1/sites/{site}/answers/{id}\"\n\
                 checks.positive_data_acceptance.expected-statuses = \
                 [\"2XX\", \"401\", \"403\", \"404\", \"409\", \"422\", \"429\"]\n",
            )
            .map_err(|e| format!("cannot write {}: {e}", settings.display()))?;
            exec(
                Command::new(st)
                    .arg("--config-file")
                    .arg(&settings)
                    .args(["--no-color", "run"])
                    .arg(format!("{url}/openapi.json"))
                    .args(["--seed", SEED, "--max-examples", MAX_EXAMPLES])
                    .env("PULSO_ST_TOKEN", &token)
                    .current_dir(&dir),
            )
        }
    };
    let _ = collector.kill();
    let _ = collector.wait();
    result
}
