//! One answer's page: what they said, everything stored with it, the
//! respondent's timeline, the work, note and reply forms, the activity.

use std::fmt::Write;

use super::{crumbs, option, score_badge, select, status_badge, time};
use crate::config::Site;
use crate::dashboard::esc;
use crate::export::rfc3339;
use crate::inbox::text::{Words, fill};
use crate::inbox::view::{due_at, overdue};
use crate::people::{Person, Text};
use crate::store::{ActivityLine, InboxAnswer, TimelinePoint};

/// What the answer page shows besides the answer.
pub struct AnswerPage<'a> {
    pub site: &'a Site,
    pub a: &'a InboxAnswer,
    pub timeline: &'a [TimelinePoint],
    pub activity: &'a [ActivityLine],
    pub owners: &'a [String],
    pub work: bool,
    /// A saved reply to start from, or the text given back after an error.
    pub reply_text: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub now: i64,
}

/// The respondent's scores over time: dots on a 0–10 scale, this answer ringed.
fn timeline_svg(w: &Words, points: &[TimelinePoint], this: &str) -> String {
    let (width, height) = (640.0, 120.0);
    let n = points.len().max(1) as f64;
    let x = |i: usize| {
        if n <= 1.0 {
            width / 2.0
        } else {
            20.0 + i as f64 * (width - 40.0) / (n - 1.0)
        }
    };
    let y = |s: i64| 10.0 + (10 - s.clamp(0, 10)) as f64 * (height - 30.0) / 10.0;
    let label: Vec<String> = points
        .iter()
        .map(|p| format!("{} {}", &rfc3339(p.created_at)[..10], p.score))
        .collect();
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        esc(&fill(w.timeline_label, "", &label.join(", ")))
    );
    for s in [0, 5, 10] {
        let _ = write!(
            svg,
            "<line x1=\"10\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"4\" y=\"{ty:.1}\" class=\"axis\">{s}</text>",
            x2 = width - 10.0,
            y = y(s),
            ty = y(s) + 4.0
        );
    }
    if points.len() > 1 {
        let line: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.score)))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"line\" points=\"{}\"/>",
            line.join(" ")
        );
    }
    for (i, p) in points.iter().enumerate() {
        let ring = if p.id == this { " this" } else { "" };
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" class=\"{}{ring}\"><title>{}: {}</title></circle>",
            x(i),
            y(p.score),
            esc(&p.class),
            &rfc3339(p.created_at)[..10],
            p.score
        );
    }
    svg.push_str("</svg>");
    svg
}

fn activity_line(t: &Text, w: &Words, l: &ActivityLine) -> String {
    let detail: serde_json::Value = serde_json::from_str(&l.detail).unwrap_or_default();
    let text_of = |k: &str| detail[k].as_str().map(esc).unwrap_or_else(|| "–".into());
    let what = match l.kind.as_str() {
        "note" => w.kinds.note.to_owned(),
        "status" => format!(
            "{}: {} → {}",
            w.kinds.status,
            w.status(detail["from"].as_str().unwrap_or("")),
            w.status(detail["to"].as_str().unwrap_or(""))
        ),
        "owner" => format!("{}: {} → {}", w.kinds.owner, text_of("from"), text_of("to")),
        "tags" => {
            let list = |k: &str| {
                detail[k]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .map(esc)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default()
            };
            format!("{}: +{} −{}", w.kinds.tags, list("added"), list("removed"))
        }
        "reply" => w.kinds.reply.to_owned(),
        "reply_seen" => w.kinds.reply_seen.to_owned(),
        "overdue" => format!("{} ({})", w.kinds.overdue, text_of("deadline")),
        other => esc(other),
    };
    let who = match l.kind.as_str() {
        "reply_seen" | "overdue" => String::new(),
        _ => format!("<strong>{}</strong> ", esc(&l.author)),
    };
    let body = l
        .body
        .as_deref()
        .map(|b| {
            format!(
                "<blockquote class=\"{}\">{}</blockquote>",
                esc(&l.kind),
                esc(b).replace('\n', "<br>")
            )
        })
        .unwrap_or_default();
    let _ = t;
    format!("<li>{} {who}{what}{body}</li>", time(l.at))
}

