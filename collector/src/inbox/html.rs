//! The inbox pages as HTML: the list with its views, counts, filters and
//! bulk form; one answer with its timeline, work forms and activity; the
//! tags. Server-rendered forms and links only (no script, the strict page
//! policy); every text escaped.

use std::fmt::Write;

use super::query::{ListQuery, encode_cursor};
use super::text::{Words, fill};
use super::view::{due_at, overdue};
use crate::config::Site;
use crate::dashboard::esc;
use crate::export::rfc3339;
use crate::people::{Person, Text};
use crate::store::{ActivityLine, InboxAnswer, InboxRow, TagCount, TimelinePoint};

/// A time as people read it, exact in `datetime`.
fn time(millis: i64) -> String {
    let at = rfc3339(millis);
    let short = format!(
        "{} {} UTC",
        &at[..10.min(at.len())],
        at.get(11..16).unwrap_or("")
    );
    format!("<time datetime=\"{at}\">{short}</time>")
}

fn url_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The score as a badge of its class.
fn score_badge(w: &Words, score: i64, class: &str) -> String {
    format!(
        "<span class=\"score {class}\">{score}<span class=\"visually-hidden\"> · {}</span></span>",
        w.class(class),
        class = esc(class)
    )
}

fn status_badge(w: &Words, status: &str) -> String {
    format!(
        "<span class=\"status s-{0}\">{1}</span>",
        esc(status),
        w.status(status)
    )
}

/// The links above every inbox page.
fn crumbs(w: &Words, site: &str) -> String {
    let key = esc(site);
    format!(
        "<p><a href=\"/dashboard/{key}\">{}</a> · <a href=\"/dashboard/{key}/answers\">{}</a> · \
         <a href=\"/dashboard/{key}/tags\">{}</a></p>",
        w.dashboard, w.inbox, w.tags
    )
}

/// What the list page shows.
pub struct ListView<'a> {
    pub site: &'a Site,
    pub query: &'a ListQuery,
    pub rows: Vec<InboxRow>,
    pub next: Option<crate::store::Cursor>,
    pub counts: &'a std::collections::BTreeMap<String, i64>,
    pub overdue: i64,
    /// The site's tags, members who may own answers (emails), bands, steps.
    pub tags: &'a [TagCount],
    pub owners: &'a [String],
    /// The caller may work on answers (bulk actions).
    pub work: bool,
    pub notice: Option<String>,
    pub now: i64,
}

fn option(value: &str, label: &str, chosen: Option<&str>) -> String {
    format!(
        "<option value=\"{}\"{}>{}</option>",
        esc(value),
        if chosen == Some(value) {
            " selected"
        } else {
            ""
        },
        esc(label)
    )
}

fn select(id: &str, name: &str, label: &str, options: &str) -> String {
    format!(
        "<label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{name}\">{options}</select>"
    )
}

