//! The analysts' dashboard as one HTML page with inline SVG charts, rendered
//! from a [`Report`]: no script, no CDN, readable offline, in light and dark
//! mode. Every text that came from a respondent or the configuration is escaped.

mod programme;
mod text;

pub use text::fill;

use std::fmt::Write;

pub use text::{EN, ES, Words, for_lang};

use crate::inbox::times::{ResponseTimes, human};
use crate::report::{Report, Stats};

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The filters shown in the form and carried into the export links.
#[derive(Debug, Default, Clone)]
pub struct Shown {
    pub from: String,
    pub to: String,
    pub tz: String,
    pub survey: String,
    pub step: String,
    /// `prop:KEY` or `trait:KEY`: the segment table's breakdown (the
    /// report's alone: export links leave it out).
    pub by: String,
    /// `KEY:VALUE,…` filters on props and kept traits.
    pub prop: String,
    pub traits: String,
    /// The breakdowns the form offers.
    pub segment_keys: Vec<String>,
}

impl Shown {
    fn query(&self) -> String {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("tz", &self.tz),
            ("survey", &self.survey),
            ("step", &self.step),
            ("prop", &self.prop),
            ("trait", &self.traits),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("&{k}={}", url_encode(v)))
        .collect()
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const STYLE: &str = include_str!("dashboard.css");

/// The stylesheet the page links to (served by the collector: the page's CSP
/// allows no inline style).
pub fn stylesheet() -> &'static str {
    STYLE
}

/// A whole page in `lang` around `body`, with the dashboard's stylesheet.
pub fn document(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/dashboard.css\">\n</head>\n\
         <body>\n{body}\n</body>\n</html>\n",
        esc(title),
    )
}

fn page(w: &Words, title: &str, body: &str) -> String {
    document(w.lang, title, body)
}

/// What the person looking may do beyond reading, and the page's header.
pub struct Viewer<'a> {
    /// The navigation of the signed-in person (HTML).
    pub nav: &'a str,
    /// Exports are offered (admins).
    pub export: bool,
    /// Links to the members and the audit log (admins).
    pub admin: bool,
    /// The page's language.
    pub words: &'static Words,
    /// The inbox's counts: new, open, waiting, and overdue.
    pub inbox: [i64; 4],
}

/// The dashboard of a report.
pub fn render(
    report: &Report,
    shown: &Shown,
    surveys: &[String],
    steps: &[String],
    hooks: &[crate::webhooks::WebhookStatus],
    viewer: &Viewer,
) -> String {
    let site = esc(&report.site);
    let o = &report.overall;
    let w = viewer.words;
    let mut body = String::new();
    let _ = write!(body, "{}\n<main>\n<h1>Pulso · {site}</h1>\n", viewer.nav);
    if viewer.admin {
        let _ = writeln!(
            body,
            "<p><a href=\"/dashboard/{site}/members\">{}</a> · \
             <a href=\"/dashboard/{site}/audit\">{}</a></p>",
            w.members, w.audit
        );
    }
    body.push_str(&inbox(
        w,
        &report.site,
        viewer.inbox,
        &report.response_times,
    ));
    body.push_str(&filters(w, &report.site, shown, surveys, steps));
    let _ = writeln!(
        body,
        "<section class=\"headline\" aria-label=\"{}\">{}</section>",
        w.nps,
        headline(w, o)
    );
    let _ = writeln!(
        body,
        "<section><h2>{}</h2>{}{}</section>",
        w.trend,
        trend(
            w,
            &report
                .weekly
                .iter()
                .map(|(w, s)| (w.as_str(), s))
                .collect::<Vec<_>>()
        ),
        programme::week_change(w, report)
    );
    body.push_str(&programme::waves(w, report));
    let _ = writeln!(
        body,
        "<section><h2>{}</h2>{}</section>",
        w.scores,
        distribution(w, o)
    );
    let _ = writeln!(
        body,
        "<section><h2>{}</h2>{}</section>",
        w.per_step,
        per_step(
            w,
            &report
                .by_step
                .iter()
                .map(|(s, st)| (s.as_str(), st))
                .collect::<Vec<_>>()
        )
    );
    if let Some(segments) = &report.segments {
        body.push_str(&programme::segments(w, segments));
    }
    let _ = writeln!(body, "<section><h2>{}</h2>", w.reasons);
    if report.reasons.is_empty() {
        let _ = writeln!(body, "<p class=\"muted\">{}</p>", w.no_reasons);
    }
    for (band, reasons) in &report.reasons {
        let max = reasons
            .top
            .iter()
            .map(|r| r.count)
            .max()
            .unwrap_or(1)
            .max(1);
        let _ = write!(
            body,
            "<h3>{} <span class=\"muted\">({})</span></h3>\n<ul class=\"bars\">\n",
            esc(band),
            fill(w.answers, &[("n", &reasons.closed_answers.to_string())])
        );
        for r in &reasons.top {
            let width = 100 * r.count / max;
            let _ = writeln!(
                body,
                "<li><span class=\"label\">{}</span><svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\">\
                 <rect width=\"{width}\" height=\"10\" class=\"fill\"/></svg><span class=\"count\">{}</span></li>",
                esc(&r.text),
                r.count
            );
        }
        body.push_str("</ul>\n");
        if !reasons.latest_other.is_empty() {
            let _ = writeln!(
                body,
                "<details><summary>{}</summary><ul class=\"texts\">",
                w.latest_other
            );
            for t in &reasons.latest_other {
                let _ = writeln!(
                    body,
                    "<li><time datetime=\"{0}\">{0}</time> {1}</li>",
                    esc(&t.at),
                    esc(&t.text)
                );
            }
            body.push_str("</ul></details>\n");
        }
    }
    body.push_str("</section>\n");
    body.push_str(&programme::calls_to_action(w, report));
    if !hooks.is_empty() {
        body.push_str(&webhooks(w, hooks));
    }
    let q = shown.query();
    if !viewer.export {
        body.push_str("</main>");
        return page(w, &format!("Pulso · {}", report.site), &body);
    }
    let _ = write!(
        body,
        "<section><h2>{exports}</h2><p>\
         <a href=\"/v1/sites/{site}/export?format=csv{q}\">CSV</a> · \
         <a href=\"/v1/sites/{site}/export?format=json{q}\">JSON</a> · \
         <a href=\"/v1/sites/{site}/export?format=ndjson{q}\">NDJSON</a> · \
         <a href=\"/v1/sites/{site}/report?{}\">{report}</a></p></section>\n</main>",
        esc(&format!(
            "{}{}",
            q.trim_start_matches('&'),
            if shown.by.is_empty() {
                String::new()
            } else {
                format!("&by={}", url_encode(&shown.by))
            }
        )),
        q = esc(&q),
        exports = w.exports,
        report = w.report_json,
    );
    page(w, &format!("Pulso · {}", report.site), &body)
}

