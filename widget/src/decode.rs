//! Reads the loader's options (plain JS objects, already parsed by the browser's
//! own `JSON.parse`) into the shared model's types. The widget does not link
//! serde_json: its deserialiser costs more bytes than the whole card.

use js_sys::{Array, Object, Reflect};
use survey::{
    Band, Cta, Prop, Props, Reason, SmallMap, Survey, Texts, Thanks, default_bands, pick_locale,
};
use wasm_bindgen::{JsCast, JsValue};

/// Everything one display of a survey needs.
#[derive(Clone, Debug)]
pub struct Display {
    /// The display's id, a UUID boot.js made: also the answer's id, so a
    /// display and its answer share it.
    pub id: String,
    pub site: String,
    pub survey: Survey,
    pub respondent: String,
    pub step: Option<String>,
    pub page: Option<String>,
    /// The locale chosen for this display.
    pub locale: String,
    /// Whether this is the respondent's first survey on the site: a promise of
    /// a boolean (boot.js asks the browser's storage, then the collector, while
    /// the card loads; the card is shown without waiting for it), or a boolean.
    /// Anything else, or a rejection, counts as a first survey.
    pub first: js_sys::Promise,
    /// boot.js's sender: takes an answer's JSON, keeps it in the outbox,
    /// posts it, and resolves to whether the answer is safe (stored, or kept
    /// to be sent again); a refusal it reports in the console itself.
    pub send: Option<js_sys::Function>,
    pub user_id: Option<String>,
    /// The site's HMAC of `user_id` (verified identify), passed through.
    pub user_hash: Option<String>,
    /// What the page passed, as read: the card drops what does not fit
    /// before it posts (see `survey::Answer::clean_context`).
    pub props: Props,
    /// A preview (`pulso('show', SURVEY)`): nothing is posted or remembered.
    pub preview: bool,
    /// Tells the loader what became of the card: `"a"` answered, `"d"`
    /// dismissed (its recontact periods start from these).
    pub note: Option<js_sys::Function>,
    /// The theme's stylesheet.
    pub theme: String,
}

impl Display {
    /// Tells the loader what became of the card.
    pub fn note(&self, kind: &str) {
        if let Some(note) = &self.note {
            let _ = note.call1(&JsValue::NULL, &kind.into());
        }
    }
}

