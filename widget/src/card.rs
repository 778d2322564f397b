//! The card: the 0–10 question, the adaptive follow-up, the thank-you.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use survey::{Answer, Ask, FollowUp, MAX_TEXT_CHARS, OTHER, Score, UiStrings, ui_strings};

use crate::decode::Display;
use crate::wire;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Asking,
    Sending,
    Thanks,
}

/// The answer's identity and revision: each change is posted as the next
/// revision, so the collector keeps the latest whatever order posts arrive in.
struct Draft {
    id: String,
    rev: u32,
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

    let score = RwSignal::new(None::<u8>);
    let stage = RwSignal::new(Stage::Asking);
    let failed = RwSignal::new(false);
    let open_text = RwSignal::new(String::new());
    let selected = RwSignal::new(Vec::<String>::new());
    let other_text = RwSignal::new(String::new());
    let need_other = RwSignal::new(false);
    let other_input = NodeRef::<leptos::html::Input>::new();
    let draft = StoredValue::new(Draft {
        id: wire::new_uuid(),
        rev: 0,
    });

    // A respondent's first survey on a site asks the open question. The browser
    // remembers earlier answers; when it does not, the collector may (storage
    // cleared, another device of an identified user).
    let first = RwSignal::new(!wire::remembered_answer(&display.site));
    if first.get_untracked() {
        let (base, site, respondent, user) = (
            display.base.clone(),
            display.site.clone(),
            display.respondent.clone(),
            display.user_id.clone(),
        );
        spawn_local(async move {
            let answered = wire::answered_before(&base, &site, &respondent, user.as_deref()).await;
            // Once a score is chosen the follow-up on screen stays as it is.
            if answered == Some(true) && score.get_untracked().is_none() {
                first.set(false);
            }
        });
    }
    let display = StoredValue::new(display);

    let ask = Memo::new(move |_| {
        let score = Score::new(score.get()?)?;
        let first = first.get();
        display.with_value(|d| Some(d.survey.ask(score, &d.locale, first, &d.respondent)))
    });

    // The answer at the next revision, or `None` before a score is chosen.
    let next_answer = move |follow_up: Option<FollowUp>| -> Option<Answer> {
        let score = score.get_untracked()?;
        let rev = draft.with_value(|d| d.rev) + 1;
        draft.update_value(|d| d.rev = rev);
        let d = display.get_value();
        Some(Answer {
            id: draft.with_value(|d| d.id.clone()),
            rev,
            site: d.site,
            survey: d.survey.id.clone(),
            respondent: d.respondent,
            score,
            step: d.step,
            page: d.page,
            locale: d.locale,
            user_id: d.user_id,
            props: d.props,
            first_survey: Some(first.get_untracked()),
            follow_up,
        })
    };
    let send = move |answer: Answer| {
        let (base, site) = display.with_value(|d| (d.base.clone(), d.site.clone()));
        async move {
            let stored = wire::post(&base, &answer).await;
            if stored {
                wire::remember_answer(&site);
            }
            stored
        }
    };

    // The score is stored the moment it is chosen: a respondent who leaves now
    // still counts. Moving to another band starts its list afresh.
    let choose = move |value: u8| {
        let band_of = |v: Option<u8>| {
            let score = Score::new(v?)?;
            display.with_value(|d| d.survey.band(score).map(|b| b.id.clone()))
        };
        if band_of(score.get_untracked()) != band_of(Some(value)) {
            selected.set(Vec::new());
            need_other.set(false);
        }
        score.set(Some(value));
        if let Some(answer) = next_answer(None) {
            spawn_local(async move {
                send(answer).await;
            });
        }
    };

