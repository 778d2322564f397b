//! `pulso user add | list | token | remove | reset-password`: people managed from
//! the machine the collector runs on, with no form open to the world (how
//! the first owner comes to be). A new person gets a one-time set-password
//! link (72 hours, stored hashed); `--password-stdin` sets a password at
//! once instead, for scripts. Every change is in the audit log as `cli`.

use std::fmt::Write as _;

use super::{Role, audit_entry, new_link, now_millis, password, web};
use crate::config::Settings;
use crate::store::{NewUser, Store, StoreError};

/// What `pulso user` does.
#[derive(clap::Subcommand, Debug)]
pub enum UserCommand {
    /// Add a person; prints their set-password link (or, with
    /// --password-stdin, sets the password read from standard input).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Every right on every site.
        #[arg(long)]
        owner: bool,
        /// A site to give them a role on (with --role).
        #[arg(long, requires = "role")]
        site: Option<String>,
        /// viewer, agent or admin.
        #[arg(long, requires = "site")]
        role: Option<String>,
        /// Read the password from standard input instead of printing a link.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List people, their roles and whether they have set a password.
    List,
    /// Make an API token of a person's for scripts, with their role on the
    /// sites named; prints it once (revoke it on the account page).
    Token {
        #[arg(long)]
        email: String,
        /// What it is for, as the account page lists it.
        #[arg(long)]
        name: String,
        /// A site it acts on (repeat for more).
        #[arg(long = "site", required = true)]
        sites: Vec<String>,
    },
    /// Remove a person, their roles, sessions and tokens.
    Remove {
        #[arg(long)]
        email: String,
    },
    /// End a person's password and sessions; prints a new set-password link
    /// (or, with --password-stdin, sets the password read from standard input).
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A password from standard input (its first line), checked like the form's.
fn read_password(email: &str, name: &str) -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    password::check(&password, email, name).map_err(|weak| match weak {
        password::Weak::TooShort => {
            format!(
                "the password needs at least {} characters",
                password::MIN_CHARS
            )
        }
        password::Weak::Guessable => "that password is too easy to guess".to_owned(),
    })?;
    Ok(password)
}

/// Where set-password links point.
fn link_base(settings: &Settings) -> String {
    settings.public_url.clone().unwrap_or_else(|| {
        let listen = settings.listen.replace("0.0.0.0", "127.0.0.1");
        format!("http://{listen}")
    })
}