/// The inbox at a glance: what waits for the team, what is late, and how
/// fast answers are followed up, per class.
fn inbox(w: &Words, site: &str, counts: [i64; 4], times: &ResponseTimes) -> String {
    let key = esc(site);
    let [new, open, waiting, overdue] = counts.map(|n| n.to_string());
    let mut out = format!(
        "<section><h2>{}</h2><p>{} · <a href=\"/dashboard/{key}/answers\">{}</a></p>",
        w.inbox,
        fill(
            w.inbox_counts,
            &[("a", &new), ("b", &open), ("c", &waiting)]
        ),
        w.open_inbox,
    );
    if counts[3] > 0 {
        let _ = write!(
            out,
            "<p class=\"warn\"><a href=\"/dashboard/{key}/answers?overdue=yes\">{}</a></p>",
            fill(w.overdue, &[("n", &overdue)])
        );
    }
    let _ = write!(out, "<h3>{}</h3>", w.response_times);
    if times.by_class.is_empty() {
        let _ = write!(out, "<p class=\"muted\">{}</p></section>", w.no_times);
        return out;
    }
    let _ = write!(
        out,
        "<table class=\"hooks\"><caption class=\"muted\">{}</caption><thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        w.response_caption, w.class, w.first_action, w.resolved_in
    );
    let cell = |d: &crate::inbox::times::Durations| match (d.median_seconds, d.p90_seconds) {
        (Some(m), Some(p)) => fill(
            w.times,
            &[("a", &human(m)), ("b", &human(p)), ("n", &d.n.to_string())],
        ),
        _ => "–".to_owned(),
    };
    for (i, class) in ["detractor", "passive", "promoter"].iter().enumerate() {
        if let Some(t) = times.by_class.get(*class) {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
                w.classes[i],
                cell(&t.first_action),
                cell(&t.resolve)
            );
        }
    }
    out.push_str("</tbody></table></section>");
    out
}