    let toggle = move |id: String, on: bool| {
        selected.update(|s| {
            s.retain(|r| *r != id);
            if on {
                s.push(id);
            }
        });
        need_other.set(false);
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if stage.get_untracked() == Stage::Sending {
            return;
        }
        // An empty follow-up is no follow-up: the answer is sent as a score only.
        let follow_up = match ask.get_untracked() {
            None => return,
            Some(Ask::Open { .. }) => {
                let text = open_text.get_untracked().trim().to_owned();
                (!text.is_empty()).then_some(FollowUp::Open { text })
            }
            Some(Ask::Closed { .. }) => {
                let reasons = selected.get_untracked();
                let other = reasons
                    .iter()
                    .any(|r| r == OTHER)
                    .then(|| other_text.get_untracked().trim().to_owned());
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
        if display.with_value(|d| answer.validate(&d.survey).is_err()) {
            failed.set(true);
            return;
        }
        stage.set(Stage::Sending);
        spawn_local(async move {
            if send(answer).await {
                failed.set(false);
                stage.set(Stage::Thanks);
            } else {
                failed.set(true);
                stage.set(Stage::Asking);
            }
        });
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close();
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
                        prop:checked=move || score.get() == Some(n)
                        on:change=move |_| choose(n)
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
                prop:value=move || open_text.get()
                on:input=move |ev| open_text.set(event_target_value(&ev))
            ></textarea>
        }
    };

    let closed = move |question: String, choices: Vec<survey::Choice>| {
        let boxes = choices
            .into_iter()
            .map(|choice| {
                let id = choice.id;
                let checked = id.clone();
                view! {
                    <label class="reason" part="reason">
                        <input
                            type="checkbox"
                            name="reason"
                            value=id.clone()
                            prop:checked=move || selected.with(|s| s.contains(&checked))
                            on:change=move |ev| toggle(id.clone(), event_target_checked(&ev))
                        />
                        <span>{choice.text}</span>
                    </label>
                }
            })
            .collect_view();
        view! {
            <fieldset class="reasons" aria-describedby="pulso-hint">
                <legend class="follow-label">{question}</legend>
                <p class="hint" id="pulso-hint">{strings.pick_hint}</p>
                {boxes}
                <Show when=move || selected.with(|s| s.iter().any(|r| r == OTHER))>
                    <label class="other-label" for="pulso-other">{strings.other_label}</label>
                    <input
                        id="pulso-other"
                        type="text"
                        name="other"
                        node_ref=other_input
                        maxlength=MAX_TEXT_CHARS.to_string()
                        aria-invalid=move || need_other.get().to_string()
                        aria-describedby=move || need_other.get().then_some("pulso-other-error")
                        prop:value=move || other_text.get()
                        on:input=move |ev| {
                            other_text.set(event_target_value(&ev));
                            need_other.set(false);
                        }
                    />
                    <Show when=move || need_other.get()>
                        <p class="error" id="pulso-other-error" role="alert">{strings.need_other}</p>
                    </Show>
                </Show>
            </fieldset>
        }
    };

    let follow_up = move || {
        ask.get().map(|ask| {
            let body = match ask {
                Ask::Open { question } => open(question).into_any(),
                Ask::Closed {
                    question, choices, ..
                } => closed(question, choices).into_any(),
            };
            view! {
                {body}
                <div class="actions">
                    <button type="submit" class="send" part="send" disabled=move || stage.get() == Stage::Sending>
                        {strings.submit}
                    </button>
                </div>
                <Show when=move || failed.get()>
                    <p class="error" role="alert">{strings.send_error}</p>
                </Show>
            }
        })
    };

    view! {
        <section class="card" part="card" role="dialog" aria-labelledby="pulso-question" on:keydown=on_keydown>
            <button type="button" class="close" part="close" aria-label=strings.close on:click=move |_| on_close()>
                <span aria-hidden="true">"×"</span>
            </button>
            <Show
                when=move || stage.get() != Stage::Thanks
                fallback=move || view! { <p class="thanks" role="status">{strings.thanks}</p> }
            >
                <form on:submit=submit novalidate>
                    <p id="pulso-question" class="question">{question.clone()}</p>
                    <div class="scale" role="radiogroup" aria-labelledby="pulso-question">
                        {scale.clone()}
                    </div>
                    <div class="ends" aria-hidden="true">
                        <span>{low.clone()}</span>
                        <span>{high.clone()}</span>
                    </div>
                    {follow_up}
                </form>
            </Show>
        </section>
    }
}