fn filters(w: &Words, v: &ListView) -> String {
    let q = v.query;
    let site = v.site;
    let given = |x: &Option<String>| x.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let status = given(&q.status);
    let mut statuses = option("", w.all_but_dismissed, status.as_deref());
    for s in super::Status::ALL {
        statuses.push_str(&option(s.as_str(), w.status(s.as_str()), status.as_deref()));
    }
    statuses.push_str(&option("all", w.all_statuses, status.as_deref()));
    let owner = given(&q.owner);
    let mut owners = option("", w.anyone, owner.as_deref());
    owners.push_str(&option("me", w.me, owner.as_deref()));
    owners.push_str(&option("none", w.nobody, owner.as_deref()));
    for email in v.owners {
        owners.push_str(&option(email, email, owner.as_deref()));
    }
    let class = given(&q.class);
    let mut classes = option("", w.any, class.as_deref());
    for c in survey::Class::ALL {
        classes.push_str(&option(c.as_str(), w.class(c.as_str()), class.as_deref()));
    }
    let band = given(&q.band);
    let mut bands = option("", w.any, band.as_deref());
    let mut seen = Vec::new();
    for b in site.surveys.iter().flat_map(|s| s.bands.iter()) {
        if !seen.contains(&b.id) {
            bands.push_str(&option(&b.id, &b.id, band.as_deref()));
            seen.push(b.id.clone());
        }
    }
    let survey = given(&q.survey);
    let mut surveys = option("", w.any, survey.as_deref());
    for s in &site.surveys {
        surveys.push_str(&option(&s.id, &s.id, survey.as_deref()));
    }
    let step = given(&q.step);
    let mut steps = option("", w.any, step.as_deref());
    let mut all_steps: Vec<&String> = site.surveys.iter().flat_map(|s| s.steps.iter()).collect();
    all_steps.sort();
    all_steps.dedup();
    for s in all_steps {
        steps.push_str(&option(s, s, step.as_deref()));
    }
    let tag = given(&q.tag);
    let mut tags = option("", w.any, tag.as_deref());
    for t in v.tags {
        tags.push_str(&option(&t.name, &t.name, tag.as_deref()));
    }
    let commented = given(&q.commented);
    let mut comments = option("", w.any, commented.as_deref());
    comments.push_str(&option("yes", w.with_comment, commented.as_deref()));
    comments.push_str(&option("no", w.without_comment, commented.as_deref()));
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/dashboard/{key}/answers\" aria-label=\"{label}\">\
         <div>{status}</div><div>{owner}</div><div>{class}</div><div>{band}</div><div>{survey}</div>\
         <div>{step}</div><div>{tag}</div><div>{commented}</div>\
         <div><label for=\"f-q\">{search}</label><input id=\"f-q\" name=\"q\" value=\"{q}\" aria-describedby=\"f-q-hint\"></div>\
         <div><label for=\"f-from\">{from}</label><input id=\"f-from\" type=\"date\" name=\"from\" value=\"{from_v}\"></div>\
         <div><label for=\"f-to\">{to}</label><input id=\"f-to\" type=\"date\" name=\"to\" value=\"{to_v}\"></div>\
         <div class=\"check\"><input id=\"f-overdue\" type=\"checkbox\" name=\"overdue\" value=\"yes\"{overdue}>\
         <label for=\"f-overdue\">{only_overdue}</label></div>\
         <button type=\"submit\">{apply}</button>\
         <p id=\"f-q-hint\" class=\"muted\">{hint}</p></form>",
        key = esc(&site.key),
        label = w.filters,
        status = select("f-status", "status", w.status, &statuses),
        owner = select("f-owner", "owner", w.owner, &owners),
        class = select("f-class", "class", w.class, &classes),
        band = select("f-band", "band", w.band, &bands),
        survey = select("f-survey", "survey", w.survey, &surveys),
        step = select("f-step", "step", w.step, &steps),
        tag = select("f-tag", "tag", w.tag, &tags),
        commented = select("f-commented", "commented", w.commented, &comments),
        search = w.search,
        q = esc(q.q.as_deref().unwrap_or("")),
        from = w.from,
        from_v = esc(q.from.as_deref().unwrap_or("")),
        to = w.to,
        to_v = esc(q.to.as_deref().unwrap_or("")),
        overdue = if q.overdue.as_deref() == Some("yes") {
            " checked"
        } else {
            ""
        },
        only_overdue = w.only_overdue,
        apply = w.apply,
        hint = w.search_hint,
    )
}

/// What an answer said, short.
fn said(w: &Words, open: Option<&str>, reasons: Option<&str>, other: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(r) = reasons.filter(|r| !r.is_empty()) {
        parts.push(esc(r));
    }
    if let Some(o) = other {
        parts.push(format!(
            "{}: “{}”",
            w.other,
            esc(&o.chars().take(200).collect::<String>())
        ));
    }
    if let Some(t) = open {
        parts.push(format!(
            "“{}”",
            esc(&t.chars().take(200).collect::<String>())
        ));
    }
    if parts.is_empty() {
        format!("<span class=\"muted\">{}</span>", w.no_follow_up)
    } else {
        parts.join("<br>")
    }
}

