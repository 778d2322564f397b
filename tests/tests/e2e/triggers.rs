//! When a survey shows: funnel steps, URL rules with single-page-app navigation,
//! targeting, sampling, recontact and dismissal periods (time moved by the test),
//! the site-wide gap, one survey per page view, priority, previews, bad calls,
//! and hostile host pages (aggressive CSS, a strict Content-Security-Policy).

use std::time::Duration;

use fantoccini::{Client, Locator};
use pulso_e2e::{
    Stack, card, choose_score, click_when_there, days_pass, eventually, in_card, send,
    set_respondent, with_browser,
};
use serde_json::{Value, json};

/// Test surveys beside the example's, and no site-wide gap unless a test sets one.
const SURVEYS: &str = r#"
[[sites.shop.surveys]]
id = "t_url"
urls = [{ exact = "/t/thanks" }, { prefix = "/t/account/" }, { glob = "/t/orders/*/done" }]
recontact_days = 0
dismiss_days = 0
texts.en.question = "URL rule survey?"

[[sites.shop.surveys]]
id = "t_targeted"
steps = ["upgraded"]
when = [{ prop = "total", gte = 50 }, { trait = "plan", one_of = ["pro", "team"] }]
recontact_days = 0
dismiss_days = 0
texts.en.question = "Targeted survey?"

[[sites.shop.surveys]]
id = "t_never"
steps = ["sampled"]
sample = 0.0
priority = 9
texts.en.question = "Never sampled?"

[[sites.shop.surveys]]
id = "t_always"
steps = ["sampled"]
sample = 1.0
priority = 1
texts.en.question = "Always sampled?"

[[sites.shop.surveys]]
id = "t_low"
steps = ["both"]
priority = 1
texts.en.question = "Low priority?"

[[sites.shop.surveys]]
id = "t_high"
steps = ["both"]
priority = 5
texts.en.question = "High priority?"

[[sites.shop.surveys]]
id = "t_again"
steps = ["again"]
recontact_days = 30
dismiss_days = 3
texts.en.question = "Asked again?"

[[sites.shop.surveys]]
id = "t_other"
steps = ["other_step"]
texts.en.question = "Another survey?"
"#;

async fn stack(gap_days: u32) -> Stack {
    Stack::start_edited(|text| {
        text.replace("gap_days = 7", &format!("gap_days = {gap_days}")) + SURVEYS
    })
    .await
}

/// Calls the loader's API as the page would.
async fn pulso(client: &Client, args: Value) {
    client
        .execute("pulso(...arguments[0])", vec![args])
        .await
        .expect("call pulso");
}

async fn question(client: &Client) -> String {
    let root = card(client).await;
    in_card(&root, ".question").await.text().await.unwrap()
}

async fn close(client: &Client) {
    let root = card(client).await;
    in_card(&root, "button.close").await.click().await.unwrap();
    eventually("the card to go", || async {
        let gone = client
            .execute("return !document.querySelector('pulso-survey')", vec![])
            .await
            .unwrap();
        gone.as_bool().filter(|g| *g)
    })
    .await;
}

