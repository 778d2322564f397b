//! Locale choice and the built-in UI strings, in every shipped language.

use crate::definition::Survey;

/// Lower-cases a BCP 47 tag and keeps its primary language subtag (`es-MX` → `es`).
pub fn normalize_locale(tag: &str) -> String {
    let primary = tag.split(['-', '_']).next().unwrap_or("");
    primary.trim().to_ascii_lowercase()
}

/// Picks the locale to show: the first candidate (in order of preference: the
/// script tag's `data-locale`, the page's `lang`, the browser's languages) that the
/// survey has texts for, else the survey's default.
pub fn pick_locale<'a>(
    survey: &'a Survey,
    candidates: impl IntoIterator<Item = &'a str>,
) -> &'a str {
    for candidate in candidates {
        if let Some((key, _)) = survey.texts.get_key_value(candidate) {
            return key;
        }
        let primary = normalize_locale(candidate);
        if let Some((key, _)) = survey.texts.get_key_value(primary.as_str()) {
            return key;
        }
    }
    &survey.default_locale
}

/// Words the widget shows besides the survey's own texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UiStrings {
    pub low_label: &'static str,
    pub high_label: &'static str,
    pub open_question: &'static str,
    pub placeholder: &'static str,
    pub submit: &'static str,
    pub close: &'static str,
    pub thanks: &'static str,
    pub send_error: &'static str,
    pub other: &'static str,
    pub other_label: &'static str,
    pub need_other: &'static str,
    pub pick_hint: &'static str,
    /// Above a reply of the site's team.
    pub reply_title: &'static str,
}

const EN: UiStrings = UiStrings {
    low_label: "Not at all likely",
    high_label: "Extremely likely",
    open_question: "What is the main reason for your score?",
    placeholder: "Your answer (optional)",
    submit: "Send",
    close: "Close",
    thanks: "Thank you for your feedback!",
    send_error: "We could not send your answer yet. We will try again.",
    other: "Other",
    other_label: "Please tell us more",
    need_other: "Please describe your other reason.",
    pick_hint: "Choose all that apply.",
    reply_title: "A reply to your feedback",
};

const ES: UiStrings = UiStrings {
    low_label: "Nada probable",
    high_label: "Muy probable",
    open_question: "¿Cuál es la razón principal de tu puntuación?",
    placeholder: "Tu respuesta (opcional)",
    submit: "Enviar",
    close: "Cerrar",
    thanks: "¡Gracias por tu opinión!",
    send_error: "Aún no pudimos enviar tu respuesta. Lo intentaremos de nuevo.",
    other: "Otro",
    other_label: "Cuéntanos más",
    need_other: "Describe tu otro motivo.",
    pick_hint: "Elige todas las que correspondan.",
    reply_title: "Respuesta a tu opinión",
};

/// Built-in strings for a locale; English for any locale we do not ship.
pub fn ui_strings(locale: &str) -> &'static UiStrings {
    match normalize_locale(locale).as_str() {
        "es" => &ES,
        _ => &EN,
    }
}

/// Built-in wording of the closed follow-up for the default bands: the very
/// unhappy are asked what went wrong, the mildly unhappy what is missing,
/// passives what would make it a 9 or 10, promoters what they value most.
pub fn band_question(band: &str, locale: &str) -> &'static str {
    let es = normalize_locale(locale) == "es";
    match (band, es) {
        ("detractor_0_3", false) => "We are sorry to hear that. What went wrong?",
        ("detractor_0_3", true) => "Lamentamos oír eso. ¿Qué salió mal?",
        ("detractor_4_6", false) => "What is missing for you to give us a higher score?",
        ("detractor_4_6", true) => "¿Qué nos falta para que nos des una puntuación más alta?",
        ("passive", false) => "What would make it a 9 or 10 for you?",
        ("passive", true) => "¿Qué haría falta para que nos des un 9 o un 10?",
        ("promoter", false) => "Great to hear! What do you value most?",
        ("promoter", true) => "¡Qué bien! ¿Qué es lo que más valoras?",
        _ => ui_strings(locale).open_question,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::Texts;

    fn survey(locales: &[&str], default: &str) -> Survey {
        Survey {
            id: "s".into(),
            steps: vec![],
            default_locale: default.into(),
            bands: crate::default_bands(),
            texts: locales
                .iter()
                .map(|l| (l.to_string(), Texts::default()))
                .collect(),
            ..Survey::default()
        }
    }

    #[test]
    fn first_candidate_with_texts_wins() {
        let s = survey(&["en", "es"], "en");
        assert_eq!(pick_locale(&s, ["fr", "es-MX", "en"]), "es");
        assert_eq!(pick_locale(&s, ["ES"]), "es");
        assert_eq!(pick_locale(&s, ["en-GB"]), "en");
    }

    #[test]
    fn falls_back_to_the_default() {
        let s = survey(&["en", "es"], "es");
        assert_eq!(pick_locale(&s, ["fr", "de-DE"]), "es");
        assert_eq!(pick_locale(&s, []), "es");
    }

    #[test]
    fn every_shipped_locale_has_every_string() {
        for strings in [ui_strings("en"), ui_strings("es")] {
            for s in [
                strings.low_label,
                strings.high_label,
                strings.open_question,
                strings.submit,
                strings.close,
                strings.thanks,
                strings.send_error,
                strings.other,
                strings.other_label,
                strings.need_other,
                strings.pick_hint,
            ] {
                assert!(!s.is_empty());
            }
        }
        assert_eq!(ui_strings("es-AR").submit, "Enviar");
        assert_eq!(ui_strings("xx").submit, "Send");
    }
}