pub fn answer(t: &Text, w: &Words, person: &Person, v: &AnswerPage) -> String {
    let site = v.site;
    let key = esc(&site.key);
    let a = v.a;
    let r = &a.answer;
    let id = esc(&r.id);
    let mut body = crumbs(w, &site.key);
    let late = overdue(site, &a.status, &r.class, r.created_at, v.now);
    let _ = write!(
        body,
        "<h1>{} {} · {}/10 {}</h1>",
        w.answer,
        w.class(&r.class),
        r.score,
        status_badge(w, &a.status)
    );
    if let Some(n) = v.notice {
        let _ = write!(body, "<p class=\"notice\" role=\"status\">{}</p>", esc(n));
    }
    if let Some(e) = v.error {
        let _ = write!(body, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    if late {
        let _ = write!(body, "<p class=\"warn\">{}</p>", w.overdue);
    }
    // Two columns on wide screens: the answer and its respondent, then the work on it.
    body.push_str("<div class=\"answer-cols\"><div>");
    let _ = write!(body, "<section><h2>{}</h2>", w.what_they_said);
    match r.follow_up.as_deref() {
        Some("open") => {
            let _ = write!(
                body,
                "<blockquote>{}</blockquote>",
                esc(r.open_text.as_deref().unwrap_or("")).replace('\n', "<br>")
            );
        }
        Some(_) => {
            let _ = write!(
                body,
                "<p><strong>{}:</strong> {}</p>",
                w.reasons,
                esc(r.reason_texts.as_deref().unwrap_or(""))
            );
            if let Some(o) = &r.other_text {
                let _ = write!(
                    body,
                    "<p><strong>{}:</strong></p><blockquote>{}</blockquote>",
                    w.other,
                    esc(o).replace('\n', "<br>")
                );
            }
        }
        None => {
            let _ = write!(body, "<p class=\"muted\">{}</p>", w.no_follow_up);
        }
    }
    body.push_str("</section>");
    // Everything stored with it.
    let mut facts = vec![
        (w.owner, esc(a.owner.as_deref().unwrap_or(w.nobody))),
        (
            w.tags,
            if a.tags.is_empty() {
                "–".to_owned()
            } else {
                esc(&a.tags.join(", "))
            },
        ),
        (w.when, time(r.created_at)),
        (w.survey, esc(&r.survey)),
        (w.step, esc(r.step.as_deref().unwrap_or("–"))),
        (w.page, esc(r.page.as_deref().unwrap_or("–"))),
        (w.band, esc(&r.band)),
        (w.locale, esc(&r.locale)),
        (w.respondent, format!("<code>{}</code>", esc(&r.respondent))),
    ];
    if let Some(u) = &r.user_id {
        let state = match r.user_verified {
            Some(true) => w.verified,
            Some(false) => w.not_verified,
            None => "",
        };
        facts.push((w.user, format!("<code>{}</code> {}", esc(u), state)));
    }
    let props: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&r.props).unwrap_or_default();
    if !props.is_empty() {
        let list: Vec<String> = props
            .iter()
            .map(|(k, v)| format!("{}: {}", esc(k), esc(v.to_string().trim_matches('"'))))
            .collect();
        facts.push((w.props, list.join("<br>")));
    }
    if a.status == "new"
        && let Some(due) = due_at(site, &r.class, r.created_at)
    {
        facts.push((w.due, time(due)));
    }
    if let Some(at) = a.resolved_at {
        let how = a
            .resolution
            .as_deref()
            .map(|r| format!(" ({})", esc(r)))
            .unwrap_or_default();
        facts.push((w.resolved_at, format!("{}{how}", time(at))));
    }
    let _ = write!(body, "<section><h2>{}</h2><dl class=\"facts\">", w.details);
    for (k, v) in facts {
        let _ = write!(body, "<dt>{k}</dt><dd>{v}</dd>");
    }
    body.push_str("</dl></section>");
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}<ol class=\"timeline\">",
        w.timeline,
        timeline_svg(w, v.timeline, &r.id)
    );
    for p in v.timeline {
        let this = if p.id == r.id {
            format!(" <strong>({})</strong>", w.this_answer)
        } else {
            String::new()
        };
        let _ = write!(
            body,
            "<li>{} · <a href=\"/dashboard/{key}/answers/{pid}\">{}</a> · {} · {}{this}</li>",
            time(p.created_at),
            score_badge(w, p.score, &p.class),
            esc(&p.survey),
            esc(p.step.as_deref().unwrap_or("–")),
            pid = esc(&p.id),
        );
    }
    body.push_str("</ol></section>");
    body.push_str("</div><div>");
    if v.work {
        body.push_str(&take_form(w, v, &person.user.email));
        body.push_str(&work_forms(w, v));
    } else {
        let _ = write!(body, "<p class=\"muted\">{}</p>", w.read_only);
    }
    let _ = write!(body, "<section><h2>{}</h2>", w.activity);
    if v.activity.is_empty() {
        let _ = write!(body, "<p class=\"muted\">{}</p>", w.no_activity);
    } else {
        body.push_str("<ol class=\"feed\">");
        for l in v.activity {
            body.push_str(&activity_line(t, w, l));
        }
        body.push_str("</ol>");
    }
    let _ = write!(
        body,
        "</section><form method=\"post\" action=\"/dashboard/{key}/answers/{id}/unread\"><button type=\"submit\" class=\"quiet\">{}</button></form></div></div>",
        w.mark_unread
    );
    crate::people::pages::layout(
        t,
        &format!("{} · {}", w.answer, site.key),
        Some(person),
        &body,
    )
}