/// No card on this page view: the configuration has arrived and the loader
/// has had time to act on it, and there is no card.
async fn no_card(client: &Client) {
    eventually("the configuration", || async {
        let fetched = client
            .execute(
                "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/config'))",
                vec![],
            )
            .await
            .unwrap();
        fetched.as_bool().filter(|f| *f)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let card = client
        .execute("return !!document.querySelector('pulso-survey')", vec![])
        .await
        .unwrap();
    assert_eq!(
        card,
        json!(false),
        "a card is shown at {}",
        client.current_url().await.unwrap()
    );
}

async fn visit(client: &Client, url: &str) {
    client.goto(url).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_rules_match_exact_prefix_glob_and_history_changes() {
    let stack = stack(0).await;
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        visit(&client, &format!("{shop}/t/thanks")).await;
        assert_eq!(question(&client).await, "URL rule survey?");
        close(&client).await;
        for (path, due) in [
            ("/t/thanksgiving", false),
            ("/t/account/settings", true),
            ("/t/accounts", false),
            ("/t/orders/42/done", true),
            ("/t/orders/4/2/done", false),
        ] {
            visit(&client, &format!("{shop}{path}")).await;
            if due {
                assert_eq!(question(&client).await, "URL rule survey?", "{path}");
                close(&client).await;
            } else {
                no_card(&client).await;
            }
        }
        // replaceState, as a router redirect does, is a navigation too.
        visit(&client, &format!("{shop}/t/start")).await;
        no_card(&client).await;
        client
            .execute("history.replaceState(null, '', '/t/thanks')", vec![])
            .await
            .unwrap();
        assert_eq!(question(&client).await, "URL rule survey?");
    })
    .await;
}

/// A respondent id the example's 50% sample of `account_nps` takes, found with
/// the loader's own hash (so the test also pins the hash down).
fn sampled_respondent(survey: &str, sample: f64) -> String {
    (0..)
        .map(|n| format!("spa-visitor-{n}"))
        .find(|label| {
            let mut h: i32 = 0;
            let rid = pulso_e2e::respondent(label);
            for unit in format!("{rid}{survey}").encode_utf16() {
                h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
            }
            f64::from(h as u32) / 4_294_967_296.0 < sample
        })
        .unwrap()
}

/// The single-page-app example: the account page's survey (Pro users, 2 s
/// after arriving) follows pushState and the back button; leaving the page
/// before the delay cancels it, the card having loaded during the delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_example_gets_its_survey_on_navigation_and_leaving_cancels_it() {
    let stack = stack(0).await;
    let app = format!("{}/app/", stack.shop);
    with_browser(move |client| async move {
        visit(&client, &app).await;
        set_respondent(&client, &sampled_respondent("account_nps", 0.5)).await;
        visit(&client, &app).await;
        let link = |name: &'static str| {
            let client = client.clone();
            async move {
                client
                    .find(Locator::Css(&format!("a[href='/app/{name}']")))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
            }
        };
        // Not signed in: the targeting (Pro or Team users) keeps it away.
        link("account").await;
        no_card(&client).await;
        click_when_there(&client, "sign-in").await;
        // Signed in, to the plans and back to the account: due in 2 s; leaving
        // at once cancels it.
        link("plans").await;
        link("account").await;
        link("plans").await;
        tokio::time::sleep(Duration::from_millis(2600)).await;
        no_card(&client).await;
        // The card was loaded during the delay, before it was cancelled.
        let fetched = client
            .execute(
                "return performance.getEntriesByType('resource').map((e) => e.name)
                    .filter((n) => /\\/widget\\/pulso-[0-9a-f]+\\.(wasm|js)$/.test(n)).length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fetched, json!(2), "module and wasm fetched in the delay");
        // The back button (popstate) to the account page: now it shows.
        client.back().await.unwrap();
        assert_eq!(
            question(&client).await,
            "How likely are you to recommend the Pulso Demo app to a colleague?"
        );
        assert_eq!(client.current_url().await.unwrap().path(), "/app/account");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targeting_on_step_props_and_traits() {
    let stack = stack(0).await;
    let page = format!("{}/t/upgrade", stack.shop);
    with_browser(move |client| async move {
        for (traits, props, due) in [
            (json!(null), json!({"total": 80}), false),
            (json!({"plan": "free"}), json!({"total": 80}), false),
            (json!({"plan": "pro"}), json!({"total": 20}), false),
            (json!({"plan": "pro"}), json!({"total": "80"}), false),
            (json!({"plan": "team"}), json!({"total": 50}), true),
        ] {
            visit(&client, &page).await;
            if !traits.is_null() {
                pulso(&client, json!(["identify", "user-7", traits])).await;
            }
            pulso(&client, json!(["track", "upgraded", props])).await;
            if due {
                assert_eq!(question(&client).await, "Targeted survey?");
            } else {
                no_card(&client).await;
            }
        }
    })
    .await;
}

/// Targeting reads the page's own properties only: a value inherited from
/// `Object.prototype` (a polluted prototype, or a name like `constructor`)
/// is not a trait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inherited_properties_do_not_target() {
    let stack = stack(0).await;
    let page = format!("{}/t/upgrade", stack.shop);
    with_browser(move |client| async move {
        visit(&client, &page).await;
        // In the page's own script: arguments passed in through WebDriver
        // would be copied property by property, the inherited one included.
        client
            .execute(
                "Object.prototype.plan = 'pro'; pulso('identify', 'user-7', {}); \
                 pulso('track', 'upgraded', {total: 80})",
                vec![],
            )
            .await
            .unwrap();
        no_card(&client).await;
        // The control: given as its own, the same trait targets.
        visit(&client, &page).await;
        pulso(&client, json!(["identify", "user-7", {"plan": "pro"}])).await;
        pulso(&client, json!(["track", "upgraded", {"total": 80}])).await;
        assert_eq!(question(&client).await, "Targeted survey?");
    })
    .await;
}

/// 0% is never shown, 100% always, and the next due survey by priority takes
/// the place of one sampled out; a refresh does not re-roll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_and_priority() {
    let stack = stack(0).await;
    let page = format!("{}/t/sampling", stack.shop);
    with_browser(move |client| async move {
        for rid in ["r-a", "r-b", "r-c"] {
            visit(&client, &page).await;
            set_respondent(&client, rid).await;
            visit(&client, &page).await;
            pulso(&client, json!(["track", "sampled"])).await;
            assert_eq!(question(&client).await, "Always sampled?", "{rid}");
            close(&client).await;
            days_pass(&client, 100).await;
        }
        visit(&client, &page).await;
        pulso(&client, json!(["track", "both"])).await;
        assert_eq!(question(&client).await, "High priority?");
    })
    .await;
}

