//! Team access in a real browser: the first owner from `pulso user add`, the
//! set-password link, signing in by keyboard, the sites, the dashboard, the
//! account (an API token), the members (an invitation) and the audit log;
//! a viewer who sees no export; a signed-out cookie that opens nothing when
//! replayed. axe-core on every page, in English and Spanish; screenshots for
//! the README.

use fantoccini::{Client, Locator};
use pulso_e2e::{
    Stack, arrive, click, link_in, no_violations, page_html, save_page_image, set_password,
    sign_in_by_keyboard, text_when, type_into, with_browser, with_browser_in,
};

const OWNER_PASSWORD: &str = "orchid-saffron-kettle-44";
const VIEWER_PASSWORD: &str = "glacier-tambourine-fig-8";

async fn session_cookie(client: &Client) -> String {
    let cookie = client
        .get_named_cookie("pulso_session")
        .await
        .expect("the session cookie");
    assert_eq!(cookie.http_only(), Some(true), "HttpOnly");
    format!("pulso_session={}", cookie.value())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_works_with_its_own_accounts() {
    let stack = Stack::start().await;
    let out = stack.pulso_user(
        &[
            "add",
            "--email",
            "olivia@shop.test",
            "--name",
            "Olivia Ortega",
            "--owner",
        ],
        "",
    );
    let owner_link = format!("{}{}", stack.collector, link_in(&out));
    let collector = stack.collector.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    with_browser({
        let (collector, http) = (collector.clone(), http.clone());
        move |client| async move {
            client.set_window_size(1000, 1100).await.unwrap();
            // The link from the command line: the set-password page.
            client.goto(&owner_link).await.unwrap();
            no_violations(&client, "set password").await;
            save_page_image(&client, "set-password.png").await;
            set_password(&client, &owner_link, OWNER_PASSWORD).await;
            let notice = client
                .find(Locator::Css(".notice"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(notice.contains("password is set"), "{notice}");
            no_violations(&client, "sign in").await;
            save_page_image(&client, "signin.png").await;

            sign_in_by_keyboard(&client, &collector, "olivia@shop.test", OWNER_PASSWORD).await;
            no_violations(&client, "your sites").await;
            client
                .find(Locator::LinkText("shop"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            arrive(&client, "/dashboard/shop").await;
            let html = page_html(&client).await;
            assert!(
                html.contains("/v1/sites/shop/export?format=csv"),
                "an owner exports"
            );
            no_violations(&client, "dashboard").await;

            // The account: an API token, shown once.
            client.goto(&format!("{collector}/account")).await.unwrap();
            type_into(&client, "token-name", "Nightly export").await;
            click(&client, "input[name=sites][value=shop]").await;
            click(&client, "form[action='/account/tokens'] button").await;
            let token = text_when(&client, "code.token", |t| t.starts_with("pulso_")).await;
            no_violations(&client, "account").await;
            save_page_image(&client, "account.png").await;
            let report = http
                .get(format!("{collector}/v1/sites/shop/report"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(report.status(), 200, "the token works for scripts");

            // The members: a viewer invited, the link shown to pass on.
            client
                .goto(&format!("{collector}/dashboard/shop/members"))
                .await
                .unwrap();
            type_into(&client, "invite-email", "vera@shop.test").await;
            type_into(&client, "invite-name", "Vera Vidal").await;
            click(&client, "#invite-role option[value=viewer]").await;
            click(&client, "form[action='/dashboard/shop/members'] button").await;
            let link = text_when(&client, ".notice code.token", |t| {
                t.contains("/set-password/")
            })
            .await;
            no_violations(&client, "members").await;
            save_page_image(&client, "members.png").await;

            client
                .goto(&format!("{collector}/dashboard/shop/audit"))
                .await
                .unwrap();
            let log = page_html(&client).await;
            assert!(
                log.contains("member_added") && log.contains("token_created"),
                "{log}"
            );
            no_violations(&client, "audit log").await;
            save_page_image(&client, "audit.png").await;

            // Signing out ends the session on the server: the old cookie,
            // replayed, opens nothing.
            let cookie = session_cookie(&client).await;
            click(&client, "form[action='/signout'] button").await;
            arrive(&client, "/signin").await;
            let replayed = http
                .get(format!("{collector}/v1/sites/shop/report"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(replayed.status(), 401, "a signed-out cookie, replayed");
            let page = http
                .get(format!("{collector}/dashboard/shop"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), 303, "back to signing in");

            // The viewer, on the same browser: the dashboard without exports.
            set_password(&client, &link, VIEWER_PASSWORD).await;
            sign_in_by_keyboard(&client, &collector, "vera@shop.test", VIEWER_PASSWORD).await;
            client
                .goto(&format!("{collector}/dashboard/shop"))
                .await
                .unwrap();
            let html = page_html(&client).await;
            assert!(html.contains("<svg"), "a viewer reads the report");
            assert!(!html.contains("/export"), "a viewer sees no export");
            assert!(!html.contains("/members"), "nor the members");
            client
                .goto(&format!("{collector}/dashboard/shop/members"))
                .await
                .unwrap();
            let refused = page_html(&client).await;
            assert!(refused.contains("does not allow this"), "{refused}");
            no_violations(&client, "a refusal").await;
        }
    })
    .await;

    // Every page again in Spanish, for a browser that asks for it.
    let spare = link_in(&stack.pulso_user(
        &[
            "add",
            "--email",
            "sergio@shop.test",
            "--name",
            "Sergio",
            "--site",
            "shop",
            "--role",
            "agent",
        ],
        "",
    ));
    with_browser_in("es-ES,es", move |client| async move {
        client.goto(&format!("{collector}{spare}")).await.unwrap();
        let check = async |what: &str| {
            let html = page_html(&client).await;
            assert!(html.contains("<html lang=\"es\">"), "{what}: {html}");
            no_violations(&client, what).await;
        };
        check("establecer contraseña").await;
        client.goto(&format!("{collector}/signin")).await.unwrap();
        assert!(page_html(&client).await.contains("Iniciar sesión"));
        check("iniciar sesión").await;
        sign_in_by_keyboard(&client, &collector, "olivia@shop.test", OWNER_PASSWORD).await;
        check("tus sitios").await;
        for path in [
            "/dashboard/shop",
            "/account",
            "/dashboard/shop/members",
            "/dashboard/shop/audit",
            "/audit",
        ] {
            client.goto(&format!("{collector}{path}")).await.unwrap();
            check(path).await;
        }
    })
    .await;
}
