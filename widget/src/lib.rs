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
pub use decode::{Display, decode_display, decode_survey, decode_theme};
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

fn mount(display: Display) -> Result<(), JsValue> {
    let document = document()?;
    let host = document.create_element(HOST_TAG)?;
    let init = ShadowRootInit::new(ShadowRootMode::Open);
    let root = host.attach_shadow(&init)?;
    // Constructable stylesheet: works under a CSP without 'unsafe-inline' styles.
    let sheet = web_sys::CssStyleSheet::new()?;
    sheet.replace_sync(STYLE)?;
    // The site's theme, as a second sheet over the first.
    let theme = web_sys::CssStyleSheet::new()?;
    theme.replace_sync(&theme_css(&display.theme))?;
    js_sys::Reflect::set(
        &root,
        &"adoptedStyleSheets".into(),
        &js_sys::Array::of2(&sheet, &theme),
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

/// The dark palette of the card's custom properties.
const DARK: &str = "--pulso-bg:#161b22;--pulso-fg:#e6edf3;--pulso-border:#30363d;\
--pulso-muted:#9da7b3;--pulso-scale-border:#8b949e;--pulso-hover:#21262d;--pulso-error:#ff7b72;";

/// The theme as CSS: custom properties on the host (the host page's own rules
/// for `pulso-survey` still win), the card's corner of the screen, dark mode.
pub fn theme_css(theme: &survey::Theme) -> String {
    use survey::{Position, Scheme};
    let mut css = String::from(":host{");
    for (names, value) in [
        (&["--pulso-accent", "--pulso-focus"][..], &theme.accent),
        (&["--pulso-font"], &theme.font),
        (&["--pulso-radius"], &theme.radius),
    ] {
        for name in names.iter().filter(|_| value.is_some()) {
            css.extend([name, ":", value.as_deref().unwrap_or_default(), ";"]);
        }
    }
    if theme.scheme == Scheme::Dark {
        css.push_str(DARK);
    }
    css.push('}');
    if theme.scheme == Scheme::Auto {
        css.extend(["@media (prefers-color-scheme:dark){:host{", DARK, "}}"]);
    }
    css.push_str(match theme.position {
        Position::BottomRight => "",
        Position::BottomLeft => ".card{right:auto;left:16px}",
        Position::BottomCenter => ".card{right:auto;left:50%;transform:translateX(-50%)}",
    });
    css
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