/// Recontact after an answer (30 days) and after a dismissal (3 days), with the
/// browser's survey history moved back instead of waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recontact_and_dismissal_periods() {
    let stack = stack(0).await;
    let page = format!("{}/t/again", stack.shop);
    with_browser(move |client| async move {
        let again = || async {
            visit(&client, &page).await;
            pulso(&client, json!(["track", "again"])).await;
        };
        again().await;
        assert_eq!(question(&client).await, "Asked again?");
        close(&client).await;
        again().await;
        no_card(&client).await;
        days_pass(&client, 2).await;
        again().await;
        no_card(&client).await;
        days_pass(&client, 2).await;
        again().await;
        let root = card(&client).await;
        choose_score(&root, 6).await;
        in_card(&root, "textarea")
            .await
            .send_keys("ok")
            .await
            .unwrap();
        send(&root).await;
        days_pass(&client, 29).await;
        again().await;
        no_card(&client).await;
        days_pass(&client, 2).await;
        again().await;
        assert_eq!(question(&client).await, "Asked again?");
    })
    .await;
}

/// The example's site-wide gap (7 days) holds across surveys, and a page view
/// shows at most one survey.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_gap_and_one_survey_per_page_view() {
    let stack = stack(7).await;
    let page = format!("{}/t/gap", stack.shop);
    with_browser(move |client| async move {
        visit(&client, &page).await;
        pulso(&client, json!(["track", "again"])).await;
        assert_eq!(question(&client).await, "Asked again?");
        close(&client).await;
        // Same page view: nothing more, even a survey of its own.
        pulso(&client, json!(["track", "other_step"])).await;
        no_card(&client).await;
        // Another page, within the gap: nothing.
        days_pass(&client, 6).await;
        visit(&client, &page).await;
        pulso(&client, json!(["track", "other_step"])).await;
        no_card(&client).await;
        days_pass(&client, 2).await;
        visit(&client, &page).await;
        pulso(&client, json!(["track", "other_step"])).await;
        assert_eq!(question(&client).await, "Another survey?");
    })
    .await;
}

/// `show` previews a survey whatever its triggers and records nothing, unless
/// asked to; bad calls warn once each and never throw into the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_record_nothing_and_bad_calls_only_warn() {
    let stack = stack(0).await;
    let page = format!("{}/t/preview", stack.shop);
    with_browser(move |client| async move {
        visit(&client, &page).await;
        client
            .execute(
                "window.warned = []; window.thrown = 0;
                 console.warn = (...a) => warned.push(a.join(' '));
                 addEventListener('error', () => thrown++);
                 addEventListener('unhandledrejection', () => thrown++);",
                vec![],
            )
            .await
            .unwrap();
        for call in [
            json!(["nope"]),
            json!(["track"]),
            json!(["track", 42]),
            json!(["track", "x", "not props"]),
            json!(["identify"]),
            json!(["identify", "u", 7]),
            json!(["show", "no_such_survey"]),
            json!(["toString"]),
        ] {
            pulso(&client, call).await;
        }
        let warned = eventually("eight warnings", || async {
            let w = client.execute("return warned", vec![]).await.unwrap();
            let w: Vec<String> = serde_json::from_value(w).unwrap();
            (w.len() >= 8).then_some(w)
        })
        .await;
        assert_eq!(warned.len(), 8, "{warned:?}");
        assert!(warned.iter().all(|w| w.starts_with("pulso: bad call: ")), "{warned:?}");

        pulso(&client, json!(["show", "checkout_nps"])).await;
        let root = card(&client).await;
        choose_score(&root, 3).await;
        in_card(&root, "textarea").await.send_keys("preview").await.unwrap();
        assert_eq!(send(&root).await, "Thank you for your feedback!");
        let stored = client
            .execute(
                "const keys = Object.keys(localStorage).filter((k) => /^pulso:.*:shop:[to]$/.test(k)); \
                 return [keys.length ? keys : null, null, thrown]",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(stored, json!([null, null, 0]));
    })
    .await;
    assert!(
        stack.export_csv().await.is_empty(),
        "a preview stored an answer"
    );

    // {record: true}: a real display that is stored and counted.
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        visit(&client, &format!("{shop}/t/preview")).await;
        pulso(&client, json!(["show", "checkout_nps", {"record": true}])).await;
        let root = card(&client).await;
        choose_score(&root, 9).await;
        in_card(&root, "textarea")
            .await
            .send_keys("recorded")
            .await
            .unwrap();
        send(&root).await;
    })
    .await;
    let rows = stack.export_csv().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][Stack::column("open_text")], "recorded");
}

