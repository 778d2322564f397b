//! The browser's side of the harness: headless Chromium through
//! chromedriver (in a given language), waiting for things on the page,
//! reaching into the card's shadow root, the keyboard, axe-core on the card
//! and on whole pages, the respondent's storage, and screenshots for `docs/`.

use std::future::Future;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::{Element, ShadowRoot};
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::Command;

use crate::{PATIENCE, var};

/// Runs `body` with a fresh headless Chromium, closing the browser whatever
/// happens, then re-raising a failure of the body.
pub async fn with_browser<F, Fut>(body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_browser_in("en-US,en", body).await;
}

/// [`with_browser`], the browser's languages being `languages` (its
/// `Accept-Language`, as a person sets it in the settings).
pub async fn with_browser_in<F, Fut>(languages: &str, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let profile = tempfile::tempdir().expect("profile dir");
    let port = free_port();
    let mut driver = Command::new(var("PULSO_E2E_CHROMEDRIVER"))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");

    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ]
    .into_iter()
    .map(String::from)
    .chain([format!("--user-data-dir={}", profile.path().display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": var("PULSO_E2E_CHROMIUM"),
            "args": args,
            "prefs": { "intl.accept_languages": languages },
        }),
    );

    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let client = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(e) if started.elapsed() > PATIENCE => panic!("chromedriver did not start: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };

    let outcome = tokio::spawn(body(client.clone())).await;
    let _ = client.close().await;
    let _ = driver.kill().await;
    if let Err(e) = outcome
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `probe` until it gives a value or the patience runs out.
pub async fn eventually<T, Fut>(what: &str, mut probe: impl FnMut() -> Fut) -> T
where
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the page's element with this id once it is there (after a navigation
/// the next page may still be loading).
pub async fn click_when_there(client: &Client, id: &str) {
    let element = eventually(id, || async { client.find(Locator::Id(id)).await.ok() }).await;
    element.click().await.expect("click");
}

/// The card's shadow root, once the card is on the page.
pub async fn card(client: &Client) -> ShadowRoot {
    eventually("the survey card", || async {
        let host = client.find(Locator::Css("pulso-survey")).await.ok()?;
        let root = host.shadow_root().await.ok()?;
        root.find(Locator::Css(".card")).await.ok()?;
        Some(root)
    })
    .await
}

/// An element inside the card, once it shows: the first match on screen. The
/// card builds all its parts at once and hides those not asked for, so what
/// matters is what shows, as for a respondent.
pub async fn in_card(root: &ShadowRoot, css: &str) -> Element {
    eventually(css, || shown_in_card(root, css)).await
}

/// The first element inside the card matching `css` that is on screen, if any.
pub async fn shown_in_card(root: &ShadowRoot, css: &str) -> Option<Element> {
    shown(root, css).await.into_iter().next()
}

/// Every element inside the card matching `css` that is on screen, in order:
/// rendered, not under a `hidden` (or otherwise undisplayed) part. The
/// browser's own `checkVisibility`, not WebDriver's "displayed", which also
/// counts an element of zero opacity as not shown (the score radios are, under
/// the boxes drawn for them).
async fn shown(root: &ShadowRoot, css: &str) -> Vec<Element> {
    let mut on_screen = Vec::new();
    for element in root.find_all(Locator::Css(css)).await.unwrap_or_default() {
        let arg = serde_json::to_value(&element).expect("an element as JSON");
        let visible = element
            .clone()
            .client()
            .execute("return arguments[0].checkVisibility()", vec![arg])
            .await;
        if visible.is_ok_and(|v| v == serde_json::Value::Bool(true)) {
            on_screen.push(element);
        }
    }
    on_screen
}

/// Presses keys on whatever has the focus, as a keyboard would.
pub async fn press(client: &Client, keys: &[char]) {
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys {
        actions = actions
            .then(KeyAction::Down { value: *key })
            .then(KeyAction::Up { value: *key });
    }
    client.perform_actions(actions).await.expect("key presses");
}

/// What has the focus inside the card, as `TAG:type:value` (`INPUT:radio:3`).
pub async fn focused_in_card(client: &Client) -> String {
    let focused = client
        .execute(
            "var a = document.querySelector('pulso-survey').shadowRoot.activeElement;
             return a ? a.tagName + ':' + (a.type || '') + ':' + (a.value || '') : ''",
            vec![],
        )
        .await
        .expect("read the focus");
    serde_json::from_value(focused).expect("a string")
}

/// Presses Tab (at most 15 times) until the focus in the card starts with `prefix`.
pub async fn tab_to(client: &Client, prefix: &str) {
    for _ in 0..15 {
        if focused_in_card(client).await.starts_with(prefix) {
            return;
        }
        press(client, &[fantoccini::key::Key::Tab.into()]).await;
    }
    panic!(
        "Tab never reached {prefix}; the focus is on {}",
        focused_in_card(client).await
    );
}

/// Saves a PNG into the repository's docs/ folder (for the README), unless
/// the picture there already shows the same: Chromium's anti-aliasing moves a
/// few dozen pixels from one run to the next, and a test run should not leave
/// the work tree changed for that.
pub fn save_doc_image(name: &str, png: &[u8]) {
    let dir = var("PULSO_E2E_DOCS");
    std::fs::create_dir_all(&dir).expect("docs dir");
    let path = dir.join(name);
    if std::fs::read(&path).is_ok_and(|old| nearly_the_same(&old, png)) {
        return;
    }
    std::fs::write(path, png).expect("write screenshot");
}

/// Saves a screenshot of a collector's page for the README, its varying
/// parts (times, tokens and links, the test's port) shown as fixed examples,
/// so that the picture changes only when the page does.
pub async fn save_page_image(client: &Client, name: &str) {
    client
        .execute(
            "document.querySelectorAll('time').forEach(function (t) { t.textContent = '2026-12-01 09:30 UTC'; });
             document.querySelectorAll('code.token').forEach(function (c) {
               var t = c.textContent;
               c.textContent = t.indexOf('pulso_') === 0
                 ? 'pulso_3f1d…'
                 : t.replace(/^http:\\/\\/[^/]+/, 'https://pulso.example.com').replace(/[0-9a-f]{64}/, '8c2e…');
             });",
            vec![],
        )
        .await
        .expect("steady the page");
    save_doc_image(name, &client.screenshot().await.expect("a screenshot"));
}

/// Whether two PNGs have the same size and format and differ in at most one
/// byte of pixel data in a thousand.
fn nearly_the_same(a: &[u8], b: &[u8]) -> bool {
    fn pixels(png: &[u8]) -> Option<(png::OutputInfo, Vec<u8>)> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .ok()?;
        let mut data = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut data).ok()?;
        data.truncate(info.buffer_size());
        Some((info, data))
    }
    let (Some((a_info, a)), Some((b_info, b))) = (pixels(a), pixels(b)) else {
        return false;
    };
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    a_info == b_info && differing * 1000 <= a.len()
}

