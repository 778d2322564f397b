//! The card: the 0–10 question, the adaptive follow-up, the thank-you.
//!
//! Its DOM is built once, every follow-up it may ask included (the open
//! question and each band's list); what changes afterwards is only which part
//! shows: a few attributes, which [`paint`] sets from the [`Screen`] after
//! each change. Nothing is reactive: in tachys each conditional subtree is its
//! own monomorphized build and rebuild code, which was most of the card's
//! bytes, and a signal driving attributes was ~6 KB of render effects more.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use survey::{Answer, Ask, FollowUp, OTHER, Score, UiStrings, ui_strings};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlFormElement, HtmlInputElement};

use crate::decode::Display;
use crate::wire;

/// What the card shows: everything [`paint`] sets.
#[derive(Clone, Copy, Debug, Default)]
struct Screen {
    /// The follow-up on screen: [`NONE`], [`OPEN`], or `LIST + i` for the
    /// `i`th closed list.
    follow_up: u8,
    /// "Other" is ticked in the list on screen: its text box shows.
    other: bool,
    /// "Other" was sent without a text: the box says so.
    need_other: bool,
    sending: bool,
    /// The answer could not be stored nor kept (an error shows).
    failed: bool,
    /// The answer is safe: the thank-you replaces the form.
    thanks: bool,
}

/// The scale's numerals, as text: the card formats no numbers, which keeps
/// `core::fmt`'s number formatting out of the bundle.
const NUMERALS: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

/// [`survey::MAX_TEXT_CHARS`] as the text fields' `maxlength`.
const MAX_LENGTH: &str = "2000";
const _: () = assert!(decimal(MAX_LENGTH) == survey::MAX_TEXT_CHARS);

/// The value of a text of decimal digits, at compile time.
const fn decimal(digits: &str) -> usize {
    let bytes = digits.as_bytes();
    let (mut i, mut value) = (0, 0);
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    value
}

const NONE: u8 = 0;
const OPEN: u8 = 1;
const LIST: u8 = 2;

/// The card's non-reactive state: what it shows, the closed lists it may ask
/// (their band ids, in the order they are built), the score chosen (if any),
/// and the answer as it stands. Each change of the answer is posted as its
/// next revision, so the collector keeps the latest whatever order the posts
/// arrive in. What is typed and ticked lives in the form's own inputs and is
/// read when the follow-up is sent.
struct State {
    display: Display,
    lists: Vec<String>,
    chosen: Option<u8>,
    answer: Answer,
}

