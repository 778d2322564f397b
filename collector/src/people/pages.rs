//! The team-access pages as HTML: sign-in, set password, the list of one's
//! sites, the account (password, tokens, sessions), a site's members and its
//! audit log. The dashboard's look and its strict policy (no script, no
//! inline style); every form posts to the collector itself; every text
//! escaped.

use std::fmt::Write;

use super::audit::AuditLine;
use super::text::Text;
use super::{Person, Role, Via};
use crate::dashboard::esc;
use crate::export::rfc3339;
use crate::store::{SessionRow, TokenRow, User};

/// The header of a signed-in person's pages: their sites, account, the
/// instance's audit log for owners, who they are, and signing out.
pub fn nav(t: &Text, p: &Person) -> String {
    format!(
        "<header><p class=\"brand\"><a href=\"/dashboard\">Pulso</a></p>\
         <nav aria-label=\"{account}\"><a href=\"/dashboard\">{sites}</a> \
         <a href=\"/account\">{account}</a>{audit} <span class=\"muted\">{email}</span> \
         <form method=\"post\" action=\"/signout\" class=\"inline\">\
         <button type=\"submit\">{out}</button></form></nav></header>",
        account = t.account,
        sites = t.your_sites,
        email = esc(&p.user.email),
        out = t.sign_out,
        audit = if p.user.owner {
            format!(" <a href=\"/audit\">{}</a>", t.audit)
        } else {
            String::new()
        },
    )
}

/// The page around `body`, with the signed-in person's navigation.
pub fn layout(t: &Text, title: &str, person: Option<&Person>, body: &str) -> String {
    let nav = person.map_or_else(
        || "<header><p class=\"brand\">Pulso</p></header>".to_owned(),
        |p| nav(t, p),
    );
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Pulso</title>\n<link rel=\"stylesheet\" href=\"/dashboard.css\">\n\
         </head>\n<body>\n{nav}\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        lang = t.lang,
        title = esc(title),
    )
}

/// A notice (`role="status"`) or an error (`role="alert"`), when there is one.
fn notes(notice: Option<&str>, error: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(n) = notice {
        let _ = write!(out, "<p class=\"notice\" role=\"status\">{}</p>", esc(n));
    }
    if let Some(e) = error {
        let _ = write!(out, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    out
}

pub fn sign_in(
    t: &Text,
    next: &str,
    email: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    layout(
        t,
        t.sign_in,
        None,
        &format!(
            "<div class=\"login\"><h1>{title}</h1><p>{intro}</p>{notes}\
             <form method=\"post\" action=\"/signin\">\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <label for=\"email\">{email_l}</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\
             <label for=\"password\">{password_l}</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">{title}</button></form></div>",
            title = t.sign_in,
            intro = t.sign_in_intro,
            notes = notes(notice, error),
            next = esc(next),
            email_l = t.email,
            email = esc(email),
            password_l = t.password,
        ),
    )
}

pub fn set_password(t: &Text, token: &str, user: &User, error: Option<&str>) -> String {
    layout(
        t,
        t.set_password,
        None,
        &format!(
            "<div class=\"login\"><h1>{title}</h1><p>{intro}</p><p class=\"muted\">{email}</p>{notes}\
             <form method=\"post\" action=\"/set-password/{token}\">\
             <input type=\"hidden\" name=\"username\" autocomplete=\"username\" value=\"{email}\">\
             <label for=\"password\">{new_l}</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
              minlength=\"12\" required aria-describedby=\"hint\">\
             <p id=\"hint\" class=\"muted\">{hint}</p>\
             <label for=\"repeat\">{repeat_l}</label>\
             <input id=\"repeat\" name=\"repeat\" type=\"password\" autocomplete=\"new-password\" required>\
             <button type=\"submit\">{save}</button></form></div>",
            title = t.set_password,
            intro = t.set_password_intro,
            email = esc(&user.email),
            notes = notes(None, error),
            token = esc(token),
            new_l = t.new_password,
            hint = t.password_hint,
            repeat_l = t.repeat_password,
            save = t.save_password,
        ),
    )
}

/// A page with one message and nothing else (a dead link, 403, 404).
pub fn message(t: &Text, title: &str, person: Option<&Person>, text: &str) -> String {
    layout(
        t,
        title,
        person,
        &format!("<h1>{}</h1><p>{}</p>", esc(title), esc(text)),
    )
}

fn role_name(t: &Text, role: Role) -> &'static str {
    t.roles[role as usize]
}

/// The sites a person may open, with their role on each.
pub fn sites(t: &Text, person: &Person, sites: &[(String, Role)]) -> String {
    let mut body = format!("<h1>{}</h1>", t.your_sites);
    if sites.is_empty() {
        let _ = write!(body, "<p>{}</p>", t.no_sites);
    } else {
        body.push_str("<ul class=\"sites\">");
        for (site, role) in sites {
            let _ = write!(
                body,
                "<li><a href=\"/dashboard/{key}\">{key}</a> <span class=\"muted\">{role}</span></li>",
                key = esc(site),
                role = role_name(t, *role)
            );
        }
        body.push_str("</ul>");
    }
    layout(t, t.your_sites, Some(person), &body)
}

fn when(millis: Option<i64>, t: &Text) -> String {
    millis.map_or_else(|| t.never.to_owned(), |m| time(&rfc3339(m)))
}

/// An RFC 3339 time as people read it (`2026-12-01 09:30 UTC`), the exact
/// one in its `datetime`.
fn time(at: &str) -> String {
    let short = match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(minute)) => format!("{day} {minute} UTC"),
        _ => at.to_owned(),
    };
    format!("<time datetime=\"{}\">{}</time>", esc(at), esc(&short))
}

