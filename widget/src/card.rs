//! The card: the 0–10 question, the adaptive follow-up, the thank-you.

use leptos::either::Either;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use survey::{Answer, Ask, FollowUp, MAX_TEXT_CHARS, OTHER, Score, UiStrings, ui_strings};
use wasm_bindgen::JsCast;
use web_sys::HtmlFormElement;

use crate::decode::Display;
use crate::wire;

/// The card's non-reactive state: what it shows, the score chosen (if any),
/// and the answer as it stands. Each change of the answer is posted as its
/// next revision, so the collector keeps the latest whatever order the posts
/// arrive in. What is typed and ticked lives in the form's own inputs and is
/// read when the follow-up is sent.
struct State {
    display: Display,
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

    // Signals of one type where they can be: each type's signal code is
    // compiled into the bundle once.
    let sending = RwSignal::new(false);
    let thanks = RwSignal::new(false);
    let failed = RwSignal::new(false);
    // "Other" is ticked: its text box shows.
    let other_on = RwSignal::new(false);
    let need_other = RwSignal::new(false);
    let other_input = NodeRef::<leptos::html::Input>::new();
    let answer = Answer {
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
        props: display.props.clone(),
        // Known once the first-survey lookup ends (see `choose`).
        first_survey: None,
        follow_up: None,
    };
    let state = StoredValue::new(State {
        display,
        chosen: None,
        answer,
    });

    // The follow-up on screen; it changes only when a score moves to another band
    // (so what was typed or ticked stays while the score moves within a band).
    let ask = RwSignal::new(None::<Ask>);

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
    // The outbox has it before the post starts: a tab closed mid-request, or a
    // crash, loses nothing.
    let send = move |answer: Answer| {
        let (base, site, queue) = state.with_value(|State { display: d, .. }| {
            (d.base.clone(), d.site.clone(), d.queue.clone())
        });
        let preview = state.with_value(|s| s.display.preview);
        async move {
            if preview {
                return true;
            }
            let body = wire::to_json(&answer);
            let outbox = |settled: Option<bool>| {
                let settled = settled.map_or(wasm_bindgen::JsValue::UNDEFINED, Into::into);
                queue.as_ref().is_some_and(|q| {
                    q.call2(
                        &wasm_bindgen::JsValue::NULL,
                        &body.as_str().into(),
                        &settled,
                    )
                    .is_ok_and(|kept| kept.is_truthy())
                })
            };
            let kept = outbox(None);
            let safe = match wire::post(&base, &body).await {
                wire::Delivery::Stored => {
                    outbox(Some(true));
                    true
                }
                wire::Delivery::Refused => {
                    outbox(Some(true));
                    false
                }
                wire::Delivery::Failed => {
                    outbox(Some(false));
                    kept
                }
            };
            if safe {
                wire::remember_answer(&site);
                state.with_value(|s| s.display.note("a"));
            }
            safe
        }
    };

