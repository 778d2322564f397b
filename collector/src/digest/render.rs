//! The digest written out: plain text (the email's text part and
//! `pulso digest`), HTML (the email's other part and the printable page),
//! and the webhook bodies (JSON, Slack), in English or Spanish.

use std::fmt::Write;

use serde_json::{Value, json};

use super::{Digest, Figures, Kind};
use crate::dashboard::esc;

/// The digest's words in one language. `{a}`, `{b}`, `{c}`, `{n}` are
/// filled in.
pub struct Words {
    pub lang: &'static str,
    /// `{a}`: the site; `{b}`: the period.
    pub subject_week: &'static str,
    pub subject_day: &'static str,
    /// `{a}` ± `{b}` from `{n}` answers.
    pub headline: &'static str,
    /// `{a}`% of `{n}` cards shown.
    pub response: &'static str,
    pub no_answers: &'static str,
    /// `{a}` points above/below, `{b}`: the period before's NPS ± `{c}`.
    pub above: &'static str,
    pub below: &'static str,
    pub same: &'static str,
    pub real: &'static str,
    pub noise: &'static str,
    pub nothing_before: &'static str,
    pub series: &'static str,
    pub period: &'static str,
    pub reasons: &'static str,
    /// `{a}` (was `{b}`).
    pub reason: &'static str,
    pub comments: &'static str,
    pub classes: [&'static str; 3],
    /// `{a}` open, `{b}` past their deadline.
    pub detractors: &'static str,
    pub open_dashboard: &'static str,
    pub title: &'static str,
}

pub const EN: Words = Words {
    lang: "en",
    subject_week: "Pulso · {a} · week {b}",
    subject_day: "Pulso · {a} · {b}",
    headline: "NPS {a} ± {b} from {n} answers",
    response: " ({a}% of {n} cards shown)",
    no_answers: "No answers in this period.",
    above: "{a} points above the period before ({b} ± {c}):",
    below: "{a} points below the period before ({b} ± {c}):",
    same: "The same as the period before ({b} ± {c}):",
    real: "more than the samples explain, a real change (95%).",
    noise: "within what the samples explain, not a real change yet.",
    nothing_before: "The period before has no answers to compare with.",
    series: "The last 8 periods",
    period: "Period",
    reasons: "Top reasons per band",
    reason: "{a} (before: {b})",
    comments: "Recent comments",
    classes: ["Detractors", "Passives", "Promoters"],
    detractors: "Detractors waiting for the team: {a} open, {b} past their follow-up deadline.",
    open_dashboard: "Open the dashboard",
    title: "Weekly digest",
};

pub const ES: Words = Words {
    lang: "es",
    subject_week: "Pulso · {a} · semana {b}",
    subject_day: "Pulso · {a} · {b}",
    headline: "NPS {a} ± {b} de {n} respuestas",
    response: " ({a} % de {n} tarjetas mostradas)",
    no_answers: "No hay respuestas en este periodo.",
    above: "{a} puntos por encima del periodo anterior ({b} ± {c}):",
    below: "{a} puntos por debajo del periodo anterior ({b} ± {c}):",
    same: "Igual que el periodo anterior ({b} ± {c}):",
    real: "más de lo que explican las muestras, un cambio real (95 %).",
    noise: "dentro de lo que explican las muestras, todavía no es un cambio real.",
    nothing_before: "El periodo anterior no tiene respuestas con las que comparar.",
    series: "Los últimos 8 periodos",
    period: "Periodo",
    reasons: "Motivos principales por franja",
    reason: "{a} (antes: {b})",
    comments: "Comentarios recientes",
    classes: ["Detractores", "Pasivos", "Promotores"],
    detractors: "Detractores esperando al equipo: {a} abiertos, {b} fuera de su plazo de seguimiento.",
    open_dashboard: "Abrir el panel",
    title: "Resumen semanal",
};

/// The words for `lang` (`es`, else English).
pub fn words(lang: &str) -> &'static Words {
    if lang.starts_with("es") { &ES } else { &EN }
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    crate::dashboard::fill(template, values)
}

fn nps(f: &Figures) -> (String, String) {
    (
        f.nps.map_or("–".into(), |v| format!("{v:.0}")),
        f.margin_of_error.map_or("–".into(), |v| format!("{v:.0}")),
    )
}

/// The period's NPS in a line: score, margin, n, response rate.
pub fn headline(w: &Words, f: &Figures) -> String {
    if f.answers == 0 {
        return w.no_answers.to_owned();
    }
    let (score, margin) = nps(f);
    let mut line = fill(
        w.headline,
        &[("a", &score), ("b", &margin), ("n", &f.answers.to_string())],
    );
    if let Some(rate) = f.response_rate {
        line.push_str(&fill(
            w.response,
            &[
                ("a", &format!("{:.0}", rate * 100.0)),
                ("n", &f.displays.to_string()),
            ],
        ));
    }
    line.push('.');
    line
}

/// Whether the change against the period before is real, in a sentence.
pub fn sentence(w: &Words, d: &Digest) -> String {
    let (Some(before), Some(c)) = (d.before(), d.change) else {
        return if d.now().answers == 0 {
            String::new()
        } else {
            w.nothing_before.to_owned()
        };
    };
    let (score, margin) = nps(before);
    let template = if c.change > 0.0 {
        w.above
    } else if c.change < 0.0 {
        w.below
    } else {
        w.same
    };
    let lead = fill(
        template,
        &[
            ("a", &format!("{:.0}", c.change.abs())),
            ("b", &score),
            ("c", &margin),
        ],
    );
    let verdict = if c.significant { w.real } else { w.noise };
    format!("{lead} {verdict}")
}

