//! What people send the inbox, read and checked: the filters of a list (a
//! query string, the page's or the API's), its cursor, and a change of an
//! answer (a JSON body or a form). Errors name the field at fault.

use serde::Deserialize;

use super::Status;
use crate::config::Site;
use crate::export::{ParamError, time_range, time_zone};
use crate::store::{Cursor, InboxFilter, OwnerFilter};

/// Rows per page unless asked otherwise; the most a page may have.
pub const PAGE_ROWS: i64 = 50;
const MAX_ROWS: i64 = 200;
/// The longest tag, the most tags an answer may have.
const TAG_CHARS: usize = 40;
pub const MAX_TAGS: usize = 20;
/// Words of a search, each cut at this length.
const MAX_WORDS: usize = 8;
const WORD_CHARS: usize = 40;

/// The inbox's filters, as a query string has them (`GET /v1/sites/{site}/answers`
/// and the inbox page alike).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Statuses, comma-separated (`new,open`), or `all` (dismissed ones
    /// included); by default all but dismissed.
    pub status: Option<String>,
    /// `me`, `none` (no owner who may work on it), or a member's email.
    pub owner: Option<String>,
    /// detractor, passive or promoter.
    pub class: Option<String>,
    pub band: Option<String>,
    pub survey: Option<String>,
    pub step: Option<String>,
    /// A tag's name, any case.
    pub tag: Option<String>,
    /// Words the open or "Other" texts have (each as a word's beginning;
    /// case and accents do not matter).
    pub q: Option<String>,
    /// From this RFC 3339 time, or the start of this date in `tz`.
    pub from: Option<String>,
    /// Up to this RFC 3339 time (excluded), or the end of this date in `tz`.
    pub to: Option<String>,
    /// IANA time zone for dates (default UTC).
    pub tz: Option<String>,
    /// `yes`: with an open or "Other" text; `no`: without.
    pub commented: Option<String>,
    /// `yes`: only answers past their class's deadline, still new.
    pub overdue: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Rows per page (default 50, at most 200).
    pub limit: Option<i64>,
}

/// Whose answers, before the owner's email is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnerAsked {
    Any,
    Me,
    Unassigned,
    Email(String),
}

/// [`ListQuery`] checked.
#[derive(Clone, Debug)]
pub struct Asked {
    pub filter: InboxFilter,
    pub owner: OwnerAsked,
    pub cursor: Option<Cursor>,
    pub limit: i64,
    /// Only overdue ones were asked for.
    pub overdue: bool,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The words of a search: letters and digits, at most [`MAX_WORDS`].
pub fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| w.chars().take(WORD_CHARS).collect())
        .collect()
}

/// `CREATED_AT.ID` of the last row of a page.
pub fn encode_cursor(c: &Cursor) -> String {
    format!("{}.{}", c.created_at, c.id)
}

fn decode_cursor(text: &str) -> Option<Cursor> {
    let (at, id) = text.split_once('.')?;
    let created_at = at.parse().ok()?;
    survey::is_id(id).then(|| Cursor {
        created_at,
        id: id.to_owned(),
    })
}

/// The per-class cutoffs of "overdue" at `now`: an answer created before its
/// class's cutoff and still new is overdue.
pub fn overdue_cutoffs(site: &Site, now: i64) -> Vec<(String, i64)> {
    survey::Class::ALL
        .into_iter()
        .filter_map(|c| {
            let d = site.inbox.deadline(c)?;
            Some((
                c.as_str().to_owned(),
                now - i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            ))
        })
        .collect()
}

