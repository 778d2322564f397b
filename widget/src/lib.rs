//! Pulso's survey card, compiled to WebAssembly and imported by `pulso.js` only
//! when a survey is due. [`show`] is the one entry point: it mounts the Leptos card
//! in a Shadow DOM so the host page's CSS and the card's never meet.

mod card;
mod decode;
mod wire;

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{ShadowRootInit, ShadowRootMode};

pub use card::Card;
pub use decode::{Display, decode_display, decode_survey};
pub use wire::to_json;

/// The tag of the element that hosts the card's shadow root. A custom name keeps
/// the host page's element rules (`div { ... }`) off it.
pub const HOST_TAG: &str = "pulso-survey";

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

fn mount(display: Display) -> Result<(), JsValue> {
    let document = document()?;
    let host = document.create_element(HOST_TAG)?;
    let init = ShadowRootInit::new(ShadowRootMode::Open);
    let root = host.attach_shadow(&init)?;
    // Constructable stylesheet: works under a CSP without 'unsafe-inline' styles.
    let sheet = web_sys::CssStyleSheet::new()?;
    sheet.replace_sync(STYLE)?;
    js_sys::Reflect::set(
        &root,
        &"adoptedStyleSheets".into(),
        &js_sys::Array::of1(&sheet),
    )?;
    let mount_point: web_sys::HtmlElement = document.create_element("div")?.unchecked_into();
    root.append_child(&mount_point)?;
    document
        .body()
        .ok_or_else(|| JsValue::from_str("no body"))?
        .append_child(&host)?;
    let handle = leptos::mount::mount_to(mount_point, move || {
        view! { <Card display=display on_close=close /> }
    });
    MOUNTED.with(|m| *m.borrow_mut() = Some((host, Box::new(handle))));
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