/// An audit line's detail as `key: value` pairs, one per line.
fn detail(value: &serde_json::Value) -> String {
    let Some(object) = value.as_object() else {
        return esc(&value.to_string());
    };
    object
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("{}: {}", esc(k), esc(&v))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// What the account page shows besides the person.
pub struct AccountView<'a> {
    pub tokens: &'a [TokenRow],
    pub sessions: &'a [SessionRow],
    /// The sites the person may give a token.
    pub sites: &'a [String],
    /// A token just made, shown this once.
    pub new_token: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    /// How often the person wants the digest by email.
    pub digest: crate::store::Cadence,
}

pub fn account(t: &Text, person: &Person, view: &AccountView) -> String {
    let mut body = format!(
        "<h1>{title}</h1><p>{name} · {email}{owner}</p>{notes}",
        title = t.account,
        name = esc(&person.user.name),
        email = esc(&person.user.email),
        owner = if person.user.owner {
            format!(" · {}", t.owner)
        } else {
            String::new()
        },
        notes = notes(view.notice, view.error),
    );
    // A token just made comes first: it is shown this once.
    if let Some(token) = view.new_token {
        let _ = write!(
            body,
            "<p class=\"notice\" role=\"status\">{}</p><p><code class=\"token\">{}</code></p>",
            t.token_shown_once,
            esc(token)
        );
    }
    let _ = write!(
        body,
        "<h2 id=\"password\">{title}</h2>\
         <form method=\"post\" action=\"/account/password\" class=\"stack\">\
         <input type=\"hidden\" name=\"username\" autocomplete=\"username\" value=\"{email}\">\
         <label for=\"current\">{current}</label>\
         <input id=\"current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required>\
         <label for=\"password\">{new}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"12\" required aria-describedby=\"hint\">\
         <p id=\"hint\" class=\"muted\">{hint}</p>\
         <label for=\"repeat\">{repeat}</label>\
         <input id=\"repeat\" name=\"repeat\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">{save}</button></form>",
        title = t.change_password,
        email = esc(&person.user.email),
        current = t.current_password,
        new = t.new_password,
        hint = t.password_hint,
        repeat = t.repeat_password,
        save = t.save_password,
    );
    let _ = write!(
        body,
        "<h2 id=\"tokens\">{}</h2><p class=\"muted\">{}</p>",
        t.tokens, t.tokens_intro
    );
    if !view.tokens.is_empty() {
        let _ = write!(
            body,
            "<table class=\"hooks\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"><span class=\"visually-hidden\">{}</span></th></tr></thead><tbody>",
            t.token_name, t.token_sites, t.created, t.last_used, t.revoke
        );
        for token in view.tokens {
            let action = if token.revoked_at.is_some() {
                t.revoked.to_owned()
            } else {
                format!(
                    "<form method=\"post\" action=\"/account/tokens/{id}/revoke\" class=\"inline\">\
                     <button type=\"submit\" aria-label=\"{revoke} {name}\">{revoke}</button></form>",
                    id = token.id,
                    revoke = t.revoke,
                    name = esc(&token.name)
                )
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                esc(&token.name),
                esc(&token.sites.join(", ")),
                when(Some(token.created_at), t),
                when(token.last_used_at, t),
            );
        }
        body.push_str("</tbody></table>");
    }
    if !view.sites.is_empty() {
        let mut boxes = String::new();
        for (i, site) in view.sites.iter().enumerate() {
            let _ = write!(
                boxes,
                "<label class=\"check\"><input type=\"checkbox\" name=\"sites\" value=\"{site}\" id=\"site-{i}\"> {site}</label>",
                site = esc(site)
            );
        }
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/account/tokens\" class=\"stack\">\
             <label for=\"token-name\">{name}</label>\
             <input id=\"token-name\" name=\"name\" maxlength=\"100\" required>\
             <fieldset><legend>{sites}</legend>{boxes}</fieldset>\
             <button type=\"submit\">{create}</button></form>",
            name = t.token_name,
            sites = t.token_sites,
            create = t.create_token,
        );
    }
    let current = match &person.via {
        Via::Session { id_hash } => Some(id_hash.as_str()),
        Via::Token { .. } => None,
    };
    let _ = write!(
        body,
        "<h2 id=\"sessions\">{}</h2><table class=\"hooks\"><thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t.sessions, t.created, t.last_used, t.from
    );
    for s in view.sessions {
        let mine = if Some(s.id_hash.as_str()) == current {
            format!(" <strong>({})</strong>", t.this_browser)
        } else {
            String::new()
        };
        let _ = write!(
            body,
            "<tr><td>{}{mine}</td><td>{}</td><td>{}</td></tr>",
            when(Some(s.created_at), t),
            when(Some(s.last_used_at), t),
            esc(s.client.as_deref().unwrap_or(""))
        );
    }
    let _ = write!(
        body,
        "</tbody></table><form method=\"post\" action=\"/account/sessions/end\">\
         <button type=\"submit\">{}</button></form>",
        t.sign_out_others
    );
    use crate::store::Cadence;
    let choices: String = [
        (Cadence::Weekly, t.digest_weekly),
        (Cadence::Daily, t.digest_daily),
        (Cadence::Never, t.digest_never),
    ]
    .iter()
    .map(|(c, label)| {
        let checked = if *c == view.digest { " checked" } else { "" };
        format!(
            "<label><input type=\"radio\" name=\"digest\" value=\"{}\"{checked}> {label}</label>",
            c.name()
        )
    })
    .collect();
    let _ = write!(
        body,
        "<h2 id=\"digest\">{title}</h2><form method=\"post\" action=\"/account/digest\" class=\"stack\">\
         <fieldset><legend>{legend}</legend>{choices}</fieldset>\
         <button type=\"submit\">{save}</button></form>",
        title = t.digest_title,
        legend = t.digest_legend,
        save = t.digest_save,
    );
    layout(t, t.account, Some(person), &body)
}