impl ListQuery {
    /// The filters of `site`'s inbox, or the parameter at fault.
    pub fn parse(&self, site: &Site, now: i64) -> Result<Asked, ParamError> {
        let statuses = match given(&self.status).as_deref() {
            None => Vec::new(),
            Some("all") => Status::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            Some(list) => list
                .split(',')
                .map(|s| {
                    Status::parse(s)
                        .map(|s| s.as_str().to_owned())
                        .ok_or_else(|| {
                            (
                                "status",
                                format!("`{s}`: new, open, waiting, resolved, dismissed or all"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let owner = match given(&self.owner).as_deref() {
            None => OwnerAsked::Any,
            Some("me") => OwnerAsked::Me,
            Some("none") => OwnerAsked::Unassigned,
            Some(email) if email.contains('@') => OwnerAsked::Email(email.to_lowercase()),
            Some(other) => {
                return Err(("owner", format!("`{other}`: me, none or a member's email")));
            }
        };
        let class = given(&self.class);
        if let Some(c) = &class
            && survey::Class::from_name(c).is_none()
        {
            return Err((
                "class",
                format!("unknown class `{c}`: detractor, passive or promoter"),
            ));
        }
        let tz = time_zone(self.tz.as_deref())?;
        let (from, to) = time_range(self.from.as_deref(), self.to.as_deref(), &tz)?;
        let commented = match given(&self.commented).as_deref() {
            None => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(_) => return Err(("commented", "yes or no".into())),
        };
        let overdue = match given(&self.overdue).as_deref() {
            None | Some("no") => false,
            Some("yes") => true,
            Some(_) => return Err(("overdue", "yes or no".into())),
        };
        let cursor = match given(&self.cursor) {
            None => None,
            Some(c) => Some(
                decode_cursor(&c)
                    .ok_or(("cursor", "a next_cursor of an earlier page".to_owned()))?,
            ),
        };
        let limit = self.limit.unwrap_or(PAGE_ROWS);
        if !(1..=MAX_ROWS).contains(&limit) {
            return Err(("limit", format!("between 1 and {MAX_ROWS}")));
        }
        let words = given(&self.q).map(|q| words(&q)).unwrap_or_default();
        Ok(Asked {
            filter: InboxFilter {
                statuses,
                owner: OwnerFilter::Any,
                class,
                band: given(&self.band),
                survey: given(&self.survey),
                step: given(&self.step),
                from,
                to,
                commented,
                tag: given(&self.tag),
                words,
                overdue: overdue.then(|| overdue_cutoffs(site, now)),
            },
            owner,
            cursor,
            limit,
            overdue,
        })
    }

    /// The query string of these filters (for links: a page's next one, a
    /// status's tab), without cursor and limit.
    pub fn link(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("owner", &self.owner),
            ("class", &self.class),
            ("band", &self.band),
            ("survey", &self.survey),
            ("step", &self.step),
            ("tag", &self.tag),
            ("q", &self.q),
            ("from", &self.from),
            ("to", &self.to),
            ("tz", &self.tz),
            ("commented", &self.commented),
            ("overdue", &self.overdue),
        ];
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            if let Some(v) = given(v) {
                out.append_pair(k, &v);
            }
        }
        out.finish()
    }
}

/// A change of an answer as the API takes it (`PATCH`): only the fields
/// given change.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    pub status: Option<Status>,
    /// With `status: resolved`: one of the site's resolutions.
    pub resolution: Option<String>,
    /// A member's email, or null for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    /// The answer's whole list of tags (made when new).
    pub tags: Option<Vec<String>>,
}

/// A field that may be given as null (`Some(None)`), apart from one not
/// given at all (`None`, by `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// [`ChangeBody`] checked against the site, the owner still an email.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub status: Option<Status>,
    pub resolution: Option<String>,
    pub owner: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// A tag's name as kept: trimmed, 1–40 characters, no `;` or `,` (lists
/// use them), no control characters.
pub fn tag_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > TAG_CHARS {
        return Err(format!("a tag has 1 to {TAG_CHARS} characters"));
    }
    if name.contains([';', ',']) || name.chars().any(char::is_control) {
        return Err(format!(
            "`{name}`: no ';', ',' or control characters in a tag"
        ));
    }
    Ok(name.to_owned())
}

impl ChangeBody {
    /// The change, or the field at fault.
    pub fn check(self, site: &Site) -> Result<Change, ParamError> {
        if self.status.is_none() && self.owner.is_none() && self.tags.is_none() {
            return Err((
                "body",
                "nothing to change: give status, owner or tags".into(),
            ));
        }
        let resolution = match (self.status, self.resolution) {
            (Some(Status::Resolved), Some(r)) => {
                if !site.inbox.resolutions.contains(&r) {
                    return Err((
                        "resolution",
                        format!(
                            "`{r}` is none of this site's resolutions: {}",
                            site.inbox.resolutions.join(", ")
                        ),
                    ));
                }
                Some(r)
            }
            (Some(Status::Resolved), None) if site.inbox.require_resolution => {
                return Err((
                    "resolution",
                    format!(
                        "resolving needs one of: {}",
                        site.inbox.resolutions.join(", ")
                    ),
                ));
            }
            (_, Some(_)) => {
                return Err((
                    "resolution",
                    "a resolution goes with status resolved".into(),
                ));
            }
            (_, None) => None,
        };
        let tags = match self.tags {
            None => None,
            Some(list) => {
                if list.len() > MAX_TAGS {
                    return Err(("tags", format!("at most {MAX_TAGS} tags")));
                }
                let mut kept: Vec<String> = Vec::new();
                for t in list {
                    let t = tag_name(&t).map_err(|m| ("tags", m))?;
                    if !kept.iter().any(|k| k.to_lowercase() == t.to_lowercase()) {
                        kept.push(t);
                    }
                }
                Some(kept)
            }
        };
        let owner = match self.owner {
            None => None,
            Some(None) => Some(None),
            Some(Some(email)) if email.contains('@') => Some(Some(email.trim().to_lowercase())),
            Some(Some(other)) => {
                return Err(("owner", format!("`{other}` is not a member's email")));
            }
        };
        Ok(Change {
            status: self.status,
            resolution,
            owner,
            tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_letters_and_digits_of_any_script() {
        assert_eq!(
            words("Llegó  tarde, ¡muy tarde! 2 veces"),
            ["Llegó", "tarde", "muy", "tarde", "2", "veces"]
        );
        assert_eq!(words("\" OR 1=1 --"), ["OR", "1", "1"]);
        assert_eq!(words("a b c d e f g h i j").len(), MAX_WORDS);
    }

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_make() {
        let c = Cursor {
            created_at: 1_764_000_000_123,
            id: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        assert_eq!(decode_cursor("abc"), None);
        assert_eq!(decode_cursor("12.x y"), None);
    }

    #[test]
    fn tags_are_short_and_plain() {
        assert_eq!(tag_name("  Courier ").unwrap(), "Courier");
        assert!(tag_name("").is_err());
        assert!(tag_name("a;b").is_err());
        assert!(tag_name(&"x".repeat(41)).is_err());
    }
}
