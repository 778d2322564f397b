//! The card: the 0–10 question, the follow-up, the thank-you.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use survey::{Answer, FollowUp, MAX_TEXT_CHARS, UiStrings, ui_strings};

use crate::decode::Display;
use crate::wire;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Asking,
    Sending,
    Thanks,
}

/// Builds the answer as it stands; each change gets the next revision, so the
/// collector keeps the latest whatever order the posts arrive in.
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
    let question = texts.question.clone();
    let open_question = texts
        .open_question
        .clone()
        .unwrap_or_else(|| strings.open_question.to_owned());
    let low = texts
        .low_label
        .clone()
        .unwrap_or_else(|| strings.low_label.to_owned());
    let high = texts
        .high_label
        .clone()
        .unwrap_or_else(|| strings.high_label.to_owned());

    let score = RwSignal::new(None::<u8>);
    let text = RwSignal::new(String::new());
    let stage = RwSignal::new(Stage::Asking);
    let failed = RwSignal::new(false);
    let draft = StoredValue::new(Draft {
        id: wire::new_uuid(),
        rev: 0,
    });
    let display = StoredValue::new(display);

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
            follow_up,
        })
    };

    // The score is stored the moment it is chosen: a respondent who leaves now
    // still counts.
    let choose = move |value: u8| {
        score.set(Some(value));
        if let Some(answer) = next_answer(None) {
            let base = display.with_value(|d| d.base.clone());
            spawn_local(async move {
                wire::post(&base, &answer).await;
            });
        }
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if stage.get_untracked() == Stage::Sending {
            return;
        }
        let follow_up = FollowUp::Open {
            text: text.get_untracked().trim().to_owned(),
        };
        let Some(answer) = next_answer(Some(follow_up)) else {
            return;
        };
        let valid = display.with_value(|d| answer.validate(&d.survey).is_ok());
        if !valid {
            failed.set(true);
            return;
        }
        stage.set(Stage::Sending);
        let base = display.with_value(|d| d.base.clone());
        spawn_local(async move {
            if wire::post(&base, &answer).await {
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

    let follow_up = move || {
        score.get().map(|_| {
            view! {
                <label class="follow-label" for="pulso-text">{open_question.clone()}</label>
                <textarea
                    id="pulso-text"
                    name="text"
                    rows="3"
                    maxlength=MAX_TEXT_CHARS.to_string()
                    placeholder=strings.placeholder
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
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
                    {follow_up.clone()}
                </form>
            </Show>
        </section>
    }
}