/// Delivery state per webhook: what waits, what arrived, what failed and why.
fn webhooks(w: &Words, hooks: &[crate::webhooks::WebhookStatus]) -> String {
    let when = |t: Option<i64>| t.map_or("–".to_owned(), crate::export::rfc3339);
    let mut out = format!(
        "<section><h2>{}</h2>\n<table class=\"hooks\"><thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>\n",
        w.webhooks, w.webhook, w.pending, w.delivered, w.failed, w.last_delivery, w.last_error
    );
    for h in hooks {
        let s = &h.deliveries;
        let error = match (&s.last_error, s.last_error_at) {
            (Some(e), at) => format!("{} <span class=\"muted\">({})</span>", esc(e), when(at)),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}<br><span class=\"muted\">{}</span></th><td>{}</td><td>{}</td>\
             <td class=\"{}\">{}</td><td>{}</td><td>{error}</td></tr>",
            esc(&h.id),
            esc(&h.target),
            s.pending,
            s.delivered,
            if s.failed > 0 { "bad" } else { "" },
            s.failed,
            when(s.last_delivered_at),
        );
    }
    out.push_str("</tbody></table></section>\n");
    out
}

fn filters(w: &Words, site: &str, shown: &Shown, surveys: &[String], steps: &[String]) -> String {
    let select = |name: &str, label: &str, current: &str, options: &[String]| {
        let mut s = format!(
            "<label>{label} <select name=\"{name}\"><option value=\"\">{}</option>",
            w.all
        );
        for o in options {
            let selected = if o == current { " selected" } else { "" };
            let _ = write!(s, "<option value=\"{0}\"{selected}>{0}</option>", esc(o));
        }
        s.push_str("</select></label>");
        s
    };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/dashboard/{}\" aria-label=\"{filters}\">\
         <label>{from} <input type=\"date\" name=\"from\" value=\"{}\"></label>\
         <label>{to} <input type=\"date\" name=\"to\" value=\"{}\"></label>\
         <label>{tz} <input name=\"tz\" value=\"{}\" placeholder=\"UTC\"></label>{}{}{}\
         <button type=\"submit\">{apply}</button></form>\n",
        esc(site),
        esc(&shown.from),
        esc(&shown.to),
        esc(&shown.tz),
        select("survey", w.survey, &shown.survey, surveys),
        select("step", w.step, &shown.step, steps),
        programme::segment_fields(w, shown),
        filters = w.filters,
        from = w.from,
        to = w.to,
        tz = w.time_zone,
        apply = w.apply,
    )
}

fn headline(w: &Words, o: &Stats) -> String {
    let nps = o.nps.map_or("–".to_owned(), |v| format!("{v:.0}"));
    let moe = o.margin_of_error.map_or(String::new(), |m| {
        format!(" <span class=\"moe\">± {m:.0}</span>")
    });
    let small = if o.small_sample {
        format!("<p class=\"warn\">{}</p>", w.small_sample)
    } else {
        String::new()
    };
    let share = |c: &str| format!("{:.0}", o.classes.get(c).map_or(0.0, |s| s.share * 100.0));
    let line = fill(
        w.headline,
        &[
            ("n", &o.answers.to_string()),
            ("a", &share("promoter")),
            ("b", &share("passive")),
            ("c", &share("detractor")),
        ],
    );
    let rates = programme::rates(w, o);
    format!("<p class=\"nps\"><span class=\"big\">{nps}</span>{moe}</p><p>{line}</p>{rates}{small}")
}

