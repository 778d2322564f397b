//! The dashboard's sections of the NPS programme: whether the latest week
//! moved for real, and each wave of the surveys asked in waves against the
//! one before.

use std::fmt::Write;

use super::esc;
use super::text::{Words, fill};
use crate::report::{Change, Report, Stats};

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

/// An NPS with its margin, `–` without answers.
fn nps(s: &Stats) -> String {
    match (s.nps, s.margin_of_error) {
        (Some(v), Some(m)) => format!("{v:.0} ± {m:.0}"),
        _ => "–".to_owned(),
    }
}
