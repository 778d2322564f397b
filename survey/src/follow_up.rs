//! What to ask after the score: the open question on a respondent's first
//! survey, the closed list of the score's band on later ones.

use crate::band::{OTHER, Score};
use crate::definition::Survey;
use crate::locale::{band_question, ui_strings};

/// One choice of a closed list as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub id: String,
    pub text: String,
}

/// The follow-up to show for a score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    Open {
        question: String,
    },
    Closed {
        band: String,
        question: String,
        /// In display order; "Other" is always the last.
        choices: Vec<Choice>,
    },
}

impl Survey {
    /// The follow-up for `score` in `locale`. A first survey, or a band without a
    /// list of reasons, asks the open question. With `shuffle_reasons`, the order
    /// is a permutation fixed by the respondent, survey and band, so it does not
    /// change when the respondent changes the score back and forth.
    pub fn ask(&self, score: Score, locale: &str, first_survey: bool, respondent: &str) -> Ask {
        let strings = ui_strings(locale);
        let texts = self.texts.get(locale);
        let band = self.band(score).filter(|b| !b.reasons.is_empty());
        let Some(band) = band.filter(|_| !first_survey) else {
            let question = texts
                .and_then(|t| t.open_question.clone())
                .unwrap_or_else(|| strings.open_question.to_owned());
            return Ask::Open { question };
        };
        let question = band
            .question
            .get(locale)
            .cloned()
            .unwrap_or_else(|| band_question(&band.id, locale).to_owned());
        let mut choices: Vec<Choice> = band
            .reasons
            .iter()
            .map(|r| Choice {
                id: r.id.clone(),
                text: r
                    .text
                    .get(locale)
                    .or_else(|| r.text.get(&self.default_locale))
                    .cloned()
                    .unwrap_or_else(|| r.id.clone()),
            })
            .collect();
        if self.shuffle_reasons {
            shuffle(&mut choices, &[respondent, &self.id, &band.id]);
        }
        choices.push(Choice {
            id: OTHER.to_owned(),
            text: strings.other.to_owned(),
        });
        Ask::Closed {
            band: band.id.clone(),
            question,
            choices,
        }
    }
}

/// Fisher–Yates driven by a small generator seeded from `seed`: the same seed
/// always gives the same order, on every platform.
fn shuffle<T>(items: &mut [T], seed: &[&str]) {
    let mut state = seed.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, part| {
        part.bytes()
            .chain([0xff])
            .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    });
    for i in (1..items.len()).rev() {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let j = (z % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples;

    fn ids(ask: &Ask) -> Vec<String> {
        match ask {
            Ask::Closed { choices, .. } => choices.iter().map(|c| c.id.clone()).collect(),
            Ask::Open { .. } => vec![],
        }
    }

    fn score(v: u8) -> Score {
        Score::new(v).unwrap()
    }

    #[test]
    fn a_first_survey_asks_the_open_question() {
        let s = examples::survey();
        assert_eq!(
            s.ask(score(2), "es", true, "r"),
            Ask::Open {
                question: "¿Cuál es la razón principal de tu puntuación?".into()
            }
        );
    }

    #[test]
    fn later_surveys_ask_the_list_of_the_scores_band_with_other_last() {
        let mut s = examples::survey();
        s.shuffle_reasons = false;
        for (value, band) in [
            (0, "detractor_0_3"),
            (3, "detractor_0_3"),
            (4, "detractor_4_6"),
            (6, "detractor_4_6"),
            (7, "passive"),
            (8, "passive"),
            (9, "promoter"),
            (10, "promoter"),
        ] {
            let ask = s.ask(score(value), "en", false, "r");
            let Ask::Closed {
                band: got, choices, ..
            } = &ask
            else {
                panic!("score {value}: {ask:?}");
            };
            assert_eq!(got, band, "score {value}");
            let expected: Vec<String> = s
                .bands
                .iter()
                .find(|b| b.id == band)
                .unwrap()
                .reasons
                .iter()
                .map(|r| r.id.clone())
                .chain([OTHER.to_owned()])
                .collect();
            assert_eq!(ids(&ask), expected, "score {value}");
            assert_eq!(choices.last().unwrap().text, "Other");
        }
    }

    #[test]
    fn the_two_detractor_bands_are_worded_differently() {
        let s = examples::survey();
        let question = |v| match s.ask(score(v), "en", false, "r") {
            Ask::Closed { question, .. } => question,
            other => panic!("{other:?}"),
        };
        assert_ne!(question(2), question(5));
    }

    #[test]
    fn shuffling_is_per_respondent_stable_and_keeps_other_last() {
        let s = examples::survey();
        assert!(s.shuffle_reasons);
        let a1 = ids(&s.ask(score(2), "en", false, "respondent-a"));
        let a2 = ids(&s.ask(score(2), "en", false, "respondent-a"));
        assert_eq!(a1, a2, "the same respondent sees the same order");
        assert_eq!(*a1.last().unwrap(), OTHER);
        let mut sorted = a1.clone();
        sorted.sort();
        let mut config: Vec<String> = s.bands[0]
            .reasons
            .iter()
            .map(|r| r.id.clone())
            .chain([OTHER.to_owned()])
            .collect();
        config.sort();
        assert_eq!(sorted, config, "a permutation of the configured list");
        let orders: std::collections::HashSet<Vec<String>> = (0..20)
            .map(|i| ids(&s.ask(score(2), "en", false, &format!("respondent-{i}"))))
            .collect();
        assert!(
            orders.len() > 1,
            "different respondents get different orders"
        );
    }

    #[test]
    fn a_band_without_reasons_asks_the_open_question() {
        let mut s = examples::survey();
        s.bands[2].reasons.clear();
        assert!(matches!(
            s.ask(score(7), "en", false, "r"),
            Ask::Open { .. }
        ));
    }
}
