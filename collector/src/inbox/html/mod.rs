//! The inbox pages as HTML: the list with its views, counts, filters and
//! bulk form; one answer with its timeline, work forms and activity; the
//! tags. Server-rendered forms and links only (no script, the strict page
//! policy); every text escaped.

use std::fmt::Write;

mod answer;
mod list;

pub use answer::{AnswerPage, answer};
pub use list::{ListView, list};

use super::text::Words;
use crate::dashboard::esc;
use crate::export::rfc3339;
use crate::people::{Person, Text};
use crate::store::TagCount;

/// A time as people read it, exact in `datetime`.
pub(super) fn time(millis: i64) -> String {
    let at = rfc3339(millis);
    let short = format!(
        "{} {} UTC",
        &at[..10.min(at.len())],
        at.get(11..16).unwrap_or("")
    );
    format!("<time datetime=\"{at}\">{short}</time>")
}

pub(super) fn url_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The score as a badge of its class.
pub(super) fn score_badge(w: &Words, score: i64, class: &str) -> String {
    format!(
        "<span class=\"score {class}\">{score}<span class=\"visually-hidden\"> · {}</span></span>",
        w.class(class),
        class = esc(class)
    )
}

pub(super) fn status_badge(w: &Words, status: &str) -> String {
    format!(
        "<span class=\"status s-{0}\">{1}</span>",
        esc(status),
        w.status(status)
    )
}

/// The links above every inbox page.
pub(super) fn crumbs(w: &Words, site: &str) -> String {
    let key = esc(site);
    format!(
        "<p><a href=\"/dashboard/{key}\">{}</a> · <a href=\"/dashboard/{key}/answers\">{}</a> · \
         <a href=\"/dashboard/{key}/tags\">{}</a></p>",
        w.dashboard, w.inbox, w.tags
    )
}

pub(super) fn option(value: &str, label: &str, chosen: Option<&str>) -> String {
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

pub(super) fn select(id: &str, name: &str, label: &str, options: &str) -> String {
    format!(
        "<label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{name}\">{options}</select>"
    )
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