/// What the members page shows besides the members.
pub struct MembersView<'a> {
    pub site: &'a str,
    pub members: &'a [(User, Role)],
    /// A set-password link just made: for whom, and the link.
    pub link: Option<(&'a str, &'a str)>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// A choice of role; `hidden_label` names it for screen readers where no
/// visible label does.
fn role_select(t: &Text, id: &str, hidden_label: Option<&str>, chosen: Role) -> String {
    let mut out = hidden_label.map_or_else(String::new, |label| {
        format!(
            "<label for=\"{id}\" class=\"visually-hidden\">{}</label>",
            esc(label)
        )
    });
    let _ = write!(out, "<select id=\"{id}\" name=\"role\">");
    for role in Role::ALL {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{}</option>",
            role.as_str(),
            if role == chosen { " selected" } else { "" },
            role_name(t, role)
        );
    }
    out.push_str("</select>");
    out
}

pub fn members(t: &Text, person: &Person, view: &MembersView) -> String {
    let site = esc(view.site);
    let mut body = format!(
        "<p><a href=\"/dashboard/{site}\">{dash}</a> · <a href=\"/dashboard/{site}/audit\">{audit}</a></p>\
         <h1>{title} · {site}</h1>{notes}",
        dash = t.dashboard,
        audit = t.audit,
        title = t.members,
        notes = notes(view.notice, view.error),
    );
    if let Some((email, link)) = view.link {
        let _ = write!(
            body,
            "<p class=\"notice\" role=\"status\">{} {}: <code class=\"token\">{}</code> {}</p>",
            t.link_for,
            esc(email),
            esc(link),
            t.link_valid
        );
    }
    let _ = write!(
        body,
        "<table class=\"hooks\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"><span class=\"visually-hidden\">{}</span></th></tr></thead><tbody>",
        t.name, t.email, t.role, t.status, t.actions
    );
    for (user, role) in view.members {
        let status = match (user.active, &user.password_hash) {
            (false, _) => t.inactive,
            (true, None) => t.no_password_yet,
            (true, Some(_)) => t.active,
        };
        let id = user.id;
        let _ = write!(
            body,
            "<tr><td>{name}</td><td>{email}</td><td>\
             <form method=\"post\" action=\"/dashboard/{site}/members/{id}/role\" class=\"inline\">{select}\
             <button type=\"submit\" aria-label=\"{change} {email}\">{change}</button></form></td>\
             <td>{status}</td><td>\
             <form method=\"post\" action=\"/dashboard/{site}/members/{id}/sessions\" class=\"inline\">\
             <button type=\"submit\" aria-label=\"{end} {email}\">{end}</button></form> \
             <form method=\"post\" action=\"/dashboard/{site}/members/{id}/link\" class=\"inline\">\
             <button type=\"submit\" aria-label=\"{link} {email}\">{link}</button></form> \
             <form method=\"post\" action=\"/dashboard/{site}/members/{id}/remove\" class=\"inline\">\
             <button type=\"submit\" aria-label=\"{remove} {email}\">{remove}</button></form></td></tr>",
            name = esc(&user.name),
            email = esc(&user.email),
            select = role_select(
                t,
                &format!("role-{id}"),
                Some(&format!("{} {}", t.role, user.email)),
                *role
            ),
            change = t.change_role,
            end = t.end_sessions,
            link = t.new_link,
            remove = t.remove,
        );
    }
    body.push_str("</tbody></table>");
    if view.members.is_empty() {
        let _ = write!(body, "<p class=\"muted\">{}</p>", t.no_members);
    }
    let _ = write!(
        body,
        "<h2>{invite}</h2><p class=\"muted\">{intro}</p>\
         <form method=\"post\" action=\"/dashboard/{site}/members\" class=\"stack\">\
         <label for=\"invite-email\">{email}</label>\
         <input id=\"invite-email\" name=\"email\" type=\"email\" required>\
         <label for=\"invite-name\">{name}</label>\
         <input id=\"invite-name\" name=\"name\" maxlength=\"100\" required>\
         <label for=\"invite-role\">{role}</label>{select}\
         <button type=\"submit\">{send}</button></form>",
        invite = t.invite,
        intro = t.invite_intro,
        email = t.email,
        name = t.name,
        role = t.role,
        select = role_select(t, "invite-role", None, Role::Agent),
        send = t.send_invite,
    );
    layout(
        t,
        &format!("{} · {}", t.members, view.site),
        Some(person),
        &body,
    )
}

