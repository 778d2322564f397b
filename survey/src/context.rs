//! What the host page passes in with an answer (the funnel step, the page, the
//! user id, the props of `pulso('track', STEP, PROPS)`): kept when it fits,
//! cleaned, or dropped by name, and never the reason an answer is refused. A
//! page can pass anything, and a respondent's score must not be lost to it.
//!
//! The card drops what [`Answer::clean_context`] drops before it posts (and
//! says so once in the console); the collector runs the same function on
//! what arrives, with its fuller text cleaner, and says in its response what
//! it dropped.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::answer::{Answer, Prop};
use crate::definition::{Survey, is_id};
use crate::map::SmallMap;

/// Most props an answer keeps; later ones are dropped.
pub const MAX_PROPS: usize = 32;
/// Longest text prop, in Unicode scalar values.
pub const MAX_PROP_VALUE_CHARS: usize = 500;
/// Longest user id and step, likewise.
pub const MAX_ID_CHARS: usize = 100;
/// Longest page path, likewise.
pub const MAX_PAGE_CHARS: usize = 2000;
/// Dropped props named one by one; past this they are counted.
const MAX_NAMED: usize = 32;

/// The props of an answer: at most [`MAX_PROPS`] entries whose names are ids
/// and whose values are booleans, finite numbers or short texts, in key
/// order; and the names of what was dropped on the way in. Serialized as the
/// JSON object of what is kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Props {
    kept: SmallMap<Prop>,
    dropped: Vec<String>,
    /// Dropped beyond the [`MAX_NAMED`] named ones.
    more: usize,
}

impl Props {
    pub const fn new() -> Props {
        Props {
            kept: SmallMap::new(),
            dropped: Vec::new(),
            more: 0,
        }
    }

    /// Keeps `key` = `value` if both fit (a later value of a kept key replaces
    /// it), else records the key as dropped. `None` is a value that is no
    /// scalar (null, an array, an object).
    pub fn push(&mut self, key: String, value: Option<Prop>) {
        let fits = is_id(&key)
            && match &value {
                Some(Prop::Text(t)) => t.chars().count() <= MAX_PROP_VALUE_CHARS,
                Some(Prop::Number(n)) => n.is_finite(),
                Some(Prop::Bool(_)) => true,
                None => false,
            }
            && (self.kept.len() < MAX_PROPS || self.kept.contains_key(&key));
        match value {
            Some(value) if fits => {
                self.kept.insert(key, value);
            }
            _ => self.drop_key(&key),
        }
    }

    fn drop_key(&mut self, key: &str) {
        if self.dropped.len() < MAX_NAMED {
            let short: String = key.chars().take(MAX_ID_CHARS).collect();
            self.dropped.push(["props.", &short].concat());
        } else {
            self.more += 1;
        }
    }

    /// The kept value of `key`.
    pub fn get(&self, key: &str) -> Option<&Prop> {
        self.kept.get(key)
    }

    /// Nothing kept (what was dropped does not count).
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The names of the props dropped so far, `props.KEY` each.
    pub fn dropped(&self) -> &[String] {
        &self.dropped
    }

    /// Takes each text value through `clean`, dropping those that no longer fit.
    fn clean_texts(&mut self, clean: &impl Fn(&str) -> String) {
        let entries = std::mem::take(&mut self.kept);
        for (key, value) in entries {
            let value = match value {
                Prop::Text(text) => Prop::Text(clean(&text)),
                other => other,
            };
            self.push(key, Some(value));
        }
    }
}

impl std::ops::Deref for Props {
    type Target = SmallMap<Prop>;

    fn deref(&self) -> &SmallMap<Prop> {
        &self.kept
    }
}

impl<'a> IntoIterator for &'a Props {
    type Item = (&'a String, &'a Prop);
    type IntoIter = crate::map::Iter<'a, Prop>;

    fn into_iter(self) -> Self::IntoIter {
        self.kept.iter()
    }
}

/// Props from entries, each pushed in turn (what does not fit is dropped).
impl FromIterator<(String, Prop)> for Props {
    fn from_iter<I: IntoIterator<Item = (String, Prop)>>(entries: I) -> Props {
        let mut props = Props::new();
        for (key, value) in entries {
            props.push(key, Some(value));
        }
        props
    }
}

impl Serialize for Props {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.kept.serialize(serializer)
    }
}

