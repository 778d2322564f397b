//! Pulso's survey card, compiled to WebAssembly and imported by `pulso.js` only
//! when a survey is due. [`show`] is the one entry point: it mounts the Leptos card
//! in a Shadow DOM so the host page's CSS and the card's never meet.

mod card;
mod decode;
mod wire;

// A free-list allocator of ~1 KB in place of std's dlmalloc (~5 KB): the card
// makes a few thousand small allocations in its life, all on one thread.
// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread;
// nothing here allocates from another.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{ShadowRootInit, ShadowRootMode};

pub use card::Card;
pub use decode::{Display, decode_display, decode_reply, decode_survey, theme_css};
pub use wire::to_json;

/// The tag of the element that hosts the card's shadow root. A custom name keeps
/// the host page's element rules (`div { ... }`) off it.
pub const HOST_TAG: &str = "pulso-survey";

/// The card's only stylesheet, adopted by its shadow root. Hosts restyle
/// through the `--pulso-*` custom properties and `::part()` names; nothing in
/// it leaks out. The card's parts are built once and shown or hidden, so no
/// rule of it may show a `[hidden]` one. (Its comments would be paid in the
/// bundle: they live here.)
const STYLE: &str = include_str!("card.css");

thread_local! {
    /// The card on screen, if any: its host element and what unmounts it.
    static MOUNTED: RefCell<Option<(web_sys::Element, Box<dyn std::any::Any>)>> =
        const { RefCell::new(None) };
}

/// Shows a survey. `options` comes from the loader: `{base, site, survey,
/// respondent, step, page, locales, props}`. Returns `false` when nothing was
/// shown (a card is already open, or the options are unusable).
#[wasm_bindgen]
pub fn show(options: JsValue) -> bool {
    if MOUNTED.with(|m| m.borrow().is_some()) {
        return false;
    }
    let Some(display) = decode_display(&options) else {
        web_sys::console::warn_1(&"pulso: unusable survey options".into());
        return false;
    };
    mount(display).is_ok()
}

/// Shows a reply of the site's team to the respondent: `{text, locale, t}`
/// (the theme) from boot.js. `false` when nothing was shown (a card is
/// open, or the options are unusable); boot.js records it seen otherwise.
#[wasm_bindgen]
pub fn reply(options: JsValue) -> bool {
    if MOUNTED.with(|m| m.borrow().is_some()) {
        return false;
    }
    decode_reply(&options).is_some_and(|r| mount_reply(r).is_ok())
}

/// A host element with its shadow root and the card's sheets, on the page.
fn host(theme: &str) -> Result<(web_sys::Element, web_sys::ShadowRoot), JsValue> {
    let document = document()?;
    let host = document.create_element(HOST_TAG)?;
    let init = ShadowRootInit::new(ShadowRootMode::Open);
    let root = host.attach_shadow(&init)?;
    // Constructable stylesheet: works under a CSP without 'unsafe-inline' styles.
    let sheet = web_sys::CssStyleSheet::new()?;
    sheet.replace_sync(STYLE)?;
    // The site's theme, as a second sheet over the first.
    let themed = web_sys::CssStyleSheet::new()?;
    themed.replace_sync(theme)?;
    js_sys::Reflect::set(
        &root,
        &"adoptedStyleSheets".into(),
        &js_sys::Array::of2(&sheet, &themed),
    )?;
    document
        .body()
        .ok_or_else(|| JsValue::from_str("no body"))?
        .append_child(&host)?;
    Ok((host, root))
}

fn mount(display: Display) -> Result<(), JsValue> {
    let (host, root) = host(&display.theme)?;
    let mount_point: web_sys::HtmlElement = document()?.create_element("div")?.unchecked_into();
    root.append_child(&mount_point)?;
    let handle = leptos::mount::mount_to(mount_point, move || {
        view! { <Card display=display on_close=close /> }
    });
    MOUNTED.with(|m| *m.borrow_mut() = Some((host, Box::new(handle))));
    Ok(())
}

/// The reply card: built with the DOM alone (no reactive view: nothing in
/// it changes), closed by its button or Escape.
fn mount_reply(reply: decode::Reply) -> Result<(), JsValue> {
    let strings = survey::ui_strings(&reply.locale);
    let (host, root) = host(&reply.theme)?;
    let document = document()?;
    // Each element with its attributes in one call: a call per attribute,
    // each with its `?`, was most of this function's code.
    let el = |tag: &str, attributes: &[(&str, &str)]| -> Result<web_sys::Element, JsValue> {
        let e = document.create_element(tag)?;
        for (name, value) in attributes {
            e.set_attribute(name, value)?;
        }
        Ok(e)
    };
    let card = el(
        "section",
        &[
            ("class", "card"),
            ("part", "card reply"),
            ("role", "dialog"),
            ("aria-labelledby", "pulso-reply"),
        ],
    )?;
    let button = el(
        "button",
        &[
            ("type", "button"),
            ("class", "close"),
            ("part", "close"),
            ("aria-label", strings.close),
        ],
    )?;
    let cross = el("span", &[("aria-hidden", "true")])?;
    cross.set_text_content(Some("×"));
    button.append_child(&cross)?;
    let title = el("p", &[("class", "question"), ("id", "pulso-reply")])?;
    title.set_text_content(Some(strings.reply_title));
    let text = el("p", &[("class", "reply"), ("part", "reply-text")])?;
    text.set_text_content(Some(&reply.text));
    for child in [&button, &title, &text] {
        card.append_child(child)?;
    }
    root.append_child(&card)?;
    let on_close =
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(|e: web_sys::Event| {
            let key = e.dyn_ref::<web_sys::KeyboardEvent>().map(|k| k.key());
            if key.is_none() || key.as_deref() == Some("Escape") {
                close();
            }
        });
    button.add_event_listener_with_callback("click", on_close.as_ref().unchecked_ref())?;
    card.add_event_listener_with_callback("keydown", on_close.as_ref().unchecked_ref())?;
    MOUNTED.with(|m| *m.borrow_mut() = Some((host, Box::new(on_close))));
    Ok(())
}

/// Takes the card off the page. The reactive tree is dropped on the next tick,
/// not from inside the event handler that asked for it.
pub fn close() {
    if let Some((host, handle)) = MOUNTED.with(|m| m.borrow_mut().take()) {
        host.remove();
        set_timeout(move || drop(handle), std::time::Duration::ZERO);
    }
}

fn document() -> Result<web_sys::Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}