/// The theme's stylesheet as the loader passes it (`t.css`): made by the
/// collector from the values it checked, adopted by the card as it is.
pub fn theme_css(value: &JsValue) -> String {
    string(value, "css").unwrap_or_default()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

fn strings(obj: &JsValue, key: &str) -> Vec<String> {
    let value = get(obj, key);
    if !Array::is_array(&value) {
        return Vec::new();
    }
    Array::from(&value)
        .iter()
        .filter_map(|v| v.as_string())
        .collect()
}

fn string_map(obj: &JsValue) -> SmallMap<String> {
    let mut map = SmallMap::new();
    for (k, v) in entries(obj) {
        if let Some(v) = v.as_string() {
            map.insert(k, v);
        }
    }
    map
}

fn array(obj: &JsValue, key: &str) -> Option<Vec<JsValue>> {
    let value = get(obj, key);
    Array::is_array(&value).then(|| Array::from(&value).iter().collect())
}

fn entries(obj: &JsValue) -> Vec<(String, JsValue)> {
    if !obj.is_object() {
        return Vec::new();
    }
    Object::entries(obj.unchecked_ref())
        .iter()
        .filter_map(|pair| {
            let pair = Array::from(&pair);
            Some((pair.get(0).as_string()?, pair.get(1)))
        })
        .collect()
}

/// A survey definition as `GET /v1/sites/{site}/config` serves it.
pub fn decode_survey(value: &JsValue) -> Option<Survey> {
    let mut texts = SmallMap::new();
    for (locale, t) in entries(&get(value, "texts")) {
        if let Some(question) = string(&t, "question") {
            let texts_of = Texts {
                question,
                open_question: string(&t, "open_question"),
                low_label: string(&t, "low_label"),
                high_label: string(&t, "high_label"),
            };
            texts.insert(locale, texts_of);
        }
    }
    let bands = match array(value, "bands") {
        Some(bands) => bands
            .iter()
            .map(|b| {
                Some(Band {
                    id: string(b, "id")?,
                    min: small(&get(b, "min"))?,
                    max: small(&get(b, "max"))?,
                    question: string_map(&get(b, "question")),
                    reasons: array(b, "reasons")
                        .unwrap_or_default()
                        .iter()
                        .map(|r| {
                            Some(Reason {
                                id: string(r, "id")?,
                                text: string_map(&get(r, "text")),
                            })
                        })
                        .collect::<Option<Vec<_>>>()?,
                    thanks: thanks(&get(b, "thanks")),
                })
            })
            .collect::<Option<Vec<_>>>()?,
        None => default_bands(),
    };
    Some(Survey {
        id: string(value, "id")?,
        steps: strings(value, "steps"),
        default_locale: string(value, "default_locale").unwrap_or_else(|| "en".into()),
        bands,
        texts,
        shuffle_reasons: get(value, "shuffle_reasons").as_bool().unwrap_or(false),
        // Triggers are the loader's business.
        ..Survey::default()
    })
}

/// A band's thank-you as served: its texts, and the call to action (kept
/// only with its address).
fn thanks(value: &JsValue) -> Option<Thanks> {
    if !value.is_object() {
        return None;
    }
    let cta = get(value, "cta");
    Some(Thanks {
        text: string_map(&get(value, "text")),
        cta: string(&cta, "url").map(|url| Cta {
            text: string_map(&get(&cta, "text")),
            url,
        }),
        in_touch: false,
    })
}

fn small(value: &JsValue) -> Option<u8> {
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=255.0).contains(n))
        .map(|n| n as u8)
}

/// The page's props as given: a value that is not a scalar is pushed as
/// `None`, so that it is named among what was dropped.
fn props(value: &JsValue) -> Props {
    let mut props = Props::new();
    for (key, v) in entries(value) {
        let prop = if let Some(b) = v.as_bool() {
            Some(Prop::Bool(b))
        } else if let Some(n) = v.as_f64() {
            Some(Prop::Number(n))
        } else {
            v.as_string().map(Prop::Text)
        };
        props.push(key, prop);
    }
    props
}

/// The loader's options for one display (names of one letter, as the loader
/// writes them, see boot.js; boot.js adds `site`, `send` and `first`);
/// `None` if a required part is missing.
/// A reply to show: its text, the locale of the answer it replies to (for
/// the card's own words), the site's theme.
pub struct Reply {
    pub text: String,
    pub locale: String,
    pub theme: String,
}

/// The reply options boot.js gives: `{text, locale, t}`.
pub fn decode_reply(options: &JsValue) -> Option<Reply> {
    Some(Reply {
        text: string(options, "text").filter(|t| !t.is_empty())?,
        locale: string(options, "locale").unwrap_or_default(),
        theme: theme_css(&get(options, "t")),
    })
}

pub fn decode_display(options: &JsValue) -> Option<Display> {
    let survey = decode_survey(&get(options, "s"))?;
    let candidates = strings(options, "l");
    let locale = pick_locale(&survey, candidates.iter().map(String::as_str)).to_owned();
    if !survey.has_locale(&locale) {
        return None;
    }
    Some(Display {
        id: string(options, "i")?,
        site: string(options, "site")?,
        respondent: string(options, "r")?,
        step: string(options, "p"),
        page: string(options, "g"),
        user_id: string(options, "u"),
        user_hash: string(options, "h"),
        props: props(&get(options, "o")),
        first: js_sys::Promise::resolve(&get(options, "first")),
        send: get(options, "send").dyn_into().ok(),
        preview: get(options, "v").is_truthy(),
        note: get(options, "n").dyn_into().ok(),
        theme: theme_css(&get(options, "t")),
        locale,
        survey,
    })
}