/// Weekly NPS as a line, its 95% margin as a band around it.
fn trend(words: &Words, weeks: &[(&str, &Stats)]) -> String {
    let points: Vec<(&str, f64, f64)> = weeks
        .iter()
        .filter_map(|(w, s)| Some((*w, s.nps?, s.margin_of_error.unwrap_or(0.0))))
        .collect();
    if points.is_empty() {
        return format!("<p class=\"muted\">{}</p>", words.no_answers);
    }
    let (w, h, left, top, bottom) = (640.0, 220.0, 40.0, 10.0, 30.0);
    let plot_h = h - top - bottom;
    let x = |i: usize| {
        if points.len() == 1 {
            left + (w - left - 30.0) / 2.0
        } else {
            left + 10.0 + i as f64 * (w - left - 40.0) / (points.len() - 1) as f64
        }
    };
    let y = |v: f64| top + (100.0 - v.clamp(-100.0, 100.0)) / 200.0 * plot_h;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(&fill(
            words.trend_label,
            &[("a", points[0].0), ("b", points[points.len() - 1].0)]
        ))
    );
    for v in [-100.0, -50.0, 0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{at:.1}\" y2=\"{at:.1}\" class=\"grid\"/>\
             <text x=\"{label_x}\" y=\"{label_y:.1}\" class=\"axis\" text-anchor=\"end\">{v}</text>",
            right = w - 10.0,
            at = y(v),
            label_x = left - 6.0,
            label_y = y(v) + 4.0
        );
    }
    let upper: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1 + p.2)))
        .collect();
    let lower: Vec<String> = points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1 - p.2)))
        .collect();
    let _ = write!(
        svg,
        "<polygon class=\"band\" points=\"{} {}\"/>",
        upper.join(" "),
        lower.join(" ")
    );
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
        .collect();
    let _ = write!(
        svg,
        "<polyline class=\"line\" points=\"{}\"/>",
        line.join(" ")
    );
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            svg,
            "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\" class=\"dot\"><title>{week}</title></circle>\
             <text x=\"{cx:.1}\" y=\"{ty:.1}\" class=\"axis\" text-anchor=\"middle\">{short}</text>",
            cx = x(i),
            cy = y(p.1),
            week = esc(&fill(
                words.week,
                &[
                    ("a", p.0),
                    ("b", &format!("{:.0}", p.1)),
                    ("c", &format!("{:.0}", p.2))
                ]
            )),
            ty = h - 8.0,
            short = esc(p.0.get(5..).unwrap_or(p.0)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Answers per score, bars coloured by class.
fn distribution(words: &Words, o: &Stats) -> String {
    let max = o.scores.iter().copied().max().unwrap_or(0).max(1);
    let (w, h, bar) = (640.0, 200.0, 640.0 / 11.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}: {}\">",
        words.per_score_label,
        o.scores
            .iter()
            .enumerate()
            .map(|(s, c)| format!("{s}: {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (score, count) in o.scores.iter().enumerate() {
        let class = match score {
            0..=6 => "detractor",
            7..=8 => "passive",
            _ => "promoter",
        };
        let bh = (h - 40.0) * *count as f64 / max as f64;
        let x = score as f64 * bar + 4.0;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" class=\"{class}\"/>\
             <text x=\"{mid:.1}\" y=\"{count_y:.1}\" class=\"axis\" text-anchor=\"middle\">{count}</text>\
             <text x=\"{mid:.1}\" y=\"{score_y:.1}\" class=\"axis\" text-anchor=\"middle\">{score}</text>",
            top = h - 20.0 - bh,
            bw = bar - 8.0,
            mid = x + (bar - 8.0) / 2.0,
            count_y = h - 24.0 - bh,
            score_y = h - 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Each funnel step as a bar split into detractor, passive and promoter shares.
fn per_step(words: &Words, steps: &[(&str, &Stats)]) -> String {
    if steps.is_empty() {
        return format!("<p class=\"muted\">{}</p>", words.no_answers);
    }
    let (w, row) = (640.0, 34.0);
    let label_w = 250.0;
    let h = row * steps.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        words.per_step_label
    );
    for (i, (step, stats)) in steps.iter().enumerate() {
        let y = i as f64 * row + 5.0;
        let name = if step.is_empty() { words.no_step } else { step };
        let nps = stats.nps.map_or("–".to_owned(), |v| format!("{v:.0}"));
        // The response rate where cards were counted: "n=12/66".
        let shown = if stats.displays > 0 {
            format!("/{}", stats.displays)
        } else {
            String::new()
        };
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" class=\"axis\">{} · NPS {nps} (n={}{shown})</text>",
            y + 17.0,
            esc(name),
            stats.answers
        );
        let mut x = label_w;
        for (class, named) in ["detractor", "passive", "promoter"]
            .iter()
            .zip(words.classes)
        {
            let share = stats.classes.get(class).map_or(0.0, |s| s.share);
            let width = (w - label_w) * share;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"24\" class=\"{class}\"><title>{named}: {:.0}%</title></rect>",
                share * 100.0
            );
            x += width;
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_at_a_glance() {
        use crate::inbox::times::{Durations, ResponseTimes, Times};
        let none = inbox(&EN, "shop", [2, 1, 0, 0], &ResponseTimes::default());
        assert!(none.contains("2 new · 1 open · 0 waiting"), "{none}");
        assert!(!none.contains("overdue=yes"), "{none}");
        assert!(none.contains("No answer worked on"), "{none}");
        let mut times = ResponseTimes::default();
        times.by_class.insert(
            "detractor".into(),
            Times {
                first_action: Durations {
                    n: 4,
                    median_seconds: Some(5400),
                    p90_seconds: Some(3 * 86400),
                },
                resolve: Durations::default(),
            },
        );
        let late = inbox(&ES, "shop", [5, 0, 0, 3], &times);
        assert!(
            late.contains("/dashboard/shop/answers?overdue=yes\">3 fuera de su plazo"),
            "{late}"
        );
        assert!(late.contains("1.5 h (90 %: 3.0 d; n = 4)"), "{late}");
    }

    #[test]
    fn escaping_covers_html_and_attributes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn filters_carry_into_export_links_encoded() {
        let shown = Shown {
            from: "2026-11-01".into(),
            tz: "Europe/Madrid".into(),
            step: "a&b".into(),
            ..Shown::default()
        };
        assert_eq!(
            shown.query(),
            "&from=2026-11-01&tz=Europe%2FMadrid&step=a%26b"
        );
    }
}