pub fn list(t: &Text, w: &Words, person: &Person, v: &ListView) -> String {
    let key = esc(&v.site.key);
    let mut body = crumbs(w, &v.site.key);
    let _ = write!(body, "<h1>{} · {key}</h1>", w.inbox);
    if let Some(n) = &v.notice {
        let _ = write!(body, "<p class=\"notice\" role=\"status\">{}</p>", esc(n));
    }
    // Views: the questions teams ask most.
    let _ = write!(
        body,
        "<nav aria-label=\"{views}\" class=\"views\"><a href=\"/dashboard/{key}/answers?owner=none&amp;class=detractor\">{ud}</a> \
         <a href=\"/dashboard/{key}/answers?owner=me\">{mine}</a> \
         <a href=\"/dashboard/{key}/answers?overdue=yes\">{od}</a> \
         <a href=\"/dashboard/{key}/answers?status=all\">{all}</a></nav>",
        views = w.views,
        ud = w.unassigned_detractors,
        mine = w.mine,
        od = w.overdue_view,
        all = w.everything,
    );
    // Counts per status, each a link keeping the other filters.
    let mut rest = v.query.clone();
    rest.status = None;
    let base = rest.link();
    body.push_str("<ul class=\"counts\">");
    for s in super::Status::ALL {
        let n = v.counts.get(s.as_str()).copied().unwrap_or(0);
        let current = v.query.status.as_deref() == Some(s.as_str());
        let _ = write!(
            body,
            "<li><a href=\"/dashboard/{key}/answers?status={s}{amp}{base}\"{cur}>{label} <span class=\"count\">{n}</span></a></li>",
            s = s.as_str(),
            amp = if base.is_empty() { "" } else { "&amp;" },
            base = esc(&base),
            cur = if current {
                " aria-current=\"page\""
            } else {
                ""
            },
            label = w.status(s.as_str()),
        );
    }
    body.push_str("</ul>");
    if v.overdue > 0 {
        let _ = write!(
            body,
            "<p class=\"warn\" role=\"status\"><a href=\"/dashboard/{key}/answers?overdue=yes\">{}</a></p>",
            fill(w.overdue_count, &v.overdue.to_string(), "")
        );
    }
    body.push_str(&filters(w, v));
    if v.rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", w.no_answers);
        return crate::people::pages::layout(
            t,
            &format!("{} · {}", w.inbox, v.site.key),
            Some(person),
            &body,
        );
    }
    if v.work {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/dashboard/{key}/answers/bulk\">"
        );
    }
    let _ = write!(
        body,
        "<table class=\"hooks inbox\"><thead><tr>{sel}<th scope=\"col\">{score}</th><th scope=\"col\">{said}</th>\
         <th scope=\"col\">{step}</th><th scope=\"col\">{when}</th><th scope=\"col\">{owner}</th>\
         <th scope=\"col\">{status}</th><th scope=\"col\">{tags}</th></tr></thead><tbody>",
        sel = if v.work {
            format!(
                "<th scope=\"col\"><span class=\"visually-hidden\">{}</span></th>",
                w.select
            )
        } else {
            String::new()
        },
        score = w.score,
        said = w.said,
        step = w.step,
        when = w.when,
        owner = w.owner,
        status = w.status,
        tags = w.tags,
    );
    for r in &v.rows {
        let late = overdue(v.site, &r.status, &r.class, r.created_at, v.now);
        let id = esc(&r.id);
        let _ = write!(
            body,
            "<tr class=\"{unread}{late_c}\">{check}<td><a href=\"/dashboard/{key}/answers/{id}\">{badge}</a>{unread_l}</td>\
             <td>{said}</td><td>{step}</td><td>{when}{late_l}</td><td>{owner}</td><td>{status}</td><td>{tags}</td></tr>",
            unread = if r.read { "" } else { "unread" },
            late_c = if late { " late" } else { "" },
            check = if v.work {
                format!(
                    "<td><input type=\"checkbox\" name=\"ids\" value=\"{id}\" id=\"sel-{id}\" aria-label=\"{} {} · {}\"></td>",
                    w.select,
                    r.score,
                    rfc3339(r.created_at)
                )
            } else {
                String::new()
            },
            badge = score_badge(w, r.score, &r.class),
            unread_l = if r.read {
                String::new()
            } else {
                format!(" <span class=\"tag-unread\">{}</span>", w.unread)
            },
            said = said(
                w,
                r.open_text.as_deref(),
                r.reason_texts.as_deref(),
                r.other_text.as_deref()
            ),
            step = esc(r.step.as_deref().unwrap_or("–")),
            when = time(r.created_at),
            late_l = if late {
                format!(" <strong class=\"bad\">{}</strong>", w.overdue)
            } else {
                String::new()
            },
            owner = r
                .owner
                .as_deref()
                .map_or_else(|| format!("<span class=\"muted\">{}</span>", w.nobody), esc),
            status = status_badge(w, &r.status),
            tags = esc(&r.tags.join(", ")),
        );
    }
    body.push_str("</tbody></table>");
    if v.work {
        let mut actions = option("me", w.assign_me, None);
        actions.push_str(&option("unassign", w.unassign, None));
        for email in v.owners {
            actions.push_str(&option(
                &format!("owner:{email}"),
                &fill(w.assign_to, "", email),
                None,
            ));
        }
        for s in super::Status::ALL {
            actions.push_str(&option(
                &format!("status:{}", s.as_str()),
                &fill(w.set_status, "", w.status(s.as_str())),
                None,
            ));
        }
        actions.push_str(&option("tag", w.add_tag, None));
        let _ = write!(
            body,
            "<fieldset class=\"bulk\"><legend>{legend}</legend>{select}\
             <label for=\"bulk-tag\">{tag}</label><input id=\"bulk-tag\" name=\"tag\" maxlength=\"40\">\
             <input type=\"hidden\" name=\"back\" value=\"{back}\">\
             <button type=\"submit\">{apply}</button></fieldset></form>",
            legend = w.selected,
            select = select("bulk-action", "action", w.bulk_action, &actions),
            tag = w.tag,
            back = esc(&v.query.link()),
            apply = w.apply_selected,
        );
    }
    if let Some(next) = &v.next {
        let link = v.query.link();
        let _ = write!(
            body,
            "<p><a href=\"/dashboard/{key}/answers?{}{}cursor={}\">{}</a></p>",
            esc(&link),
            if link.is_empty() { "" } else { "&amp;" },
            url_encode(&encode_cursor(next)),
            w.older
        );
    }
    crate::people::pages::layout(
        t,
        &format!("{} · {}", w.inbox, v.site.key),
        Some(person),
        &body,
    )
}

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
    if v.work {
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
        "</section><form method=\"post\" action=\"/dashboard/{key}/answers/{id}/unread\"><button type=\"submit\" class=\"quiet\">{}</button></form>",
        w.mark_unread
    );
    crate::people::pages::layout(
        t,
        &format!("{} · {}", w.answer, site.key),
        Some(person),
        &body,
    )
}