/// The email's subject.
pub fn subject(w: &Words, d: &Digest) -> String {
    let template = match d.kind {
        Kind::Weekly => w.subject_week,
        Kind::Daily => w.subject_day,
    };
    let mut s = fill(template, &[("a", &d.site), ("b", &d.period)]);
    if let Some(v) = d.now().nps {
        let _ = write!(s, ": NPS {v:.0}");
        if let Some(c) = d.change {
            let _ = write!(s, " ({:+.0})", c.change);
        }
    }
    s
}

/// The digest as plain text.
pub fn text(w: &Words, d: &Digest) -> String {
    let mut out = format!("{}\n\n{}\n", subject(w, d), headline(w, d.now()));
    let said = sentence(w, d);
    if !said.is_empty() {
        let _ = writeln!(out, "{said}");
    }
    let _ = writeln!(out, "\n{}:", w.series);
    for f in &d.series {
        let _ = writeln!(out, "  {}  {}", f.period, headline(w, f));
    }
    if !d.reasons.is_empty() {
        let _ = writeln!(out, "\n{}:", w.reasons);
        for band in &d.reasons {
            let _ = writeln!(out, "  {}", band.band);
            for r in &band.reasons {
                let line = fill(
                    w.reason,
                    &[
                        ("a", &format!("{} × {}", r.now, r.text)),
                        ("b", &r.before.to_string()),
                    ],
                );
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if !d.comments.is_empty() {
        let _ = writeln!(out, "\n{}:", w.comments);
        for c in &d.comments {
            let _ = writeln!(out, "  {}", class_name(w, c.class));
            for q in &c.comments {
                let _ = writeln!(out, "    {} · “{}”", q.score, q.text);
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}\n\n{}: {}",
        detractors(w, d),
        w.open_dashboard,
        d.dashboard_url
    );
    out
}

fn class_name(w: &Words, class: &str) -> &'static str {
    match class {
        "detractor" => w.classes[0],
        "passive" => w.classes[1],
        _ => w.classes[2],
    }
}

fn detractors(w: &Words, d: &Digest) -> String {
    fill(
        w.detractors,
        &[
            ("a", &d.detractors.open.to_string()),
            ("b", &d.detractors.overdue.to_string()),
        ],
    )
}

/// The digest as HTML (the email's part and the page's body); every text
/// escaped.
pub fn html(w: &Words, d: &Digest) -> String {
    let mut out = format!(
        "<h1>{}</h1>\n<p class=\"nps\">{}</p>\n<p>{}</p>\n",
        esc(&subject(w, d)),
        esc(&headline(w, d.now())),
        esc(&sentence(w, d))
    );
    let _ = write!(
        out,
        "<h2>{}</h2>\n<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">n</th>\
         <th scope=\"col\">NPS</th></tr></thead><tbody>",
        w.series, w.period
    );
    for f in &d.series {
        let (score, margin) = nps(f);
        let cell = if f.nps.is_some() {
            format!("{score} ± {margin}")
        } else {
            "–".to_owned()
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{cell}</td></tr>",
            esc(&f.period),
            f.answers
        );
    }
    out.push_str("</tbody></table>\n");
    if !d.reasons.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", w.reasons);
        for band in &d.reasons {
            let _ = write!(out, "<h3>{}</h3><ul>", esc(&band.band));
            for r in &band.reasons {
                let line = fill(
                    w.reason,
                    &[
                        ("a", &format!("{} × {}", r.now, r.text)),
                        ("b", &r.before.to_string()),
                    ],
                );
                let _ = write!(out, "<li>{}</li>", esc(&line));
            }
            out.push_str("</ul>\n");
        }
    }
    if !d.comments.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", w.comments);
        for c in &d.comments {
            let _ = write!(out, "<h3>{}</h3><ul>", class_name(w, c.class));
            for q in &c.comments {
                let _ = write!(out, "<li>{} · “{}”</li>", q.score, esc(&q.text));
            }
            out.push_str("</ul>\n");
        }
    }
    let _ = write!(
        out,
        "<p>{}</p>\n<p><a href=\"{}\">{}</a></p>\n",
        esc(&detractors(w, d)),
        esc(&d.dashboard_url),
        w.open_dashboard
    );
    out
}

/// The webhook body of a `digest.weekly` event: JSON with the digest, or a
/// Slack message.
pub fn event_body(format: crate::webhooks::Format, key: &str, hook: &str, d: &Digest) -> String {
    match format {
        crate::webhooks::Format::Json => json!({
            "id": key,
            "type": "digest.weekly",
            "site": d.site,
            "webhook": hook,
            "digest": d,
        })
        .to_string(),
        crate::webhooks::Format::Slack => slack(d).to_string(),
    }
}

fn slack(d: &Digest) -> Value {
    let w = &EN;
    let mut lines = vec![
        format!("*{}*", crate::webhooks::slack_escape(&subject(w, d))),
        crate::webhooks::slack_escape(&headline(w, d.now())),
    ];
    let said = sentence(w, d);
    if !said.is_empty() {
        lines.push(crate::webhooks::slack_escape(&said));
    }
    lines.push(crate::webhooks::slack_escape(&detractors(w, d)));
    lines.push(format!("<{}|{}>", d.dashboard_url, w.open_dashboard));
    let text = lines.join("\n");
    json!({
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    })
}