/// The survey card for one display.
#[component]
pub fn Card(
    /// What to ask, where, in which locale.
    display: Display,
    /// Called when the respondent closes the card.
    on_close: fn(),
) -> impl IntoView {
    let strings: &'static UiStrings = ui_strings(&display.locale);
    let texts = display
        .survey
        .texts
        .get(&display.locale)
        .cloned()
        .unwrap_or_default();
    let low = texts
        .low_label
        .unwrap_or_else(|| strings.low_label.to_owned());
    let high = texts
        .high_label
        .unwrap_or_else(|| strings.high_label.to_owned());
    let question = texts.question;

    // Every follow-up this card may ask, built now: the open question (a
    // first survey), and each band's list as `Survey::ask` gives it for a
    // later one (the order fixed by respondent, survey and band).
    let survey = &display.survey;
    let ask = |score: u8, first: bool| {
        Score::new(score).map(|s| survey.ask(s, &display.locale, first, &display.respondent))
    };
    // A first survey asks the same open question whatever the score.
    let open_question = match ask(0, true) {
        Some(Ask::Open { question }) => question,
        _ => String::new(),
    };
    let mut lists = Vec::new();
    let mut list_views = Vec::new();
    for band in &survey.bands {
        if let Some(Ask::Closed {
            band,
            question,
            choices,
        }) = ask(band.min, false)
        {
            // Band ids are letters, digits, '-' and '_': fit for an element id.
            let hint = ["pulso-hint-", &band].concat();
            list_views.push((hint, question, choices));
            lists.push(band);
        }
    }

    let screen = StoredValue::new(Screen::default());
    // Changes what the card shows, and shows it.
    let change = move |form: &HtmlFormElement, f: &dyn Fn(&mut Screen)| {
        screen.update_value(|s| f(s));
        if let Ok(Some(card)) = form.closest(".card") {
            paint(&card, screen.get_value());
        }
    };

    let mut answer = Answer {
        id: display.id.clone(),
        rev: 0,
        site: display.site.clone(),
        survey: display.survey.id.clone(),
        respondent: display.respondent.clone(),
        score: 0,
        step: display.step.clone(),
        page: display.page.clone(),
        locale: display.locale.clone(),
        user_id: display.user_id.clone(),
        user_hash: display.user_hash.clone(),
        props: display.props.clone(),
        // boot.js adds the traits the site keeps to the body it sends.
        traits: survey::Props::new(),
        // Known once the first-survey lookup ends (see `choose`).
        first_survey: None,
        follow_up: None,
        cta: None,
    };
    // What the page passed that the collector would refuse is not sent: it
    // must not cost the respondent's answer. Said once, by name.
    let dropped = answer.clean_context(&display.survey, survey::strip_invisible);
    if !dropped.is_empty() {
        // One text by hand: `join` over `String`s would be a second copy of
        // the code `concat` over `&str`s already is.
        let mut warning = String::from("pulso: dropped: ");
        for (i, name) in dropped.iter().enumerate() {
            if i > 0 {
                warning.push_str(", ");
            }
            warning.push_str(name);
        }
        web_sys::console::warn_1(&warning.into());
    }
    let state = StoredValue::new(State {
        display,
        lists,
        chosen: None,
        answer,
    });

    // The answer at the next revision, or `None` before a score is chosen.
    let next_answer = move |follow_up: Option<FollowUp>| -> Option<Answer> {
        state
            .try_update_value(|s| {
                s.answer.score = s.chosen?;
                s.answer.rev += 1;
                s.answer.follow_up = follow_up;
                Some(s.answer.clone())
            })
            .flatten()
    };
    // `true` once the answer is safe: stored by the collector, or kept in the
    // loader's outbox to be sent again (offline, collector or database down).
    // boot.js writes the outbox before the post starts (a tab closed
    // mid-request, or a crash, loses nothing), and reports a refusal.
    let send = move |answer: Answer| {
        let posted = state.with_value(|s| post(&s.display, &answer));
        async move {
            let Some(posted) = posted else {
                // A preview posts nothing.
                return true;
            };
            let Some(promise) = posted.and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) else {
                return false;
            };
            wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .is_ok_and(|safe| safe.is_truthy())
        }
    };

    // The score is stored the moment it is chosen: a respondent who leaves now
    // still counts. Moving to another band starts its list afresh.
    // The follow-up depends on whether this is a first survey. The card was
    // shown without waiting for that lookup, so a score chosen before it ends
    // waits for it; choices are handled in the order they were made.
    let choose = move |value: u8, form: Option<HtmlFormElement>| {
        let Some(new_score) = Score::new(value) else {
            return;
        };
        let lookup = state.with_value(|s| s.display.first.clone());
        spawn_local(async move {
            let first = wasm_bindgen_futures::JsFuture::from(lookup)
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(true);
            let shown = state.with_value(|s| {
                let d = &s.display;
                match d.survey.ask(new_score, &d.locale, first, &d.respondent) {
                    Ask::Open { .. } => OPEN,
                    Ask::Closed { band, .. } => s
                        .lists
                        .iter()
                        .position(|b| *b == band)
                        .map_or(OPEN, |i| LIST + i as u8),
                }
            });
            if let Some(form) = form.filter(|_| screen.with_value(|s| s.follow_up != shown)) {
                // Another list: nothing of it is ticked yet.
                untick(&form);
                change(&form, &|s| {
                    s.follow_up = shown;
                    s.other = false;
                    s.need_other = false;
                });
            }
            state.update_value(|s| {
                s.chosen = Some(value);
                s.answer.first_survey = Some(first);
            });
            if let Some(answer) = next_answer(None) {
                send(answer).await;
            }
        });
    };

    // One listener for the whole form, not one per input or group: each
    // listener is code in the bundle. Radios and checkboxes fire `input` as
    // they are ticked, by pointer or keyboard, like the text fields as typed.
    let on_input = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(form) = input.form() else {
            return;
        };
        match input.type_().as_str() {
            "radio" => {
                if let Ok(value) = input.value().parse() {
                    choose(value, Some(form));
                }
            }
            "checkbox" => {
                let other = (input.value() == OTHER).then(|| input.checked());
                change(&form, &|s| {
                    if let Some(ticked) = other {
                        s.other = ticked;
                    }
                    s.need_other = false;
                });
            }
            _ => {
                if screen.with_value(|s| s.need_other) {
                    change(&form, &|s| s.need_other = false);
                }
            }
        }
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let now = screen.get_value();
        if now.sending {
            return;
        }
        // What the inputs hold now: only the follow-up on screen is enabled,
        // so only its fields are in the form's data (ticked boxes only, in
        // the order shown).
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let text = |name: &str| {
            data.get(name)
                .as_string()
                .map(|t| t.trim().to_owned())
                .unwrap_or_default()
        };
        // An empty follow-up is no follow-up: the answer is sent as a score only.
        let follow_up = match now.follow_up {
            NONE => return,
            OPEN => {
                let text = text("text");
                (!text.is_empty()).then_some(FollowUp::Open { text })
            }
            _ => {
                let reasons: Vec<String> = data
                    .get_all("reason")
                    .iter()
                    .filter_map(|r| r.as_string())
                    .collect();
                let other = reasons.iter().any(|r| r == OTHER).then(|| text("other"));
                if other.as_deref() == Some("") {
                    change(&form, &|s| s.need_other = true);
                    if let Some(input) = form
                        .elements()
                        .named_item("other")
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        let _ = input.focus();
                    }
                    return;
                }
                (!reasons.is_empty()).then_some(FollowUp::Closed { reasons, other })
            }
        };
        // Whether the band's thank-you offers a call to action: said with
        // this revision, so the collector counts the offer.
        state.update_value(|s| {
            s.answer.cta = thanks_of(s).and_then(|t| t.cta.as_ref()).map(|_| false);
        });
        let Some(answer) = next_answer(follow_up) else {
            return;
        };
        if state.with_value(|State { display: d, .. }| answer.validate(&d.survey).is_err()) {
            change(&form, &|s| s.failed = true);
            return;
        }
        change(&form, &|s| s.sending = true);
        spawn_local(async move {
            let safe = send(answer).await;
            if let (true, Ok(Some(card))) = (safe, form.closest(".card")) {
                thank(&card, state);
            }
            change(&form, &|s| {
                s.sending = false;
                s.failed = !safe;
                s.thanks = safe;
            });
        });
    };

    // Closed before any score: a dismissal, which has its own (shorter)
    // waiting period before this survey comes back.
    let close = move || {
        state.with_value(|s| {
            if s.chosen.is_none() {
                s.display.note("d");
            }
        });
        on_close();
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close();
        }
    };

    let scale = NUMERALS
        .iter()
        .enumerate()
        .map(|(n, &numeral)| {
            // The end labels are read with the end scores.
            let name = match n {
                0 => [numeral, ", ", &low].concat(),
                10 => [numeral, ", ", &high].concat(),
                _ => numeral.to_owned(),
            };
            view! {
                <label class="score" part="score">
                    <input type="radio" name="score" value=numeral aria-label=name />
                    <span aria-hidden="true">{numeral}</span>
                </label>
            }
        })
        .collect_view();

    // A list that is not on screen is also disabled: its boxes are out of
    // the form's data and out of the tab order.
    let lists = list_views
        .into_iter()
        .map(|(hint, question, choices)| {
            let described = hint.clone();
            let boxes = choices
                .into_iter()
                .map(|choice| {
                    view! {
                        <label class="reason" part="reason">
                            <input type="checkbox" name="reason" value=choice.id />
                            <span>{choice.text}</span>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="reasons" hidden=true disabled=true aria-describedby=described>
                    <legend class="follow-label">{question}</legend>
                    <p class="hint" id=hint>{strings.pick_hint}</p>
                    {boxes}
                </fieldset>
            }
        })
        .collect_view();

    view! {
        <section class="card" part="card" role="dialog" aria-labelledby="pulso-question" on:keydown=on_keydown>
            <button type="button" class="close" part="close" aria-label=strings.close on:click=move |_| close()>
                <span aria-hidden="true">"×"</span>
            </button>
            <p class="thanks" role="status" hidden=true>{strings.thanks}</p>
            <div id="pulso-body">
                <form on:submit=submit on:input=on_input novalidate>
                    <p id="pulso-question" class="question">{question}</p>
                    <div class="scale" role="radiogroup" aria-labelledby="pulso-question">
                        {scale}
                    </div>
                    <div class="ends" aria-hidden="true">
                        <span>{low}</span>
                        <span>{high}</span>
                    </div>
                    <div id="pulso-follow" hidden=true>
                        <div id="pulso-open" hidden=true>
                            <label class="follow-label" for="pulso-text">{open_question}</label>
                            <textarea
                                id="pulso-text"
                                name="text"
                                rows="3"
                                maxlength=MAX_LENGTH
                                placeholder=strings.placeholder
                            ></textarea>
                        </div>
                        {lists}
                        <div id="pulso-other-box" hidden=true>
                            <label class="other-label" for="pulso-other">{strings.other_label}</label>
                            <input
                                id="pulso-other"
                                type="text"
                                name="other"
                                maxlength=MAX_LENGTH
                                aria-invalid="false"
                            />
                            <p class="error" id="pulso-other-error" role="alert" hidden=true>
                                {strings.need_other}
                            </p>
                        </div>
                        <div class="actions">
                            <button type="submit" class="send" part="send">
                                {strings.submit}
                            </button>
                        </div>
                        <p class="error" id="pulso-failed" role="alert" hidden=true>{strings.send_error}</p>
                    </div>
                </form>
            </div>
        </section>
    }
}

/// Sets what `card` shows to `s`: which parts are hidden, which list is
/// enabled (a list not on screen is disabled too: its boxes are out of the
/// form's data and out of the tab order), the "Other" box's error state.
fn paint(card: &Element, s: Screen) {
    let set = |element: &Element, name: &str, on: bool| {
        let _ = element.toggle_attribute_with_force(name, on);
    };
    let find = |selector: &str| card.query_selector(selector).ok().flatten();
    for (selector, hidden) in [
        (".thanks", !s.thanks),
        ("#pulso-body", s.thanks),
        ("#pulso-follow", s.follow_up == NONE),
        ("#pulso-open", s.follow_up != OPEN),
        ("#pulso-other-box", !s.other || s.follow_up < LIST),
        ("#pulso-other-error", !s.need_other),
        ("#pulso-failed", !s.failed),
    ] {
        if let Some(element) = find(selector) {
            set(&element, "hidden", hidden);
        }
    }
    if let Ok(lists) = card.query_selector_all("fieldset.reasons") {
        for i in 0..lists.length() {
            if let Some(list) = lists.get(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let off = u32::from(s.follow_up) != u32::from(LIST) + i;
                set(&list, "hidden", off);
                set(&list, "disabled", off);
            }
        }
    }
    if let Some(send) = find(".send") {
        set(&send, "disabled", s.sending);
    }
    if let Some(other) = find("#pulso-other") {
        let _ = other.set_attribute("aria-invalid", if s.need_other { "true" } else { "false" });
        // A hidden element still describes: name it only while it shows.
        let _ = if s.need_other {
            other.set_attribute("aria-describedby", "pulso-other-error")
        } else {
            other.remove_attribute("aria-describedby")
        };
    }
}

/// Posts `answer` through boot.js's sender: `None` for a preview (nothing is
/// posted), else what the sender returned (a promise of whether the answer
/// is safe), if it could be called.
fn post(d: &Display, answer: &Answer) -> Option<Option<wasm_bindgen::JsValue>> {
    if d.preview {
        return None;
    }
    Some(d.send.as_ref().and_then(|f| {
        f.call1(&wasm_bindgen::JsValue::NULL, &wire::to_json(answer).into())
            .ok()
    }))
}

/// The thank-you of the band of the score chosen, if it has one.
fn thanks_of(s: &State) -> Option<&survey::Thanks> {
    let score = Score::new(s.chosen?)?;
    s.display.survey.band(score)?.thanks.as_ref()
}

/// Writes the band's thank-you into `card`: its text, and its call to
/// action (the built-in thank-you otherwise). The link opens in a tab of
/// its own (the page stays, and with it the card's post); its click is the
/// answer's next revision. Built with the DOM alone: nothing in it changes.
fn thank(card: &Element, state: StoredValue<State>) {
    state.with_value(|s| {
        let Some(thanks) = thanks_of(s) else {
            return;
        };
        let locale = &s.display.locale;
        let Some(p) = card.query_selector(".thanks").ok().flatten() else {
            return;
        };
        if let Some(text) = thanks.text.get(locale) {
            p.set_text_content(Some(text));
        }
        let Some(cta) = &thanks.cta else {
            return;
        };
        let Some(Ok(link)) = card.owner_document().map(|d| d.create_element("a")) else {
            return;
        };
        link.set_class_name("cta");
        for (name, value) in [
            ("part", "cta"),
            ("href", &cta.url),
            ("target", "_blank"),
            ("rel", "noopener"),
        ] {
            let _ = link.set_attribute(name, value);
        }
        link.set_text_content(cta.text.get(locale).map(String::as_str));
        let clicked = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
            // Once: the answer as it stands, at its next revision.
            let clicked = state.try_update_value(|s| {
                let offered = s.answer.cta == Some(false);
                if offered {
                    s.answer.cta = Some(true);
                    s.answer.rev += 1;
                }
                offered
            });
            if clicked == Some(true) {
                state.with_value(|s| post(&s.display, &s.answer));
            }
        });
        let _ = link.add_event_listener_with_callback("click", clicked.as_ref().unchecked_ref());
        // The link lives as long as the card, which shows once a page view.
        clicked.forget();
        // After the thank-you, which shows from now on.
        let _ = card.append_child(&link);
    });
}

/// Unticks every box of the form (the lists not on screen included).
fn untick(form: &HtmlFormElement) {
    if let Ok(ticked) = form.query_selector_all("input[type=checkbox]:checked") {
        for i in 0..ticked.length() {
            if let Some(input) = ticked
                .get(i)
                .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
            {
                input.set_checked(false);
            }
        }
    }
}