/// "Take it": one button that makes the signed-in agent the owner and
/// moves a new answer to open, keeping its tags and resolution.
fn take_form(w: &Words, v: &AnswerPage, me: &str) -> String {
    let a = v.a;
    if a.owner.as_deref() == Some(me) {
        return String::new();
    }
    let status = if a.status == "new" { "open" } else { &a.status };
    format!(
        "<form method=\"post\" action=\"/dashboard/{key}/answers/{id}\" class=\"take\">\
         <input type=\"hidden\" name=\"version\" value=\"{version}\">\
         <input type=\"hidden\" name=\"status\" value=\"{status}\">\
         <input type=\"hidden\" name=\"resolution\" value=\"{resolution}\">\
         <input type=\"hidden\" name=\"owner\" value=\"{me}\">\
         <input type=\"hidden\" name=\"tags\" value=\"{tags}\">\
         <button type=\"submit\">{take}</button></form>",
        key = esc(&v.site.key),
        id = esc(&a.answer.id),
        version = a.version,
        resolution = esc(a.resolution.as_deref().unwrap_or("")),
        me = esc(me),
        tags = esc(&a.tags.join(", ")),
        take = w.take,
    )
}

fn work_forms(w: &Words, v: &AnswerPage) -> String {
    let site = v.site;
    let a = v.a;
    let key = esc(&site.key);
    let id = esc(&a.answer.id);
    let mut statuses = String::new();
    for s in crate::inbox::Status::ALL {
        statuses.push_str(&option(s.as_str(), w.status(s.as_str()), Some(&a.status)));
    }
    let mut owners = option("", w.nobody, a.owner.as_deref().or(Some("")));
    for email in v.owners {
        owners.push_str(&option(email, email, a.owner.as_deref()));
    }
    let resolution = if site.inbox.resolutions.is_empty() {
        String::new()
    } else {
        let mut list = option("", w.no_resolution, a.resolution.as_deref().or(Some("")));
        for r in &site.inbox.resolutions {
            list.push_str(&option(r, r, a.resolution.as_deref()));
        }
        format!(
            "<div>{}</div>",
            select("w-resolution", "resolution", w.resolution, &list)
        )
    };
    let mut out = format!(
        "<section><h2>{work}</h2><form method=\"post\" action=\"/dashboard/{key}/answers/{id}\" class=\"stack\">\
         <input type=\"hidden\" name=\"version\" value=\"{version}\">\
         <div>{status}</div>{resolution}<div>{owner}</div>\
         <div><label for=\"w-tags\">{tags}</label><input id=\"w-tags\" name=\"tags\" value=\"{tag_v}\" aria-describedby=\"w-tags-hint\">\
         <p id=\"w-tags-hint\" class=\"muted\">{tags_hint}</p></div>\
         <button type=\"submit\">{save}</button></form>",
        work = w.work,
        version = a.version,
        status = select("w-status", "status", w.status, &statuses),
        owner = select("w-owner", "owner", w.owner, &owners),
        tags = w.tags,
        tag_v = esc(&a.tags.join(", ")),
        tags_hint = w.tags_hint,
        save = w.save,
    );
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/dashboard/{key}/answers/{id}/notes\" class=\"stack\">\
         <label for=\"w-note\">{note}</label><textarea id=\"w-note\" name=\"text\" rows=\"3\" maxlength=\"2000\" required aria-describedby=\"w-note-hint\"></textarea>\
         <p id=\"w-note-hint\" class=\"muted\">{hint}</p><button type=\"submit\">{add}</button></form>",
        note = w.note,
        hint = w.note_hint,
        add = w.add_note,
    );
    let saved: Vec<_> = site
        .inbox
        .replies
        .iter()
        .filter(|r| r.locale == a.answer.locale)
        .collect();
    if !saved.is_empty() {
        let mut list = String::new();
        for r in &saved {
            list.push_str(&option(&r.id, &r.title, None));
        }
        let _ = write!(
            out,
            "<form method=\"get\" action=\"/dashboard/{key}/answers/{id}\" class=\"inline-form\">{}<button type=\"submit\">{}</button></form>",
            select("w-saved", "template", w.saved_replies, &list),
            w.use_saved
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/dashboard/{key}/answers/{id}/replies\" class=\"stack\">\
         <label for=\"w-reply\">{reply}</label><textarea id=\"w-reply\" name=\"text\" rows=\"4\" maxlength=\"2000\" required aria-describedby=\"w-reply-hint\">{text}</textarea>\
         <p id=\"w-reply-hint\" class=\"muted\">{hint}</p><button type=\"submit\">{send}</button></form></section>",
        reply = w.reply,
        text = esc(v.reply_text),
        hint = w.reply_hint,
        send = w.send_reply,
    );
    out
}