/// Runs `command`; what it prints, or why it failed.
pub async fn run(
    settings: &Settings,
    store: &Store,
    command: UserCommand,
) -> Result<String, String> {
    let failed = |e: StoreError| e.to_string();
    let now = now_millis();
    match command {
        UserCommand::Add {
            email,
            name,
            owner,
            site,
            role,
            password_stdin,
        } => {
            let email = web::normal_email(&email);
            let name = name.trim().to_owned();
            if !web::is_email(&email) {
                return Err(format!("--email: `{email}` is not an email address"));
            }
            if name.is_empty() || name.chars().count() > 100 {
                return Err("--name: between 1 and 100 characters".into());
            }
            let role = match (site.as_deref(), role.as_deref()) {
                (Some(site), Some(role)) => {
                    if !settings.sites.contains_key(site) {
                        return Err(format!("--site: no site `{site}` in the configuration"));
                    }
                    let role = Role::parse(role).ok_or("--role: one of viewer, agent, admin")?;
                    Some((site, role.as_str()))
                }
                _ => None,
            };
            let phc = if password_stdin {
                let password = read_password(&email, &name)?;
                Some(password::hash(&password))
            } else {
                None
            };
            let (token, hash, expires) = new_link(now);
            let detail = serde_json::json!({
                "email": email,
                "owner": owner,
                "role": role.map(|(_, r)| r),
            });
            let entry = audit_entry(role.map(|(s, _)| s), "cli", "member_added", detail, None);
            let new = NewUser {
                email: &email,
                name: &name,
                owner,
                role,
                invite: phc.is_none().then_some((hash.as_str(), expires)),
                password_hash: phc.as_deref(),
                now,
            };
            match store.create_user(&new, &[entry]).await {
                Ok(_) => {}
                Err(StoreError::Taken) => {
                    return Err(format!("`{email}` has an account already"));
                }
                Err(e) => return Err(failed(e)),
            }
            Ok(if phc.is_some() {
                format!("added {email}; the password is set")
            } else {
                format!(
                    "added {email}; their set-password link (it opens once, for 72 hours):\n{}/set-password/{token}",
                    link_base(settings)
                )
            })
        }
        UserCommand::List => {
            let mut out = String::new();
            for user in store.users().await.map_err(failed)? {
                let roles = store.memberships(user.id).await.map_err(failed)?;
                let roles: Vec<String> = roles.iter().map(|(s, r)| format!("{s}:{r}")).collect();
                let state = match (user.active, user.password_hash.is_some()) {
                    (false, _) => "inactive",
                    (true, false) => "no password yet",
                    (true, true) => "active",
                };
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}{}\t{}",
                    user.email,
                    user.name,
                    if user.owner { "owner" } else { "member" },
                    if roles.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", roles.join(","))
                    },
                    state
                );
            }
            if out.is_empty() {
                out.push_str("no people yet: `pulso user add --email … --name … --owner`\n");
            }
            Ok(out.trim_end().to_owned())
        }
        UserCommand::Token { email, name, sites } => {
            let email = web::normal_email(&email);
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err("--name: between 1 and 100 characters".into());
            }
            let user = store
                .user_by_email(&email)
                .await
                .map_err(failed)?
                .ok_or_else(|| format!("no account `{email}`"))?;
            let roles = store.memberships(user.id).await.map_err(failed)?;
            for site in &sites {
                if !settings.sites.contains_key(site) {
                    return Err(format!("--site: no site `{site}` in the configuration"));
                }
                if !user.owner && !roles.iter().any(|(s, _)| s == site) {
                    return Err(format!("--site: {email} has no role on `{site}`"));
                }
            }
            let token = super::secret::api_token();
            let audit = super::token_audit("cli", "token_created", name, &sites, None);
            store
                .create_token(
                    &super::secret::digest(&token),
                    user.id,
                    name,
                    &sites,
                    now,
                    &audit,
                )
                .await
                .map_err(failed)?;
            Ok(token)
        }
        UserCommand::Remove { email } => {
            let email = web::normal_email(&email);
            let user = store
                .user_by_email(&email)
                .await
                .map_err(failed)?
                .ok_or_else(|| format!("no account `{email}`"))?;
            let entry = audit_entry(
                None,
                "cli",
                "user_removed",
                serde_json::json!({ "email": email }),
                None,
            );
            store.remove_user(user.id, &[entry]).await.map_err(failed)?;
            Ok(format!("removed {email}, their roles, sessions and tokens"))
        }
        UserCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let email = web::normal_email(&email);
            let user = store
                .user_by_email(&email)
                .await
                .map_err(failed)?
                .ok_or_else(|| format!("no account `{email}`"))?;
            let entry = audit_entry(
                None,
                "cli",
                "password_reset",
                serde_json::json!({ "email": email }),
                None,
            );
            if password_stdin {
                let password = read_password(&email, &user.name)?;
                let phc = password::hash(&password);
                store
                    .set_password(user.id, &phc, None, now, &[entry])
                    .await
                    .map_err(failed)?;
                return Ok(format!(
                    "{email}: the password is set; their sessions are ended"
                ));
            }
            let (token, hash, expires) = new_link(now);
            store
                .reset_password(user.id, &hash, now, expires, &[entry])
                .await
                .map_err(failed)?;
            Ok(format!(
                "{email}: the old password and sessions are ended; the set-password link (it opens once, for 72 hours):\n{}/set-password/{token}",
                link_base(settings)
            ))
        }
    }
}