fn work_forms(w: &Words, v: &AnswerPage) -> String {
    let site = v.site;
    let a = v.a;
    let key = esc(&site.key);
    let id = esc(&a.answer.id);
    let mut statuses = String::new();
    for s in super::Status::ALL {
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

/// What the tags page shows.
pub struct TagsView<'a> {
    pub site: &'a str,
    pub tags: &'a [TagCount],
    pub work: bool,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn tags(t: &Text, w: &Words, person: &Person, v: &TagsView) -> String {
    let (site, tags, work, notice, error) = (v.site, v.tags, v.work, v.notice, v.error);
    let key = esc(site);
    let mut body = crumbs(w, site);
    let _ = write!(body, "<h1>{} · {key}</h1>", w.tags);
    if let Some(n) = notice {
        let _ = write!(body, "<p class=\"notice\" role=\"status\">{}</p>", esc(n));
    }
    if let Some(e) = error {
        let _ = write!(body, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    if tags.is_empty() {
        let _ = write!(body, "<p>{}</p>", w.no_tags);
        return crate::people::pages::layout(
            t,
            &format!("{} · {site}", w.tags),
            Some(person),
            &body,
        );
    }
    let _ = write!(
        body,
        "<table class=\"hooks\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>{}</tr></thead><tbody>",
        w.tag_name,
        w.answers,
        if work {
            format!("<th scope=\"col\">{}</th>", w.actions)
        } else {
            String::new()
        }
    );
    for tag in tags {
        let name = esc(&tag.name);
        let link = format!("/dashboard/{key}/answers?tag={}", url_encode(&tag.name));
        let mut actions = String::new();
        if work {
            let mut into = String::new();
            for other in tags.iter().filter(|o| o.id != tag.id) {
                into.push_str(&option(&other.id.to_string(), &other.name, None));
            }
            let tid = tag.id;
            let _ = write!(
                actions,
                "<td><form method=\"post\" action=\"/dashboard/{key}/tags\" class=\"inline\">\
                 <input type=\"hidden\" name=\"tag\" value=\"{tid}\"><input type=\"hidden\" name=\"action\" value=\"rename\">\
                 <label for=\"rename-{tid}\" class=\"visually-hidden\">{rename} {name}</label>\
                 <input id=\"rename-{tid}\" name=\"name\" value=\"{name}\" maxlength=\"40\" required>\
                 <button type=\"submit\">{rename}</button></form> ",
                rename = w.rename,
            );
            if !into.is_empty() {
                let _ = write!(
                    actions,
                    "<form method=\"post\" action=\"/dashboard/{key}/tags\" class=\"inline\">\
                     <input type=\"hidden\" name=\"tag\" value=\"{tid}\"><input type=\"hidden\" name=\"action\" value=\"merge\">\
                     <label for=\"merge-{tid}\" class=\"visually-hidden\">{merge_into} ({name})</label>\
                     <select id=\"merge-{tid}\" name=\"into\">{into}</select>\
                     <button type=\"submit\">{merge}</button></form> ",
                    merge_into = w.merge_into,
                    merge = w.merge,
                );
            }
            let _ = write!(
                actions,
                "<form method=\"post\" action=\"/dashboard/{key}/tags\" class=\"inline\">\
                 <input type=\"hidden\" name=\"tag\" value=\"{tid}\"><input type=\"hidden\" name=\"action\" value=\"delete\">\
                 <button type=\"submit\" aria-label=\"{delete} {name}\">{delete}</button></form></td>",
                delete = w.delete,
            );
        }
        let _ = write!(
            body,
            "<tr><td><a href=\"{link}\">{name}</a></td><td>{}</td>{actions}</tr>",
            tag.answers,
            link = esc(&link),
        );
    }
    body.push_str("</tbody></table>");
    crate::people::pages::layout(t, &format!("{} · {site}", w.tags), Some(person), &body)
}