/// Reads whatever the page sent without refusing it: a JSON object's entries
/// are pushed one by one ([`Props::push`]), anything else is dropped as a
/// whole. Work stays linear in the body: past [`MAX_PROPS`] kept entries a
/// value is skipped unread, and nothing is sorted more than 32 entries deep.
impl<'de> Deserialize<'de> for Props {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Props, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Props;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of props")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Props, A::Error> {
                let mut props = Props::new();
                while let Some(key) = access.next_key::<String>()? {
                    let full = props.kept.len() >= MAX_PROPS && !props.kept.contains_key(&key);
                    let value = if full {
                        access.next_value::<IgnoredAny>()?;
                        None
                    } else {
                        access.next_value::<Scalar>()?.0
                    };
                    props.push(key, value);
                }
                Ok(props)
            }
            fn visit_unit<E>(self) -> Result<Props, E> {
                Ok(Props::new())
            }
            fn visit_none<E>(self) -> Result<Props, E> {
                Ok(Props::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Props, D::Error> {
                d.deserialize_any(Entries)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Props, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Props::dropped_whole())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Props, E> {
                Ok(Props::dropped_whole())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Props, E> {
                Ok(Props::dropped_whole())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Props, E> {
                Ok(Props::dropped_whole())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Props, E> {
                Ok(Props::dropped_whole())
            }
            fn visit_str<E>(self, _: &str) -> Result<Props, E> {
                Ok(Props::dropped_whole())
            }
        }
        deserializer.deserialize_any(Entries)
    }
}

impl Props {
    /// `props` was not an object at all.
    fn dropped_whole() -> Props {
        Props {
            dropped: vec!["props".into()],
            ..Props::new()
        }
    }
}

/// A prop value as read: `Some` for a scalar, `None` for anything else
/// (skipped, not refused).
struct Scalar(Option<Prop>);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a prop value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(Prop::Bool(v))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(Prop::Number(v as f64))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(Prop::Number(v as f64))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(Prop::Number(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(Prop::Text(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(Some(Prop::Text(v))))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        deserializer.deserialize_any(Any)
    }
}

/// Characters a free text never keeps: controls other than the line break
/// (a tab becomes a space), bidi overrides and isolates (they reorder what a
/// spreadsheet or page shows), zero-width characters (they hide text and
/// make equal-looking texts differ) and tag characters (invisible ASCII).
/// The collector then normalises to NFC and trims (see its `clean_text`);
/// the card, which carries no Unicode tables, stops here.
pub fn strip_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200b}'..='\u{200d}'
            | '\u{2060}'..='\u{2064}'
            | '\u{feff}'
            | '\u{180e}'
            | '\u{e0000}'..='\u{e007f}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

impl Answer {
    /// Cleans what the page passed in with the answer, dropping what does not
    /// fit; returns the names of what was dropped (`step`, `page`, `user_id`,
    /// `props.KEY`), the props the decoder dropped included. `clean` is the
    /// text cleaner every free text goes through ([`strip_invisible`] in the
    /// card, the collector's NFC cleaner there).
    ///
    /// - `step` is kept only if the survey lists it (a page cannot invent
    ///   funnel steps);
    /// - `page` keeps its path only (query strings and fragments can carry
    ///   personal data), and only a path of at most 2,000 characters;
    /// - `user_id` of 1 to 100 characters;
    /// - props as [`Props::push`] keeps them, texts cleaned.
    pub fn clean_context(
        &mut self,
        survey: &Survey,
        clean: impl Fn(&str) -> String,
    ) -> Vec<String> {
        let mut dropped = Vec::new();
        let mut keep = |name: &str, value: &mut Option<String>, fits: &dyn Fn(&str) -> bool| {
            if let Some(v) = value.take() {
                let v = clean(&v);
                if fits(&v) {
                    *value = Some(v);
                } else {
                    dropped.push(name.to_owned());
                }
            }
        };
        keep("step", &mut self.step, &|s| {
            survey.steps.iter().any(|x| x == s)
        });
        if let Some(page) = &mut self.page
            && let Some(end) = page.find(['?', '#'])
        {
            page.truncate(end);
        }
        keep("page", &mut self.page, &|p| {
            p.starts_with('/') && p.chars().count() <= MAX_PAGE_CHARS
        });
        keep("user_id", &mut self.user_id, &|u| {
            !u.is_empty() && u.chars().count() <= MAX_ID_CHARS
        });
        self.props.clean_texts(&clean);
        dropped.extend(self.props.dropped.iter().cloned());
        if self.props.more > 0 {
            dropped.push(["props (", &count(self.props.more), " more)"].concat());
        }
        dropped
    }
}

/// A count as decimal digits (without `core::fmt`, which the card keeps out).
fn count(mut n: usize) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> Survey {
        let mut s = crate::examples::survey();
        s.steps = vec!["checkout_done".into()];
        s
    }

    fn answer() -> Answer {
        crate::examples::answer()
    }

    #[test]
    fn props_that_do_not_fit_are_dropped_by_name() {
        let body = format!(
            r#"{{"plan":"pro","plan.tier":"gold","n":null,"list":[1,{{"a":2}}],"obj":{{"x":1}},"long":"{}","ok":true}}"#,
            "x".repeat(501)
        );
        let props: Props = serde_json::from_str(&body).unwrap();
        assert_eq!(props.len(), 2, "{props:?}");
        assert_eq!(props.get("plan"), Some(&Prop::Text("pro".into())));
        assert_eq!(props.get("ok"), Some(&Prop::Bool(true)));
        assert_eq!(
            props.dropped(),
            [
                "props.plan.tier",
                "props.n",
                "props.list",
                "props.obj",
                "props.long"
            ]
        );
        assert_eq!(
            serde_json::to_string(&props).unwrap(),
            r#"{"ok":true,"plan":"pro"}"#
        );
    }

    #[test]
    fn props_past_the_cap_are_skipped_and_counted() {
        let body: String = (0..8500)
            .map(|i| format!("\"k{i}\":\"{}\"", "v".repeat(3)))
            .collect::<Vec<_>>()
            .join(",");
        let mut a = answer();
        a.props = serde_json::from_str(&format!("{{{body}}}")).unwrap();
        assert_eq!(a.props.len(), MAX_PROPS);
        assert_eq!(a.props.dropped().len(), MAX_NAMED);
        let dropped = a.clean_context(&survey(), strip_invisible);
        assert_eq!(dropped.last().unwrap(), "props (8436 more)");
        assert_eq!(dropped.len(), MAX_NAMED + 1);
    }

    #[test]
    fn a_kept_key_may_be_given_again_past_the_cap() {
        let mut props: Props = (0..MAX_PROPS)
            .map(|i| (format!("k{i}"), Prop::Bool(true)))
            .collect();
        props.push("k3".into(), Some(Prop::Number(3.0)));
        props.push("extra".into(), Some(Prop::Bool(false)));
        assert_eq!(props.get("k3"), Some(&Prop::Number(3.0)));
        assert_eq!(props.dropped(), ["props.extra"]);
    }

    #[test]
    fn anything_but_an_object_drops_the_props_whole() {
        for body in ["[1,2]", "5", "\"text\"", "true"] {
            let props: Props = serde_json::from_str(body).unwrap();
            assert!(props.is_empty());
            assert_eq!(props.dropped(), ["props"], "{body}");
        }
        let props: Props = serde_json::from_str("null").unwrap();
        assert!(props.is_empty() && props.dropped().is_empty());
    }

    #[test]
    fn non_finite_numbers_are_dropped() {
        let props: Props = [
            ("nan".to_owned(), Prop::Number(f64::NAN)),
            ("inf".to_owned(), Prop::Number(f64::INFINITY)),
            ("n".to_owned(), Prop::Number(2.5)),
        ]
        .into_iter()
        .collect();
        assert_eq!(props.dropped(), ["props.nan", "props.inf"]);
        assert_eq!(props.len(), 1);
    }

    #[test]
    fn step_page_and_user_id_are_cleaned_or_dropped() {
        let mut a = answer();
        a.step = Some("checkout_done\u{200b}".into());
        a.page = Some("/done?email=a@b.example#top".into());
        a.user_id = Some("u-42\u{202e}".into());
        assert!(a.clean_context(&survey(), strip_invisible).is_empty());
        assert_eq!(a.step.as_deref(), Some("checkout_done"));
        assert_eq!(a.page.as_deref(), Some("/done"));
        assert_eq!(a.user_id.as_deref(), Some("u-42"));

        let mut a = answer();
        a.step = Some("forged_step".into());
        a.page = Some("done".into());
        a.user_id = Some("x".repeat(101));
        assert_eq!(
            a.clean_context(&survey(), strip_invisible),
            ["step", "page", "user_id"]
        );
        assert_eq!((a.step, a.page, a.user_id), (None, None, None));

        let mut a = answer();
        a.page = Some(format!("/{}", "p".repeat(MAX_PAGE_CHARS)));
        a.user_id = Some("\u{200b}".into());
        assert_eq!(
            a.clean_context(&survey(), strip_invisible),
            ["page", "user_id"]
        );
    }

    #[test]
    fn texts_of_props_are_cleaned_then_measured() {
        let mut a = answer();
        a.props = [
            ("note".to_owned(), Prop::Text("a\u{7}b\u{e0041}".into())),
            ("long".to_owned(), Prop::Text("é".repeat(500))),
        ]
        .into_iter()
        .collect();
        a.step = None;
        let grow = |t: &str| format!("{t}!");
        let dropped = a.clean_context(&survey(), grow);
        assert_eq!(dropped, ["props.long"]);
        assert_eq!(
            a.props.get("note"),
            Some(&Prop::Text("a\u{7}b\u{e0041}!".into()))
        );
        assert_eq!(strip_invisible("a\u{7}b\u{e0041}"), "ab");
    }

    #[test]
    fn invisible_characters_are_stripped() {
        assert_eq!(strip_invisible("a\u{0}b\u{7}c\u{1b}[31m"), "abc[31m");
        assert_eq!(strip_invisible("one\r\ntwo\rthree"), "one\ntwothree");
        assert_eq!(strip_invisible("tab\there"), "tab here");
        assert_eq!(strip_invisible("\u{202e}gnp.exe\u{2066}"), "gnp.exe");
        assert_eq!(
            strip_invisible("z\u{200b}w\u{200d}j\u{feff}\u{2060}"),
            "zwj"
        );
        assert_eq!(strip_invisible("flag\u{e0067}\u{e007f}"), "flag");
        assert_eq!(strip_invisible("café ñ 日本"), "café ñ 日本");
    }

    #[test]
    fn counts_are_decimal() {
        for n in [0, 7, 10, 8436, 1_000_000] {
            assert_eq!(count(n), n.to_string());
        }
    }
}