/// Hostile hosts: a page with aggressive global CSS and one under a strict
/// CSP (nonce, the collector's origin, 'wasm-unsafe-eval'; no 'unsafe-eval',
/// no inline styles): the card shows as designed, takes the answer, shifts
/// no layout (CLS: shifts right after the visitor's own input do not count,
/// as the card growing into its follow-up), and the CSP reports no violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_css_and_strict_csp_pages_get_a_working_card() {
    let stack = stack(0).await;
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        for (n, kind) in ["hostile", "csp"].iter().enumerate() {
            // A new visitor on each page.
            visit(&client, &format!("{shop}/t/{kind}/page")).await;
            client.execute("localStorage.clear()", vec![]).await.unwrap();
            set_respondent(&client, &format!("hostile-{n}")).await;
            visit(&client, &format!("{shop}/t/{kind}/page")).await;
            client
                .execute(
                    "window.shift = 0; window.violations = [];
                     new PerformanceObserver(l => l.getEntries().forEach(e => e.hadRecentInput || (shift += e.value)))
                       .observe({type: 'layout-shift', buffered: true});
                     document.addEventListener('securitypolicyviolation', e => violations.push(e.violatedDirective + ' ' + e.blockedURI));",
                    vec![],
                )
                .await
                .unwrap();
            pulso(&client, json!(["track", "checkout_done", {"total": 30}])).await;
            let root = card(&client).await;
            // The theme of the example (accent #b5542c) and the card's own layout.
            let look = client
                .execute(
                    "const r = document.querySelector('pulso-survey').shadowRoot;
                     const card = getComputedStyle(r.querySelector('.card'));
                     const box = r.querySelector('.card').getBoundingClientRect();
                     return [card.position, card.display, card.fontSize,
                             getComputedStyle(r.querySelector('.score span')).display,
                             box.width > 200 && box.height > 80 && box.bottom <= innerHeight];",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(look, json!(["fixed", "block", "15px", "block", true]), "{kind}");
            choose_score(&root, 2).await;
            let send_button = client
                .execute(
                    "const b = document.querySelector('pulso-survey').shadowRoot.querySelector('button.send');
                     return [getComputedStyle(b).display, getComputedStyle(b).backgroundColor]",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(send_button, json!(["block", "rgb(181, 84, 44)"]), "{kind}");
            in_card(&root, "textarea").await.send_keys(kind).await.unwrap();
            assert_eq!(send(&root).await, "Thank you for your feedback!", "{kind}");
            let after = client
                .execute(
                    "return [shift, violations, document.adoptedStyleSheets.length,
                             [...document.querySelectorAll('style, link[rel=stylesheet]')].length]",
                    vec![],
                )
                .await
                .unwrap();
            let page_sheets = if *kind == "hostile" { 1 } else { 0 };
            assert_eq!(
                after,
                json!([0, [], 0, page_sheets]),
                "{kind}: layout shift, CSP violations, stylesheets added to the page"
            );
        }
    })
    .await;
    let texts: Vec<String> = stack
        .export_csv()
        .await
        .iter()
        .map(|r| r[Stack::column("open_text")].to_owned())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.contains(&"hostile".into()) && texts.contains(&"csp".into()));
}

/// Where the page cannot use localStorage, nothing can be throttled: no card
/// at all (rather than one on every page), and nothing thrown into the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_storage_shows_nothing_and_throws_nothing() {
    let stack = stack(0).await;
    let page = format!("{}/t/nostorage/done", stack.shop);
    with_browser(move |client| async move {
        visit(&client, &page).await;
        client
            .execute(
                "window.thrown = 0; addEventListener('error', () => thrown++);
                 addEventListener('unhandledrejection', () => thrown++);",
                vec![],
            )
            .await
            .unwrap();
        pulso(&client, json!(["track", "checkout_done", {"total": 30}])).await;
        pulso(&client, json!(["track", "upgraded", {"total": 80}])).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        // The loader stops before even asking for the configuration.
        let seen = client
            .execute(
                "return [thrown, !!document.querySelector('pulso-survey'),
                         performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/v1/') || n.includes('/widget/'))]",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(seen, json!([0, false, []]));
    })
    .await;
}
