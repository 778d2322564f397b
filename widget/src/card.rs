//! The card: the 0–10 question, the adaptive follow-up, the thank-you.
//!
//! Its DOM is built once, every follow-up it may ask included (the open
//! question and each band's list); what changes afterwards is only which part
//! shows, a few attributes driven by one [`Screen`] signal. Nothing is built
//! or rebuilt reactively: in tachys each conditional subtree is its own
//! monomorphized build and rebuild code, which was most of the card's bytes.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use survey::{Answer, Ask, FollowUp, OTHER, Score, UiStrings, ui_strings};
use wasm_bindgen::JsCast;
use web_sys::{HtmlFormElement, HtmlInputElement};

use crate::decode::Display;
use crate::wire;

/// What the card shows: everything the view depends on, in one signal of
/// one type (each signal type's code is compiled into the bundle once).
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
            let shown = LIST + list_views.len() as u8;
            // Band ids are letters, digits, '-' and '_': fit for an element id.
            let hint = ["pulso-hint-", &band].concat();
            list_views.push((shown, hint, question, choices));
            lists.push(band);
        }
    }

    let screen = RwSignal::new(Screen::default());
    // What every reactive attribute of the card is made of: three closure
    // types in all, whatever the number of parts they show and hide (each
    // type is its own code in the bundle).
    let when = move |test: fn(Screen) -> bool| move || test(screen.get());
    let unless_shown = move |follow_up: u8| move || screen.get().follow_up != follow_up;
    let text_when = move |test: fn(Screen) -> bool, yes: &'static str, no: &'static str| {
        move || if test(screen.get()) { yes } else { no }
    };

    let mut answer = Answer {
        id: wire::new_uuid(),
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
        // Known once the first-survey lookup ends (see `choose`).
        first_survey: None,
        follow_up: None,
    };
    // What the page passed that the collector would refuse is not sent: it
    // must not cost the respondent's answer. Said once, by name.
    let dropped = answer.clean_context(&display.survey, survey::strip_invisible);
    if !dropped.is_empty() {
        web_sys::console::warn_1(&["pulso: dropped: ", &dropped.join(", ")].concat().into());
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
        let (sender, preview) =
            state.with_value(|State { display: d, .. }| (d.send.clone(), d.preview));
        async move {
            if preview {
                return true;
            }
            let Some(promise) = sender
                .and_then(|f| {
                    f.call1(&wasm_bindgen::JsValue::NULL, &wire::to_json(&answer).into())
                        .ok()
                })
                .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
            else {
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
            if screen.with_untracked(|s| s.follow_up != shown) {
                // Another list: nothing of it is ticked yet.
                if let Some(form) = &form {
                    untick(form);
                }
                screen.update(|s| {
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
        match input.type_().as_str() {
            "radio" => {
                if let Ok(value) = input.value().parse() {
                    choose(value, input.form());
                }
            }
            "checkbox" => screen.update(|s| {
                if input.value() == OTHER {
                    s.other = input.checked();
                }
                s.need_other = false;
            }),
            _ => {
                if screen.with_untracked(|s| s.need_other) {
                    screen.update(|s| s.need_other = false);
                }
            }
        }
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let now = screen.get_untracked();
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
                    screen.update(|s| s.need_other = true);
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
        let Some(answer) = next_answer(follow_up) else {
            return;
        };
        if state.with_value(|State { display: d, .. }| answer.validate(&d.survey).is_err()) {
            screen.update(|s| s.failed = true);
            return;
        }
        screen.update(|s| s.sending = true);
        spawn_local(async move {
            let safe = send(answer).await;
            screen.update(|s| {
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
        .map(|(shown, hint, question, choices)| {
            let off = unless_shown(shown);
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
                <fieldset class="reasons" hidden=off disabled=off aria-describedby=described>
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
            <p class="thanks" role="status" hidden=when(|s| !s.thanks)>{strings.thanks}</p>
            <div hidden=when(|s| s.thanks)>
                <form on:submit=submit on:input=on_input novalidate>
                    <p id="pulso-question" class="question">{question}</p>
                    <div class="scale" role="radiogroup" aria-labelledby="pulso-question">
                        {scale}
                    </div>
                    <div class="ends" aria-hidden="true">
                        <span>{low}</span>
                        <span>{high}</span>
                    </div>
                    <div hidden=when(|s| s.follow_up == NONE)>
                        <div hidden=unless_shown(OPEN)>
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
                        <div hidden=when(|s| !s.other || s.follow_up < LIST)>
                            <label class="other-label" for="pulso-other">{strings.other_label}</label>
                            <input
                                id="pulso-other"
                                type="text"
                                name="other"
                                maxlength=MAX_LENGTH
                                aria-invalid=text_when(|s| s.need_other, "true", "false")
                                // A hidden element still describes: name it only while it shows.
                                aria-describedby=text_when(|s| s.need_other, "pulso-other-error", "")
                            />
                            <p class="error" id="pulso-other-error" role="alert" hidden=when(|s| !s.need_other)>
                                {strings.need_other}
                            </p>
                        </div>
                        <div class="actions">
                            <button type="submit" class="send" part="send" disabled=when(|s| s.sending)>
                                {strings.submit}
                            </button>
                        </div>
                        <p class="error" role="alert" hidden=when(|s| !s.failed)>{strings.send_error}</p>
                    </div>
                </form>
            </div>
        </section>
    }
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
