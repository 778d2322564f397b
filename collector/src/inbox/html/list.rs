//! The inbox list: views, counts per status, filters, the rows and the
//! bulk form.

use std::fmt::Write;

use super::{crumbs, option, score_badge, select, status_badge, time, url_encode};
use crate::config::Site;
use crate::dashboard::esc;
use crate::export::rfc3339;
use crate::inbox::query::{ListQuery, encode_cursor};
use crate::inbox::text::{Words, fill};
use crate::inbox::view::overdue;
use crate::people::{Person, Text};
use crate::store::{InboxRow, TagCount};

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

fn filters(w: &Words, v: &ListView) -> String {
    let q = v.query;
    let site = v.site;
    let given = |x: &Option<String>| x.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let status = given(&q.status);
    let mut statuses = option("", w.all_but_dismissed, status.as_deref());
    for s in crate::inbox::Status::ALL {
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
    for s in crate::inbox::Status::ALL {
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
        for s in crate::inbox::Status::ALL {
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
