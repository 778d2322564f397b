//! Scores, the classic NPS classes and the configurable score bands.

use crate::SmallMap;

use serde::{Deserialize, Serialize};

/// A 0–10 answer to "How likely are you to recommend us?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u8);

impl Score {
    pub const MAX: u8 = 10;

    /// The only way to make a score: anything above 10 is not one.
    pub fn new(value: u8) -> Option<Score> {
        (value <= Self::MAX).then_some(Score(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn class(self) -> Class {
        match self.0 {
            0..=6 => Class::Detractor,
            7..=8 => Class::Passive,
            _ => Class::Promoter,
        }
    }
}

/// The standard NPS classes, always reported whatever bands a survey uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Detractor,
    Passive,
    Promoter,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Detractor, Class::Passive, Class::Promoter];

    /// The class named `name` (`detractor`, `passive`, `promoter`).
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Detractor => "detractor",
            Class::Passive => "passive",
            Class::Promoter => "promoter",
        }
    }
}

/// A named, inclusive range of scores that gets its own follow-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub id: String,
    pub min: u8,
    pub max: u8,
    /// The closed follow-up's question per locale; omitted locales use the
    /// built-in wording for the band (see [`crate::band_question`]).
    #[serde(default, skip_serializing_if = "SmallMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub question: SmallMap<String>,
    /// The closed list of reasons asked in a respondent's later surveys. "Other"
    /// is not listed here: it is always added, last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// What the card's last screen says to this band, and what it offers
    /// them to do; without it, the built-in thank-you.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thanks: Option<Thanks>,
}

/// A band's thank-you: `thanks = { text.en = "…", cta = { text.en = "Leave
/// us a review", url = "https://…" } }`, or for detractors `thanks = {
/// in_touch = true }`, which says when the team will be in touch (the
/// collector writes that text from the site's inbox deadline).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Thanks {
    /// Text per locale; omitted locales get the built-in thank-you.
    #[serde(default, skip_serializing_if = "SmallMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub text: SmallMap<String>,
    /// A link the card shows under the text; a click is recorded with the
    /// answer (`cta: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<Cta>,
    /// Say when the team will be in touch, by the inbox's deadline for the
    /// band's class. Never sent to the card (the collector turns it into
    /// `text`).
    #[serde(default, skip_serializing)]
    pub in_touch: bool,
}

/// A call to action on the thank-you screen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cta {
    /// The link's text per locale: every locale of the survey has one.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub text: SmallMap<String>,
    /// Where it goes: an `https://` address.
    pub url: String,
}

/// One choice of a closed follow-up list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Stable id, stored with answers; never a display position.
    pub id: String,
    /// Text per locale.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub text: SmallMap<String>,
}

/// The reason id of the "Other" choice that every closed list ends with.
pub const OTHER: &str = "other";

impl Band {
    pub fn contains(&self, score: Score) -> bool {
        (self.min..=self.max).contains(&score.get())
    }
}

/// Detractors 0–3 and 4–6 are asked different things (what went wrong vs. what is
/// missing), so the default splits the classic detractor class in two.
pub fn default_bands() -> Vec<Band> {
    [
        ("detractor_0_3", 0, 3),
        ("detractor_4_6", 4, 6),
        ("passive", 7, 8),
        ("promoter", 9, 10),
    ]
    .into_iter()
    .map(|(id, min, max)| Band {
        id: id.to_owned(),
        min,
        max,
        question: SmallMap::new(),
        reasons: Vec::new(),
        thanks: None,
    })
    .collect()
}

/// Why a list of bands is not a partition of 0–10.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BandError {
    Empty,
    EmptyId {
        index: usize,
    },
    DuplicateId {
        id: String,
    },
    Inverted {
        id: String,
    },
    OutOfRange {
        id: String,
    },
    /// Two bands claim the same score.
    Overlap {
        score: u8,
        first: String,
        second: String,
    },
    /// No band claims this score.
    Gap {
        score: u8,
    },
}

impl std::fmt::Display for BandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BandError::Empty => write!(f, "at least one band is needed"),
            BandError::EmptyId { index } => write!(f, "band #{} has an empty id", index + 1),
            BandError::DuplicateId { id } => write!(f, "band id `{id}` is used twice"),
            BandError::Inverted { id } => write!(f, "band `{id}` has min greater than max"),
            BandError::OutOfRange { id } => write!(f, "band `{id}` reaches past 10"),
            BandError::Overlap {
                score,
                first,
                second,
            } => write!(
                f,
                "score {score} is in both band `{first}` and band `{second}`"
            ),
            BandError::Gap { score } => write!(f, "score {score} is in no band"),
        }
    }
}

impl std::error::Error for BandError {}

