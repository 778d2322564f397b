//! Pulso's shared model: what a survey is, how scores fall into bands and classes,
//! and what an answer on the wire looks like and when it is valid.
//!
//! Both the widget (wasm32) and the collector depend on this crate, so it has no I/O,
//! no async and no platform code: the same functions decide validity on both sides.

mod answer;
mod band;
mod context;
mod definition;
#[doc(hidden)]
pub mod examples;
mod follow_up;
mod locale;
mod map;
mod trigger;

pub use answer::{Answer, FollowUp, Invalid, MAX_TEXT_CHARS, Prop, integral, is_uuid};
pub use band::{
    Band, BandError, Class, Cta, OTHER, Reason, Score, Thanks, band_of, check_partition,
    default_bands,
};
pub use context::{
    MAX_ID_CHARS, MAX_PAGE_CHARS, MAX_PROP_VALUE_CHARS, MAX_PROPS, Props, strip_invisible,
};
pub use definition::{
    ClientConfig, DefinitionError, PathSeg, Survey, Texts, Waves, days_ms, is_id,
};
pub use follow_up::{Ask, Choice};
pub use locale::{UiStrings, band_question, normalize_locale, pick_locale, ui_strings};
pub use map::SmallMap;
pub use trigger::{Condition, Position, Scheme, Target, Theme, UrlRule};