/// Chooses a score by clicking its radio, as a person would.
pub async fn choose_score(root: &ShadowRoot, score: u8) {
    in_card(root, &format!("input[name=score][value='{score}']"))
        .await
        .click()
        .await
        .expect("click the score");
}

/// The reason ids of the closed list on screen, in display order, once it is there.
pub async fn reason_ids(root: &ShadowRoot) -> Vec<String> {
    in_card(root, "fieldset.reasons").await;
    let mut ids = Vec::new();
    for input in shown(root, "fieldset.reasons input[type=checkbox]").await {
        ids.push(
            input
                .attr("value")
                .await
                .expect("value")
                .unwrap_or_default(),
        );
    }
    ids
}

/// The text of the closed list's question.
pub async fn legend(root: &ShadowRoot) -> String {
    in_card(root, "fieldset.reasons legend")
        .await
        .text()
        .await
        .expect("legend text")
}

/// Sends the follow-up and waits for the thank-you.
pub async fn send(root: &ShadowRoot) -> String {
    in_card(root, "button.send")
        .await
        .click()
        .await
        .expect("click send");
    in_card(root, ".thanks")
        .await
        .text()
        .await
        .expect("thanks text")
}

/// Runs axe-core (injected from the npm package the test command installed) on
/// the card and returns the WCAG 2.1 A/AA violations, one line each.
pub async fn axe_violations(client: &Client) -> Vec<String> {
    let source = std::fs::read_to_string(var("PULSO_E2E_AXE")).expect("axe-core source");
    client
        .execute(&source, vec![])
        .await
        .expect("inject axe-core");
    let result = client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run({include: [['pulso-survey']]},
                     {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(function (r) {
                 done(r.violations.map(function (v) {
                   return v.id + ': ' + v.help + ' at ' + v.nodes.map(function (n) { return JSON.stringify(n.target) }).join(', ');
                 }));
               })
               .catch(function (e) { done(['axe failed: ' + e]) });",
            vec![],
        )
        .await
        .expect("run axe-core");
    serde_json::from_value(result).expect("a list of violations")
}

/// Runs axe-core on the whole page (a collector's page, not the card) and
/// returns its WCAG 2.1 A/AA violations, one line each.
pub async fn axe_page_violations(client: &Client) -> Vec<String> {
    let source = std::fs::read_to_string(var("PULSO_E2E_AXE")).expect("axe-core source");
    client
        .execute(&source, vec![])
        .await
        .expect("inject axe-core");
    let result = client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document,
                     {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(function (r) {
                 done(r.violations.map(function (v) {
                   return v.id + ': ' + v.help + ' at ' + v.nodes.map(function (n) { return JSON.stringify(n.target) }).join(', ');
                 }));
               })
               .catch(function (e) { done(['axe failed: ' + e]) });",
            vec![],
        )
        .await
        .expect("run axe-core");
    serde_json::from_value(result).expect("a list of violations")
}

/// What has the focus on the page, as `TAG#id` (`INPUT#email`).
pub async fn focused(client: &Client) -> String {
    let focused = client
        .execute(
            "var a = document.activeElement; return a ? a.tagName + '#' + (a.id || '') : ''",
            vec![],
        )
        .await
        .expect("read the focus");
    serde_json::from_value(focused).expect("a string")
}

/// The `localStorage` key under which the loader of `collector` keeps `name`
/// for the shop: `r` (the respondent id), `t` (the survey history), `o` (the
/// outbox).
pub fn storage_key(collector: &str, name: &str) -> String {
    format!("pulso:{collector}:shop:{name}")
}

/// The start of the shop's keys in this page's storage, in JS: made as the
/// loader makes it, from its script's address (on a page with the loader).
const PREFIX: &str = "const p = 'pulso:' + document.querySelector('script[data-site=shop]').src.replace(/\\/[^\\/]*$/, '') + ':shop:';";

/// A respondent id for a test's `label`: a UUID (the loader keeps only
/// those), the same for the same label in every run.
pub fn respondent(label: &str) -> String {
    let hash = |seed: u64| {
        label.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Marks this browser as one that answered on the shop before (its next survey
/// asks the closed list: the survey history has a last answer), on a page of
/// the shop's origin where the loader ran.
pub async fn answered_before(client: &Client) {
    client
        .execute(
            &format!("{PREFIX} const t = JSON.parse(localStorage[p + 't'] || '{{}}'); t.a = Date.now() - 864e5 * 365; localStorage[p + 't'] = JSON.stringify(t);"),
            vec![],
        )
        .await
        .expect("mark an earlier answer");
}

/// Moves the shop's survey history in this browser `days` into the past, as if
/// that much time had gone by (recontact periods, the site-wide gap); on a
/// page of the shop's origin.
pub async fn days_pass(client: &Client, days: u32) {
    client
        .execute(
            &format!(
                "{PREFIX} const k = p + 't', t = JSON.parse(localStorage[k] || '{{}}');
                 for (const x in t) t[x] -= arguments[0] * 864e5;
                 localStorage[k] = JSON.stringify(t);"
            ),
            vec![serde_json::json!(days)],
        )
        .await
        .expect("move the survey history back");
}

/// What the `/t/spy/` page recorded: `fetched` (URLs) or `warned` (console
/// warnings).
pub async fn spied(client: &Client, list: &str) -> Vec<String> {
    let value = client
        .execute(&format!("return window.{list}"), vec![])
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

/// Sets this browser's respondent id for the shop to [`respondent`]`(label)`
/// (as a returning visitor's browser would have it), on a page of the shop's
/// origin where the loader ran.
pub async fn set_respondent(client: &Client, label: &str) {
    client
        .execute(
            &format!("{PREFIX} localStorage.setItem(p + 'r', arguments[0])"),
            vec![serde_json::json!(respondent(label))],
        )
        .await
        .expect("set the respondent id");
}

#[cfg(test)]
mod tests {
    use super::nearly_the_same;

    /// A grey RGBA picture, `side` pixels square, with `changed` pixels made red.
    fn picture(side: u32, changed: usize) -> Vec<u8> {
        let mut data = vec![128u8; (side * side * 4) as usize];
        for pixel in data.chunks_mut(4).take(changed) {
            pixel.copy_from_slice(&[255, 0, 0, 255]);
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn a_few_pixels_apart_is_the_same_picture() {
        assert!(nearly_the_same(&picture(100, 0), &picture(100, 0)));
        // 1 pixel of 10,000: 3 bytes of 40,000 differ.
        assert!(nearly_the_same(&picture(100, 0), &picture(100, 1)));
    }

    #[test]
    fn another_picture_is_not() {
        // 20 pixels of 10,000: 60 bytes of 40,000 differ.
        assert!(!nearly_the_same(&picture(100, 0), &picture(100, 20)));
        assert!(!nearly_the_same(&picture(100, 0), &picture(99, 0)));
        assert!(!nearly_the_same(&picture(100, 0), b"not a png"));
    }
}
