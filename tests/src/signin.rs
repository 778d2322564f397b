//! Signing in to the collector in the browser, as a member of a team does:
//! the set-password link `pulso user add` prints, the sign-in form by
//! keyboard, and waiting for the page a form redirects to.

use fantoccini::{Client, Locator, key::Key};

use crate::{axe_page_violations, eventually, focused, press};

/// The path of the set-password link in `text` (what `pulso user add` or
/// the members page printed).
pub fn link_in(text: &str) -> String {
    let at = text.find("/set-password/").expect("a set-password link");
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '-')
        .collect()
}

/// Asserts that axe-core finds no WCAG 2.1 A/AA violation on the page.
pub async fn no_violations(client: &Client, what: &str) {
    assert_eq!(
        axe_page_violations(client).await,
        Vec::<String>::new(),
        "{what}"
    );
}

/// The page's HTML, once its document is there: a source read while a
/// navigation settles can come back empty.
pub async fn page_html(client: &Client) -> String {
    eventually("the page's document", || async {
        let html = client.source().await.ok()?;
        html.contains("</html>").then_some(html)
    })
    .await
}

/// The text of the first element `css` finds, once it satisfies `ok`.
pub async fn text_when(client: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    eventually(css, || async {
        let text = client
            .find(Locator::Css(css))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        ok(&text).then_some(text)
    })
    .await
}

/// Types `text` into the element with this id.
pub async fn type_into(client: &Client, id: &str, text: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Clicks the first element `css` finds.
pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits for the page at `path` (after a form's redirect).
pub async fn arrive(client: &Client, path: &str) {
    eventually(&format!("the page {path}"), || async {
        let url = client.current_url().await.ok()?;
        (url.path() == path).then_some(())
    })
    .await;
}

/// Sets the password through the link at `url`, and waits for the sign-in page.
pub async fn set_password(client: &Client, url: &str, password: &str) {
    client.goto(url).await.unwrap();
    type_into(client, "password", password).await;
    type_into(client, "repeat", password).await;
    press(client, &[Key::Enter.into()]).await;
    arrive(client, "/signin").await;
}

/// Signs in by keyboard alone: Tab to the email, type, Tab, type, Enter.
pub async fn sign_in_by_keyboard(client: &Client, collector: &str, email: &str, password: &str) {
    client.goto(&format!("{collector}/signin")).await.unwrap();
    // Keys sent before the document is complete can land outside it.
    eventually("the sign-in page", || async {
        let state = client
            .execute("return document.readyState", vec![])
            .await
            .ok()?;
        let found = client.find(Locator::Id("email")).await.is_ok();
        (state == "complete" && found).then_some(())
    })
    .await;
    press(client, &[Key::Tab.into()]).await;
    assert_eq!(
        focused(client).await,
        "INPUT#email",
        "the first Tab reaches the email"
    );
    let mut keys: Vec<char> = email.chars().collect();
    keys.push(Key::Tab.into());
    press(client, &keys).await;
    assert_eq!(focused(client).await, "INPUT#password");
    let mut keys: Vec<char> = password.chars().collect();
    keys.push(Key::Enter.into());
    press(client, &keys).await;
    arrive(client, "/dashboard").await;
}

/// Signs in through the form's fields (the keyboard path is
/// [`sign_in_by_keyboard`]).
pub async fn sign_in(client: &Client, collector: &str, email: &str, password: &str) {
    client.goto(&format!("{collector}/signin")).await.unwrap();
    type_into(client, "email", email).await;
    type_into(client, "password", password).await;
    press(client, &[Key::Enter.into()]).await;
    arrive(client, "/dashboard").await;
}