    // The score is stored the moment it is chosen: a respondent who leaves now
    // still counts. Moving to another band starts its list afresh.
    // The follow-up depends on whether this is a first survey. The card was
    // shown without waiting for that lookup, so a score chosen before it ends
    // waits for it; choices are handled in the order they were made.
    let choose = move |value: u8| {
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
            let next = state.with_value(|State { display: d, .. }| {
                d.survey.ask(new_score, &d.locale, first, &d.respondent)
            });
            if ask.with_untracked(|a| a.as_ref() != Some(&next)) {
                // A new list: nothing of it is ticked yet.
                other_on.set(false);
                need_other.set(false);
                ask.set(Some(next));
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

    // One listener per group, not one per input: each listener is code in the bundle.
    let on_score = move |ev: leptos::ev::Event| {
        if let Some(value) = changed_input(&ev).and_then(|i| i.value().parse().ok()) {
            choose(value);
        }
    };
    let on_reason = move |ev: leptos::ev::Event| {
        if let Some(input) = changed_input(&ev).filter(|i| i.type_() == "checkbox") {
            // The text box goes away with "Other", and so does its text.
            if input.value() == OTHER {
                other_on.set(input.checked());
            }
            need_other.set(false);
        }
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        // What the inputs hold now (ticked boxes only, in the order shown).
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
        let follow_up = match ask.get_untracked() {
            None => return,
            Some(Ask::Open { .. }) => {
                let text = text("text");
                (!text.is_empty()).then_some(FollowUp::Open { text })
            }
            Some(Ask::Closed { .. }) => {
                let reasons: Vec<String> = data
                    .get_all("reason")
                    .iter()
                    .filter_map(|r| r.as_string())
                    .collect();
                let other = reasons.iter().any(|r| r == OTHER).then(|| text("other"));
                if other.as_deref() == Some("") {
                    need_other.set(true);
                    if let Some(input) = other_input.get_untracked() {
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
            failed.set(true);
            return;
        }
        sending.set(true);
        spawn_local(async move {
            let safe = send(answer).await;
            sending.set(false);
            failed.set(!safe);
            thanks.set(safe);
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

    let scale = (0..=10u8)
        .map(|n| {
            // The end labels are read with the end scores.
            let name = match n {
                0 => format!("0, {low}"),
                10 => format!("10, {high}"),
                _ => n.to_string(),
            };
            view! {
                <label class="score" part="score">
                    <input
                        type="radio"
                        name="score"
                        value=n.to_string()
                        aria-label=name
                    />
                    <span aria-hidden="true">{n}</span>
                </label>
            }
        })
        .collect_view();

    let open = move |question: String| {
        view! {
            <label class="follow-label" for="pulso-text">{question}</label>
            <textarea
                id="pulso-text"
                name="text"
                rows="3"
                maxlength=MAX_TEXT_CHARS.to_string()
                placeholder=strings.placeholder
            ></textarea>
        }
    };

    let closed = move |question: String, choices: Vec<survey::Choice>| {
        let boxes = choices
            .into_iter()
            .map(|choice| {
                let id = choice.id;
                view! {
                    <label class="reason" part="reason">
                        <input
                            type="checkbox"
                            name="reason"
                            value=id
                        />
                        <span>{choice.text}</span>
                    </label>
                }
            })
            .collect_view();
        view! {
            <fieldset class="reasons" aria-describedby="pulso-hint" on:change=on_reason>
                <legend class="follow-label">{question}</legend>
                <p class="hint" id="pulso-hint">{strings.pick_hint}</p>
                {boxes}
                {move || other_on.get().then(|| view! {
                    <label class="other-label" for="pulso-other">{strings.other_label}</label>
                    <input
                        id="pulso-other"
                        type="text"
                        name="other"
                        node_ref=other_input
                        maxlength=MAX_TEXT_CHARS.to_string()
                        aria-invalid=move || need_other.get().to_string()
                        aria-describedby=move || need_other.get().then_some("pulso-other-error")
                        on:input=move |_| need_other.set(false)
                    />
                    {move || need_other.get().then(|| view! {
                        <p class="error" id="pulso-other-error" role="alert">{strings.need_other}</p>
                    })}
                })}
            </fieldset>
        }
    };

    let follow_up = move || {
        ask.get().map(|ask| {
            // Either, not `into_any()`: type erasure costs the bundle more
            // (measured 1.7 KB brotli) than the two concrete branches.
            let body = match ask {
                Ask::Open { question } => Either::Left(open(question)),
                Ask::Closed {
                    question, choices, ..
                } => Either::Right(closed(question, choices)),
            };
            view! {
                {body}
                <div class="actions">
                    <button type="submit" class="send" part="send" disabled=move || sending.get()>
                        {strings.submit}
                    </button>
                </div>
                {move || failed.get().then(|| view! {
                    <p class="error" role="alert">{strings.send_error}</p>
                })}
            }
        })
    };

    view! {
        <section class="card" part="card" role="dialog" aria-labelledby="pulso-question" on:keydown=on_keydown>
            <button type="button" class="close" part="close" aria-label=strings.close on:click=move |_| close()>
                <span aria-hidden="true">"×"</span>
            </button>
            {move || thanks.get().then(|| view! {
                <p class="thanks" role="status">{strings.thanks}</p>
            })}
            <div hidden=move || thanks.get()>
                <form on:submit=submit novalidate>
                    <p id="pulso-question" class="question">{question}</p>
                    <div class="scale" role="radiogroup" aria-labelledby="pulso-question" on:change=on_score>
                        {scale}
                    </div>
                    <div class="ends" aria-hidden="true">
                        <span>{low}</span>
                        <span>{high}</span>
                    </div>
                    {follow_up}
                </form>
            </div>
        </section>
    }
}

/// The input element a `change` event came from.
fn changed_input(ev: &leptos::ev::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target()?.dyn_into().ok()
}