pub fn audit(
    t: &Text,
    person: &Person,
    site: Option<&str>,
    entries: &[AuditLine],
    older: Option<i64>,
) -> String {
    let (mut body, here, title) = match site {
        Some(site) => {
            let key = esc(site);
            (
                format!(
                    "<p><a href=\"/dashboard/{key}\">{dash}</a> · \
                     <a href=\"/dashboard/{key}/members\">{members}</a></p>\
                     <h1>{title} · {key}</h1>",
                    dash = t.dashboard,
                    members = t.members,
                    title = t.audit,
                ),
                format!("/dashboard/{key}/audit"),
                format!("{} · {site}", t.audit),
            )
        }
        None => (
            format!(
                "<h1>{} · {}</h1><p class=\"muted\">{}</p>",
                t.audit, t.instance, t.instance_audit_intro
            ),
            "/audit".to_owned(),
            format!("{} · {}", t.audit, t.instance),
        ),
    };
    if entries.is_empty() {
        let _ = write!(body, "<p>{}</p>", t.empty_audit);
    } else {
        let _ = write!(
            body,
            "<table class=\"hooks\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t.when, t.who, t.what, t.details, t.from
        );
        for e in entries {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"detail\">{}</td><td>{}</td></tr>",
                time(&e.at),
                esc(&e.actor),
                esc(&e.action),
                detail(&e.detail),
                esc(e.client.as_deref().unwrap_or("")),
            );
        }
        body.push_str("</tbody></table>");
    }
    if let Some(before) = older {
        let _ = write!(
            body,
            "<p><a href=\"{here}?before={before}\">{}</a></p>",
            t.older
        );
    }
    layout(t, &title, Some(person), &body)
}
