//! The thank-you that says when the team will be in touch (`thanks = {
//! in_touch = true }` on a band): its text, written per locale from the
//! inbox's deadline for the band's class, so the respondent is promised
//! only what the team is due to do.

use std::time::Duration;

use survey::{Class, Score, Survey};

use crate::inbox::InboxSettings;

/// The class whose deadline a band's `in_touch` names (the survey's check
/// keeps such a band within one class).
pub fn class_of(band: &survey::Band) -> Option<Class> {
    Score::new(band.min).map(Score::class)
}

/// The deadline in words: minutes below an hour, hours below two days,
/// else days (each rounded up, never promising sooner than the inbox).
fn span(deadline: Duration, spanish: bool) -> String {
    let secs = deadline.as_secs().max(60);
    let up = |unit: u64| secs.div_ceil(unit);
    let (n, one, many) = if secs < 3600 {
        (up(60), ("minute", "minuto"), ("minutes", "minutos"))
    } else if secs < 48 * 3600 {
        (up(3600), ("hour", "hora"), ("hours", "horas"))
    } else {
        (up(86_400), ("day", "día"), ("days", "días"))
    };
    let word = match (n == 1, spanish) {
        (true, false) => one.0,
        (true, true) => one.1,
        (false, false) => many.0,
        (false, true) => many.1,
    };
    format!("{n} {word}")
}

/// The thank-you of `locale` (Spanish, else English) for a deadline.
pub fn in_touch_text(locale: &str, deadline: Duration) -> String {
    if survey::normalize_locale(locale).starts_with("es") {
        format!(
            "Gracias por contárnoslo. Nuestro equipo te responderá en menos de {}.",
            span(deadline, true)
        )
    } else {
        format!(
            "Thank you for telling us. Our team will get back to you within {}.",
            span(deadline, false)
        )
    }
}

/// Writes the texts of `survey`'s `in_touch` thank-yous, for every locale
/// of the survey, from `inbox`'s deadlines (the configuration's check made
/// sure each has one).
pub fn write_in_touch(survey: &mut Survey, inbox: &InboxSettings) {
    let locales: Vec<String> = survey.texts.keys().cloned().collect();
    for band in &mut survey.bands {
        let deadline = class_of(band).and_then(|c| inbox.deadline(c));
        let Some(thanks) = band.thanks.as_mut().filter(|t| t.in_touch) else {
            continue;
        };
        if let Some(deadline) = deadline {
            for locale in &locales {
                thanks
                    .text
                    .insert(locale.clone(), in_touch_text(locale, deadline));
            }
        }
        thanks.in_touch = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_in_words_rounded_up() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(
            in_touch_text("en", h(24)),
            "Thank you for telling us. Our team will get back to you within 24 hours."
        );
        assert_eq!(
            in_touch_text("es-MX", h(72)),
            "Gracias por contárnoslo. Nuestro equipo te responderá en menos de 3 días."
        );
        assert!(in_touch_text("en", h(1)).ends_with("within 1 hour."));
        assert!(in_touch_text("es", h(1)).ends_with("menos de 1 hora."));
        assert!(in_touch_text("en", Duration::from_secs(90 * 60)).ends_with("within 2 hours."));
        assert!(in_touch_text("en", Duration::from_secs(30 * 60)).ends_with("within 30 minutes."));
        assert!(in_touch_text("en", h(49)).ends_with("within 3 days."));
        // A locale without its own wording gets the English one.
        assert!(in_touch_text("fr", h(4)).starts_with("Thank you"));
    }

    #[test]
    fn written_for_every_locale_of_the_survey() {
        let mut survey = survey::examples::survey();
        survey.bands[0].thanks = Some(survey::Thanks {
            in_touch: true,
            ..Default::default()
        });
        write_in_touch(&mut survey, &InboxSettings::default());
        let thanks = survey.bands[0].thanks.as_ref().unwrap();
        assert!(!thanks.in_touch);
        assert_eq!(
            thanks.text.get("en").map(String::as_str),
            Some("Thank you for telling us. Our team will get back to you within 24 hours.")
        );
        assert!(thanks.text.get("es").unwrap().contains("24 horas"));
        // Other bands keep theirs.
        assert_eq!(
            survey.bands[3].thanks,
            survey::examples::survey().bands[3].thanks
        );
    }
}
