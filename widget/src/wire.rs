//! Answers out: the shared [`Answer`] turned into JSON by the browser's own
//! `JSON.stringify` (boot.js posts it, through its outbox). The answer's id
//! is the display's, made by boot.js.

use js_sys::{Object, Reflect};
use survey::{Answer, FollowUp, Prop};
use wasm_bindgen::JsValue;

fn set(obj: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value);
}

fn set_opt(obj: &Object, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        set(obj, key, JsValue::from_str(v));
    }
}

/// The answer's JSON text, in the wire format the `survey` crate defines.
pub fn to_json(answer: &Answer) -> String {
    let o = Object::new();
    set(&o, "id", answer.id.as_str().into());
    set(&o, "rev", answer.rev.into());
    set(&o, "site", answer.site.as_str().into());
    set(&o, "survey", answer.survey.as_str().into());
    set(&o, "respondent", answer.respondent.as_str().into());
    set(&o, "score", answer.score.into());
    set_opt(&o, "step", &answer.step);
    set_opt(&o, "page", &answer.page);
    set(&o, "locale", answer.locale.as_str().into());
    set_opt(&o, "user_id", &answer.user_id);
    set_opt(&o, "user_hash", &answer.user_hash);
    if !answer.props.is_empty() {
        let props = Object::new();
        for (key, value) in &answer.props {
            let value = match value {
                Prop::Bool(b) => JsValue::from_bool(*b),
                Prop::Number(n) => JsValue::from_f64(*n),
                Prop::Text(t) => JsValue::from_str(t),
            };
            set(&props, key, value);
        }
        set(&o, "props", props.into());
    }
    if let Some(first) = answer.first_survey {
        set(&o, "first_survey", first.into());
    }
    if let Some(follow_up) = &answer.follow_up {
        let f = Object::new();
        set(&f, "kind", follow_up.kind().into());
        match follow_up {
            FollowUp::Open { text } => set(&f, "text", text.as_str().into()),
            FollowUp::Closed { reasons, other } => {
                let list: js_sys::Array = reasons.iter().map(|r| JsValue::from_str(r)).collect();
                set(&f, "reasons", list.into());
                set_opt(&f, "other", other);
            }
        }
        set(&o, "follow_up", f.into());
    }
    if let Some(clicked) = answer.cta {
        set(&o, "cta", clicked.into());
    }
    js_sys::JSON::stringify(&o)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