/// Checks that every score 0–10 falls in exactly one band.
pub fn check_partition(bands: &[Band]) -> Result<(), BandError> {
    if bands.is_empty() {
        return Err(BandError::Empty);
    }
    let mut owner: [Option<usize>; 11] = [None; 11];
    for (index, band) in bands.iter().enumerate() {
        if band.id.trim().is_empty() {
            return Err(BandError::EmptyId { index });
        }
        if bands[..index].iter().any(|b| b.id == band.id) {
            return Err(BandError::DuplicateId {
                id: band.id.clone(),
            });
        }
        if band.min > band.max {
            return Err(BandError::Inverted {
                id: band.id.clone(),
            });
        }
        if band.max > Score::MAX {
            return Err(BandError::OutOfRange {
                id: band.id.clone(),
            });
        }
        for score in band.min..=band.max {
            let slot = &mut owner[usize::from(score)];
            if let Some(first) = *slot {
                return Err(BandError::Overlap {
                    score,
                    first: bands[first].id.clone(),
                    second: band.id.clone(),
                });
            }
            *slot = Some(index);
        }
    }
    match owner.iter().position(Option::is_none) {
        Some(score) => Err(BandError::Gap { score: score as u8 }),
        None => Ok(()),
    }
}

/// The band a score falls in; `None` only for a list that is not a partition.
pub fn band_of(bands: &[Band], score: Score) -> Option<&Band> {
    bands.iter().find(|b| b.contains(score))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(id: &str, min: u8, max: u8) -> Band {
        Band {
            id: id.into(),
            min,
            max,
            question: SmallMap::new(),
            reasons: Vec::new(),
            thanks: None,
        }
    }

    #[test]
    fn scores_above_ten_are_not_scores() {
        assert_eq!(Score::new(10).map(Score::get), Some(10));
        assert_eq!(Score::new(11), None);
        assert_eq!(Score::new(255), None);
    }

    #[test]
    fn classic_classes_at_their_boundaries() {
        let class = |v| Score::new(v).unwrap().class();
        assert_eq!(class(0), Class::Detractor);
        assert_eq!(class(6), Class::Detractor);
        assert_eq!(class(7), Class::Passive);
        assert_eq!(class(8), Class::Passive);
        assert_eq!(class(9), Class::Promoter);
        assert_eq!(class(10), Class::Promoter);
    }

    #[test]
    fn default_bands_at_their_boundaries() {
        let bands = default_bands();
        check_partition(&bands).unwrap();
        let id = |v| band_of(&bands, Score::new(v).unwrap()).unwrap().id.as_str();
        for (score, expected) in [
            (0, "detractor_0_3"),
            (3, "detractor_0_3"),
            (4, "detractor_4_6"),
            (6, "detractor_4_6"),
            (7, "passive"),
            (8, "passive"),
            (9, "promoter"),
            (10, "promoter"),
        ] {
            assert_eq!(id(score), expected, "score {score}");
        }
    }

    #[test]
    fn overlap_gap_and_bad_bands_are_named() {
        assert_eq!(
            check_partition(&[band("a", 0, 5), band("b", 5, 10)]),
            Err(BandError::Overlap {
                score: 5,
                first: "a".into(),
                second: "b".into()
            })
        );
        assert_eq!(
            check_partition(&[band("a", 0, 4), band("b", 6, 10)]),
            Err(BandError::Gap { score: 5 })
        );
        assert_eq!(
            check_partition(&[band("a", 0, 10), band("a", 0, 0)]),
            Err(BandError::DuplicateId { id: "a".into() })
        );
        assert_eq!(
            check_partition(&[band("a", 5, 4)]),
            Err(BandError::Inverted { id: "a".into() })
        );
        assert_eq!(
            check_partition(&[band("a", 0, 11)]),
            Err(BandError::OutOfRange { id: "a".into() })
        );
        assert_eq!(check_partition(&[]), Err(BandError::Empty));
        assert!(check_partition(&[band("all", 0, 10)]).is_ok());
    }

    /// Any partition of 0–10 into consecutive bands: cut points chosen at random.
    #[cfg(not(target_arch = "wasm32"))]
    fn partition() -> impl proptest::strategy::Strategy<Value = Vec<Band>> {
        proptest::collection::btree_set(1u8..=10, 0..=10).prop_map(|cuts| {
            let mut bands = Vec::new();
            let mut start = 0;
            for (i, end) in cuts.iter().copied().chain([11]).enumerate() {
                bands.push(band(&format!("b{i}"), start, end - 1));
                start = end;
            }
            bands
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn every_score_is_in_exactly_one_band_of_any_valid_partition(bands in partition()) {
            prop_assert!(check_partition(&bands).is_ok());
            for value in 0..=10 {
                let score = Score::new(value).unwrap();
                let owners = bands.iter().filter(|b| b.contains(score)).count();
                prop_assert_eq!(owners, 1);
                prop_assert!(band_of(&bands, score).is_some());
            }
        }

        #[test]
        fn a_partition_missing_or_doubling_a_score_is_refused(
            bands in partition(),
            value in 0u8..=10,
            double in any::<bool>(),
        ) {
            let mut bands = bands;
            if double {
                bands.push(band("extra", value, value));
            } else {
                // Shrink the band owning `value` so that it no longer covers it.
                let owner = bands.iter().position(|b| b.contains(Score::new(value).unwrap())).unwrap();
                let b = &mut bands[owner];
                if b.min == b.max {
                    bands.remove(owner);
                } else if b.min == value {
                    b.min += 1;
                } else {
                    b.max = value - 1;
                }
            }
            prop_assert!(check_partition(&bands).is_err());
        }
    }
}
