//! Team access, the admin's side, over real HTTP and the real binary: the
//! first owner from `pulso user add`, set-password links (single use, 72 h,
//! strong passwords only), invitations and role changes, API tokens made
//! and revoked on the account page, every change in the audit log. On
//! SQLite, and on PostgreSQL when `PULSO_TEST_POSTGRES` names a server.

mod common;

use collector::people::secret;
use common::app::*;
use serde_json::{Value, json};

/// Runs `pulso ARGS --config the app's file`, `stdin` as its input.
async fn pulso(app: &App, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let config = app.dir.path().join("pulso.toml");
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
            .args(&args)
            .arg("--config")
            .arg(config)
            .env_remove("PULSO_DATABASE_URL")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// The first owner comes from the command line: a link that opens once, for
/// a strong password only; then sign-in, and the CLI's other verbs.
#[tokio::test]
async fn the_first_owner_comes_from_the_command_line() {
    let app = spawn_app().await;
    let (ok, out, err) = pulso(
        &app,
        &[
            "user",
            "add",
            "--email",
            "Ana@Shop.Test",
            "--name",
            "Ana Ruiz",
            "--owner",
        ],
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("added ana@shop.test") && out.contains("72 hours"),
        "{out}"
    );
    let link = link_in(&out);

    let form = app
        .http
        .get(format!("{}{link}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("ana@shop.test"));
    for (password, repeat, why) in [
        ("short-one", "short-one", "needs at least 12"),
        ("passwordpassword", "passwordpassword", "too easy to guess"),
        ("ana@shop.test1", "ana@shop.test1", "too easy to guess"),
        (
            "quartz-meadow-lantern-7",
            "quartz-meadow-lantern-8",
            "differ",
        ),
    ] {
        let (status, page) = set_password(&app, &link, password, repeat).await;
        assert_eq!(status, 422, "{password}");
        assert!(page.contains(why), "{password}: {page}");
    }
    let (status, _) = set_password(
        &app,
        &link,
        "quartz-meadow-lantern-7",
        "quartz-meadow-lantern-7",
    )
    .await;
    assert_eq!(status, 303);
    let (status, page) = set_password(
        &app,
        &link,
        "another-long-phrase-9",
        "another-long-phrase-9",
    )
    .await;
    assert_eq!(status, 410, "a link opens once: {page}");
    assert_eq!(
        app.http
            .get(format!("{}{link}", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    let cookie = app
        .sign_in("ana@shop.test", "quartz-meadow-lantern-7")
        .await;
    let audit = app
        .http
        .get(format!("{}/v1/audit", app.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(audit.status(), 200);
    let audit: Value = audit.json().await.unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["sign_in", "password_set", "member_added"],
        "{audit}"
    );
    assert_eq!(audit["entries"][2]["actor"], "cli");

    // An expired link opens nothing either.
    let (ok, out, err) = pulso(
        &app,
        &[
            "user",
            "add",
            "--email",
            "luis@shop.test",
            "--name",
            "Luis",
            "--site",
            "shop",
            "--role",
            "agent",
        ],
        "",
    )
    .await;
    assert!(ok, "{err}");
    let luis = app
        .store
        .user_by_email("luis@shop.test")
        .await
        .unwrap()
        .unwrap();
    let token = secret::random();
    app.store
        .create_invite(luis.id, &secret::digest(&token), 1, 2, &[])
        .await
        .unwrap();
    assert_eq!(
        app.http
            .get(format!("{}/set-password/{token}", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    assert_eq!(
        app.http
            .get(format!("{}{}", app.url, link_in(&out)))
            .send()
            .await
            .unwrap()
            .status(),
        410,
        "a newer link replaces the older"
    );

    let (ok, out, _) = pulso(&app, &["user", "list"], "").await;
    assert!(ok);
    assert!(
        out.contains("ana@shop.test\tAna Ruiz\towner\tactive"),
        "{out}"
    );
    assert!(
        out.contains("luis@shop.test\tLuis\tmember shop:agent\tno password yet"),
        "{out}"
    );
    let (ok, out, _) = pulso(
        &app,
        &[
            "user",
            "reset-password",
            "--email",
            "ana@shop.test",
            "--password-stdin",
        ],
        "timber-violet-canyon-3\n",
    )
    .await;
    assert!(ok, "{out}");
    assert_eq!(
        app.http
            .get(format!("{}/v1/audit", app.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "a reset ends the sessions"
    );
    let (ok, _, err) = pulso(
        &app,
        &["user", "add", "--email", "ana@shop.test", "--name", "Ana"],
        "",
    )
    .await;
    assert!(!ok && err.contains("has an account already"), "{err}");
    let (ok, _, err) = pulso(
        &app,
        &[
            "user",
            "add",
            "--email",
            "x@shop.test",
            "--name",
            "X",
            "--site",
            "nope",
            "--role",
            "agent",
        ],
        "",
    )
    .await;
    assert!(!ok && err.contains("--site"), "{err}");
    let (ok, out, _) = pulso(&app, &["user", "remove", "--email", "luis@shop.test"], "").await;
    assert!(ok, "{out}");
    assert!(
        app.store
            .user_by_email("luis@shop.test")
            .await
            .unwrap()
            .is_none()
    );
}

/// An admin invites a new member from the members page (the link is shown
/// to pass on), changes their role and removes them; each change is in the
/// site's audit log, and the member's rights follow at once.
#[tokio::test]
async fn admins_invite_change_and_remove_members() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let cookie = app.sign_in(&admin.email, PASSWORD).await;
    let http = no_redirects();
    let members = format!("{}/dashboard/shop/members", app.url);
    let invite = own_page(http.post(&members), &cookie)
        .form(&[
            ("email", "Nuevo@Shop.Test"),
            ("name", "Nuevo"),
            ("role", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(invite.status(), 201);
    let page = invite.text().await.unwrap();
    let link = link_in(&page);
    assert!(
        page.contains(&format!("{}{link}", app.url)),
        "the full link to pass on"
    );
    for (email, name, role) in [
        ("not-an-email", "X", "viewer"),
        ("x@shop.test", "", "viewer"),
        ("x@shop.test", "X", "owner"),
    ] {
        let refused = own_page(http.post(&members), &cookie)
            .form(&[("email", email), ("name", name), ("role", role)])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422, "{email} {name} {role}");
    }
    let (status, _) = set_password(
        &app,
        &link,
        "copper-fjord-willow-2",
        "copper-fjord-willow-2",
    )
    .await;
    assert_eq!(status, 303);
    let member = app
        .sign_in("nuevo@shop.test", "copper-fjord-willow-2")
        .await;
    let export = |cookie: String| {
        let http = app.http.clone();
        let url = format!("{}/v1/sites/shop/export", app.url);
        async move {
            let response = http.get(url).header("cookie", cookie).send().await.unwrap();
            let status = response.status().as_u16();
            // Read to the end: an export is in the audit log once it has ended.
            let _ = response.text().await;
            status
        }
    };
    assert_eq!(
        export(member.clone()).await,
        403,
        "a viewer exports nothing"
    );

    let id = app
        .store
        .user_by_email("nuevo@shop.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let promote = own_page(http.post(format!("{members}/{id}/role")), &cookie)
        .form(&[("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(promote.status(), 303);
    assert_eq!(export(member.clone()).await, 200, "an admin now");
    let remove = own_page(http.post(format!("{members}/{id}/remove")), &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(remove.status(), 303);
    assert_eq!(export(member.clone()).await, 404, "no member, no site");

    // An admin of one site cannot take over an owner's account.
    let owner = app
        .member("owner@pulso.test", true, &[("shop", "viewer")])
        .await;
    let owner_id = app
        .store
        .user_by_email(&owner.email)
        .await
        .unwrap()
        .unwrap()
        .id;
    for action in ["link", "sessions"] {
        let refused = own_page(http.post(format!("{members}/{owner_id}/{action}")), &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{action}");
    }

    let page = |query: String| {
        let http = app.http.clone();
        let url = format!("{}/v1/sites/shop/audit?{query}", app.url);
        let token = admin.token.clone();
        async move {
            let page: Value = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page
        }
    };
    let all = page("limit=100".into()).await;
    assert_eq!(all["next_cursor"], Value::Null);
    let all = all["entries"].as_array().unwrap().clone();
    // A page at a time gives the same entries.
    let mut paged = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let p = page(query).await;
        paged.extend(p["entries"].as_array().unwrap().iter().cloned());
        match p["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let changes: Vec<(&str, &Value)> = all
        .iter()
        .filter(|e| e["action"] != "export")
        .map(|e| (e["action"].as_str().unwrap(), &e["detail"]))
        .collect();
    assert_eq!(
        changes,
        [
            (
                "member_removed",
                &json!({"email": "nuevo@shop.test", "role": "admin"})
            ),
            (
                "role_changed",
                &json!({"email": "nuevo@shop.test", "from": "viewer", "to": "admin"})
            ),
            (
                "member_added",
                &json!({"email": "nuevo@shop.test", "role": "viewer"})
            ),
        ]
    );
    assert!(
        all.iter()
            .all(|e| e["actor"] == "admin@shop.test" || e["actor"] == "nuevo@shop.test")
    );
    assert!(
        all.iter()
            .any(|e| e["action"] == "export" && e["actor"] == "nuevo@shop.test"),
        "the new admin's export: {all:?}"
    );
    let bad = app
        .http
        .get(format!("{}/v1/sites/shop/audit?cursor=abc", app.url))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"]["field"],
        "cursor"
    );
}

/// API tokens from the account page: shown once, held to their sites with
/// the creator's role, recorded when used, revoked for good; exports made
/// with them are in the audit log with their filter and row count.
#[tokio::test]
async fn api_tokens_are_shown_once_scoped_and_revocable() {
    let app = spawn_app().await;
    assert_eq!(app.post(&answer()).await.0, 200);
    let admin = app.admin().await;
    let cookie = app.sign_in(&admin.email, PASSWORD).await;
    let http = no_redirects();
    let made = own_page(http.post(format!("{}/account/tokens", app.url)), &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Nightly+export&sites=shop")
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    assert_eq!(made.headers()["cache-control"], "no-store");
    let page = made.text().await.unwrap();
    let at = page.find("pulso_").unwrap();
    let token: String = page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(token.len(), "pulso_".len() + 64, "{token}");
    let again = own_page(http.get(format!("{}/account", app.url)), &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&token), "shown once");
    assert!(again.contains("Nightly export"));

    for body in [
        "name=x&sites=blog",
        "name=x",
        "name=&sites=shop",
        "name=%07&sites=shop",
    ] {
        let refused = own_page(http.post(format!("{}/account/tokens", app.url)), &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            422,
            "{body:?}: not one's own sites, or no name"
        );
    }

    let export = app
        .http
        .get(format!(
            "{}/v1/sites/shop/export?format=json&class=detractor&tz=Europe/Madrid",
            app.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert_eq!(
        export
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let blog = app
        .http
        .get(format!("{}/v1/sites/blog/report", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(blog.status(), 404);
    let audit = async || -> Value {
        app.http
            .get(format!("{}/v1/sites/shop/audit", app.url))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let mut logged = Value::Null;
    for _ in 0..100 {
        let log = audit().await;
        if log["entries"][0]["action"] == "export" {
            logged = log["entries"][0].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        logged["actor"], "admin@shop.test (token Nightly export)",
        "{logged}"
    );
    assert_eq!(logged["detail"]["rows"], 1);
    assert_eq!(logged["detail"]["complete"], true);
    assert_eq!(logged["detail"]["class"], "detractor");
    assert_eq!(logged["detail"]["format"], "json");
    assert_eq!(logged["client"], "127.0.0.1");

    let user = app
        .store
        .user_by_email(&admin.email)
        .await
        .unwrap()
        .unwrap();
    let tokens = app.store.tokens_of(user.id).await.unwrap();
    let made = tokens.iter().find(|t| t.name == "Nightly export").unwrap();
    assert!(made.last_used_at.is_some(), "its last use is kept");
    let revoked = own_page(
        http.post(format!("{}/account/tokens/{}/revoke", app.url, made.id)),
        &cookie,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(revoked.status(), 303);
    let after = app
        .http
        .get(format!("{}/v1/sites/shop/report", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401, "a revoked token opens nothing");
    let actions: Vec<String> = audit().await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions[0], "token_revoked");
    assert!(actions.contains(&"token_created".to_owned()));
}
