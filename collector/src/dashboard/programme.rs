//! The dashboard's sections of the NPS programme: whether the latest week
//! moved for real, and each wave of the surveys asked in waves against the
//! one before.

use std::fmt::Write;

use super::text::{Words, fill};
use super::{Shown, esc};
use crate::report::{Change, Report, Segments, Stats};

/// The filter form's segment fields: the breakdown, and filters on props
/// and kept traits.
pub fn segment_fields(w: &Words, shown: &Shown) -> String {
    let mut keys = shown.segment_keys.clone();
    if !shown.by.is_empty() && !keys.contains(&shown.by) {
        keys.push(shown.by.clone());
    }
    let mut out = format!(
        "<label>{} <select name=\"by\"><option value=\"\">{}</option>",
        w.segment_by, w.no_segment
    );
    for key in &keys {
        let selected = if *key == shown.by { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{0}\"{selected}>{0}</option>",
            esc(key)
        );
    }
    let _ = write!(
        out,
        "</select></label><label>{} <input name=\"prop\" value=\"{}\" placeholder=\"plan:pro\"></label>\
         <label>{} <input name=\"trait\" value=\"{}\" placeholder=\"country:ES\"></label>",
        w.prop_filter,
        esc(&shown.prop),
        w.trait_filter,
        esc(&shown.traits)
    );
    out
}

/// The segment table: each value's NPS, and against the rest.
pub fn segments(w: &Words, s: &Segments) -> String {
    let mut out = format!(
        "<section><h2>{}</h2><table class=\"hooks segments\"><caption class=\"muted\">{}</caption>\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">n</th><th scope=\"col\">NPS</th>\
         <th scope=\"col\">{}</th></tr></thead><tbody>",
        w.segments,
        esc(&fill(w.segments_caption, &[("a", &s.by)])),
        w.value,
        w.against_rest
    );
    for v in &s.values {
        let name = match (&v.value, v.other) {
            (Some(value), _) => esc(value),
            (None, true) => w.other_values.to_owned(),
            (None, false) => w.not_set.to_owned(),
        };
        let nps = match (v.nps, v.margin_of_error) {
            (Some(n), Some(m)) => format!("{n:.0} ± {m:.0}"),
            _ => "–".to_owned(),
        };
        let rest = v.against_rest.map_or("–".to_owned(), |c| {
            let verdict = if c.significant { w.real } else { w.noise };
            format!("{} ({verdict})", esc(&points(w, &c)))
        });
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{name}</th><td>{}</td><td>{nps}</td><td>{rest}</td></tr>",
            v.answers
        );
    }
    out.push_str("</tbody></table></section>\n");
    out
}

/// Beside the NPS: how many of the people asked answered (and a warning
/// when few did), and how many answers went on to the follow-up.
pub fn rates(w: &Words, s: &Stats) -> String {
    let pct = |r: Option<f64>| format!("{:.0}", r.unwrap_or(0.0) * 100.0);
    let mut out = String::new();
    if s.displays > 0 {
        let line = fill(
            w.response,
            &[
                ("a", &pct(s.response_rate)),
                ("n", &s.displays.to_string()),
                ("b", &pct(s.dismissal_rate)),
            ],
        );
        let _ = write!(out, "<p class=\"rates\">{}</p>", esc(&line));
        if s.low_response_rate {
            let _ = write!(out, "<p class=\"warn\">{}</p>", w.low_response);
        }
    }
    if s.answers > 0 {
        let line = fill(w.follow_ups, &[("a", &pct(s.follow_up_rate))]);
        let _ = write!(out, "<p class=\"rates\">{}</p>", esc(&line));
    }
    out
}

/// A change as `+8 ± 12`.
fn points(w: &Words, c: &Change) -> String {
    fill(
        w.points,
        &[
            ("b", &format!("{:+.0}", c.change)),
            ("c", &format!("{:.0}", c.margin_of_error)),
        ],
    )
}

/// The latest week against the week before, in a sentence that says
/// whether the change is real; nothing without two weeks to compare.
pub fn week_change(w: &Words, report: &Report) -> String {
    let Some((week, c)) = report
        .weekly
        .iter()
        .next_back()
        .and_then(|(week, s)| Some((week, s.change?)))
    else {
        return String::new();
    };
    let line = fill(
        w.week_change,
        &[
            ("a", week),
            ("b", &format!("{:+.0}", c.change)),
            ("c", &format!("{:.0}", c.margin_of_error)),
        ],
    );
    let verdict = if c.significant {
        w.significant
    } else {
        w.not_significant
    };
    format!("<p class=\"change\">{} {verdict}</p>", esc(&line))
}

/// A table of waves per survey asked in waves.
pub fn waves(w: &Words, report: &Report) -> String {
    let mut out = String::new();
    for (survey, waves) in report.waves.iter().filter(|(_, v)| !v.is_empty()) {
        let _ = write!(
            out,
            "<table class=\"hooks\"><caption class=\"muted\">{} · {}</caption><thead><tr><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">n</th><th scope=\"col\">NPS</th>\
             <th scope=\"col\">{}</th></tr></thead><tbody>",
            esc(survey),
            w.waves_caption,
            w.wave,
            w.opens,
            w.change
        );
        for wave in waves {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td><time datetime=\"{1}\">{2}</time></td>\
                 <td>{3}</td><td>{4}</td><td>{5}</td></tr>",
                wave.number,
                esc(&wave.opens),
                esc(wave.opens.get(..10).unwrap_or(&wave.opens)),
                wave.stats.answers,
                nps(&wave.stats),
                wave.stats.change.map_or("–".to_owned(), |c| {
                    let verdict = if c.significant { w.real } else { w.noise };
                    format!("{} ({verdict})", esc(&points(w, &c)))
                }),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if out.is_empty() {
        return out;
    }
    format!("<section><h2>{}</h2>{out}</section>\n", w.waves)
}

/// Per band, the answers offered its call to action, the clicks and the
/// click rate; nothing when no band offers one.
pub fn calls_to_action(w: &Words, report: &Report) -> String {
    if report.calls_to_action.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section><h2>{}</h2><table class=\"hooks ctas\"><caption class=\"muted\">{}</caption>\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        w.ctas, w.ctas_caption, w.band, w.offered, w.clicked, w.click_rate
    );
    for (band, c) in &report.calls_to_action {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(band),
            c.offered,
            c.clicked,
            c.click_rate.map_or("–".to_owned(), |r| {
                fill(w.percent, &[("a", &format!("{:.0}", r * 100.0))])
            }),
        );
    }
    out.push_str("</tbody></table></section>\n");
    out
}

/// An NPS with its margin, `–` without answers.
fn nps(s: &Stats) -> String {
    match (s.nps, s.margin_of_error) {
        (Some(v), Some(m)) => format!("{v:.0} ± {m:.0}"),
        _ => "–".to_owned(),
    }
}
