//! A site's inbox as `pulso.toml` sets it (`[sites.KEY.inbox]`): how soon each
//! class must be acted on, the resolutions to close with, how long a reply
//! waits for its respondent, the rules that give new answers an owner, and
//! the saved replies agents start from.

use std::time::Duration;

use serde::Deserialize;
use survey::{Class, Survey};

/// Deadlines when none are set: detractors within a day, passives within
/// three, promoters none (the close-the-loop practice).
const DEFAULT_DEADLINES: [Option<Duration>; 3] = [
    Some(Duration::from_secs(24 * 3600)),
    Some(Duration::from_secs(72 * 3600)),
    None,
];

/// Days a reply waits for its respondent to come back, by default.
pub const DEFAULT_REPLY_DAYS: u32 = 30;

/// A site's inbox settings.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxSettings {
    /// Per class (detractor, passive, promoter): how long an answer may stay
    /// `new` before it is overdue.
    pub deadlines: [Option<Duration>; 3],
    /// What a resolved answer may be resolved as.
    pub resolutions: Vec<String>,
    /// Resolving needs one of `resolutions`.
    pub require_resolution: bool,
    pub reply_days: u32,
    /// The first that matches a new answer gives its owner.
    pub rules: Vec<Rule>,
    pub replies: Vec<SavedReply>,
}

impl Default for InboxSettings {
    fn default() -> InboxSettings {
        InboxSettings {
            deadlines: DEFAULT_DEADLINES,
            resolutions: Vec::new(),
            require_resolution: false,
            reply_days: DEFAULT_REPLY_DAYS,
            rules: Vec::new(),
            replies: Vec::new(),
        }
    }
}

impl InboxSettings {
    /// How long an answer of `class` may stay new.
    pub fn deadline(&self, class: Class) -> Option<Duration> {
        self.deadlines[class as usize]
    }
}

/// Who owns the new answers a rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// This member (by email).
    Member(String),
    /// The member whose email the answer's prop of this name holds (an
    /// `account_manager` the page passes).
    Prop(String),
}

/// A rule of assignment: every condition it names must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub class: Option<Class>,
    pub band: Option<String>,
    pub survey: Option<String>,
    pub step: Option<String>,
    pub owner: Owner,
}

/// A reply agents may start from, in one locale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedReply {
    pub id: String,
    pub locale: String,
    pub title: String,
    pub text: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawInbox {
    #[serde(default)]
    deadlines: RawDeadlines,
    #[serde(default)]
    resolutions: Vec<String>,
    #[serde(default)]
    require_resolution: bool,
    reply_days: Option<u32>,
    #[serde(default)]
    assign: Vec<RawRule>,
    #[serde(default)]
    replies: Vec<RawReply>,
}

/// `"24h"`, or `"none"` for no deadline.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDeadlines {
    detractor: Option<String>,
    passive: Option<String>,
    promoter: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    class: Option<String>,
    band: Option<String>,
    survey: Option<String>,
    step: Option<String>,
    /// A member's email...
    to: Option<String>,
    /// ...or the prop that names one.
    to_prop: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    id: String,
    locale: String,
    title: String,
    text: String,
}

/// The inbox settings of a site with `surveys`, or the field at fault (its
/// path below `inbox`) and why.
pub fn check(
    raw: RawInbox,
    surveys: &[Survey],
    parse_duration: fn(&str) -> Option<Duration>,
) -> Result<InboxSettings, (String, String)> {
    let mut deadlines = DEFAULT_DEADLINES;
    for (class, value) in [
        (Class::Detractor, raw.deadlines.detractor),
        (Class::Passive, raw.deadlines.passive),
        (Class::Promoter, raw.deadlines.promoter),
    ] {
        let Some(text) = value else { continue };
        deadlines[class as usize] = if text == "none" {
            None
        } else {
            Some(
                parse_duration(&text)
                    .filter(|d| *d >= Duration::from_secs(60) && *d <= Duration::from_secs(90 * 86400))
                    .ok_or_else(|| {
                        (
                            format!("deadlines.{}", class.as_str()),
                            format!("`{text}` is not a duration between 1 minute and 90 days, like \"24h\", nor \"none\""),
                        )
                    })?,
            )
        };
    }
    if let Some(r) = raw.resolutions.iter().find(|r| !survey::is_id(r)) {
        return Err((
            "resolutions".into(),
            format!("`{r}` is not a resolution id (letters, digits, '-' or '_')"),
        ));
    }
    if raw.require_resolution && raw.resolutions.is_empty() {
        return Err((
            "require_resolution".into(),
            "needs a list of resolutions to choose from".into(),
        ));
    }
    let reply_days = raw.reply_days.unwrap_or(DEFAULT_REPLY_DAYS);
    if !(1..=365).contains(&reply_days) {
        return Err(("reply_days".into(), "between 1 and 365 days".into()));
    }
    let mut rules = Vec::new();
    for (i, r) in raw.assign.into_iter().enumerate() {
        let at = |name: &str| format!("assign[{i}].{name}");
        let class = match r.class {
            None => None,
            Some(c) => Some(Class::from_name(&c).ok_or_else(|| {
                (
                    at("class"),
                    format!("`{c}` is not a class (detractor, passive, promoter)"),
                )
            })?),
        };
        if let Some(s) = &r.survey
            && !surveys.iter().any(|x| &x.id == s)
        {
            return Err((at("survey"), format!("no survey `{s}` in this site")));
        }
        if let Some(b) = &r.band
            && !surveys.iter().any(|s| s.bands.iter().any(|x| &x.id == b))
        {
            return Err((at("band"), format!("no band `{b}` in this site's surveys")));
        }
        if let Some(s) = r.step.as_deref().filter(|s| !survey::is_id(s)) {
            return Err((at("step"), format!("`{s}` is not a step name")));
        }
        let owner = match (r.to, r.to_prop) {
            (Some(email), None) if email.contains('@') => {
                Owner::Member(email.trim().to_lowercase())
            }
            (Some(email), None) => {
                return Err((at("to"), format!("`{email}` is not a member's email")));
            }
            (None, Some(prop)) if !prop.is_empty() => Owner::Prop(prop),
            _ => {
                return Err((
                    at("to"),
                    "give exactly one of `to` (an email) and `to_prop`".into(),
                ));
            }
        };
        rules.push(Rule {
            class,
            band: r.band,
            survey: r.survey,
            step: r.step,
            owner,
        });
    }
    let mut replies = Vec::new();
    for (i, r) in raw.replies.into_iter().enumerate() {
        let at = |name: &str| format!("replies[{i}].{name}");
        if !survey::is_id(&r.id) {
            return Err((at("id"), "letters, digits, '-' or '_'".into()));
        }
        if replies
            .iter()
            .any(|x: &SavedReply| x.id == r.id && x.locale == r.locale)
        {
            return Err((
                at("id"),
                format!("`{}` is used twice for `{}`", r.id, r.locale),
            ));
        }
        if r.title.trim().is_empty() || r.title.chars().count() > 100 {
            return Err((at("title"), "between 1 and 100 characters".into()));
        }
        if r.text.trim().is_empty() || r.text.chars().count() > survey::MAX_TEXT_CHARS {
            return Err((
                at("text"),
                format!("between 1 and {} characters", survey::MAX_TEXT_CHARS),
            ));
        }
        replies.push(SavedReply {
            id: r.id,
            locale: r.locale,
            title: r.title,
            text: r.text,
        });
    }
    Ok(InboxSettings {
        deadlines,
        resolutions: raw.resolutions,
        require_resolution: raw.require_resolution,
        reply_days,
        rules,
        replies,
    })
}

/// What a rule looks at in a new answer.
pub struct Seen<'a> {
    pub class: Class,
    pub band: &'a str,
    pub survey: &'a str,
    pub step: Option<&'a str>,
    /// The answer's props, to read an owner's email from.
    pub prop: &'a dyn Fn(&str) -> Option<String>,
}

impl InboxSettings {
    /// The owner (an email) the first matching rule gives a new answer.
    pub fn owner_of(&self, a: &Seen) -> Option<String> {
        self.rules.iter().find_map(|r| {
            let holds = r.class.is_none_or(|c| c == a.class)
                && r.band.as_deref().is_none_or(|b| b == a.band)
                && r.survey.as_deref().is_none_or(|s| s == a.survey)
                && r.step.as_deref().is_none_or(|s| Some(s) == a.step);
            if !holds {
                return None;
            }
            match &r.owner {
                Owner::Member(email) => Some(email.clone()),
                Owner::Prop(name) => (a.prop)(name)
                    .map(|v| v.trim().to_lowercase())
                    .filter(|v| v.contains('@')),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration(text: &str) -> Option<Duration> {
        text.strip_suffix('h')?
            .parse()
            .ok()
            .map(|h: u64| Duration::from_secs(h * 3600))
    }

    fn raw(toml_text: &str) -> RawInbox {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn deadlines_default_to_a_day_and_three_and_may_be_none() {
        let s = check(RawInbox::default(), &[], duration).unwrap();
        assert_eq!(
            s.deadline(Class::Detractor),
            Some(Duration::from_secs(86400))
        );
        assert_eq!(
            s.deadline(Class::Passive),
            Some(Duration::from_secs(3 * 86400))
        );
        assert_eq!(s.deadline(Class::Promoter), None);
        let s = check(
            raw("deadlines = { detractor = \"4h\", passive = \"none\" }"),
            &[],
            duration,
        )
        .unwrap();
        assert_eq!(
            s.deadline(Class::Detractor),
            Some(Duration::from_secs(4 * 3600))
        );
        assert_eq!(s.deadline(Class::Passive), None);
        let e = check(raw("deadlines = { detractor = \"soon\" }"), &[], duration).unwrap_err();
        assert_eq!(e.0, "deadlines.detractor");
    }

    #[test]
    fn rules_give_the_first_matching_owner() {
        let s = check(
            raw(r#"
            [[assign]]
            class = "detractor"
            step = "checkout_done"
            to = "Ana@Shop.Example"
            [[assign]]
            to_prop = "account_manager"
            "#),
            &[],
            duration,
        )
        .unwrap();
        fn props(name: &str) -> Option<String> {
            (name == "account_manager").then(|| "luis@shop.example".to_owned())
        }
        fn none(_: &str) -> Option<String> {
            None
        }
        let seen = |class, step, prop: &'static dyn Fn(&str) -> Option<String>| Seen {
            class,
            band: "b",
            survey: "s",
            step,
            prop,
        };
        assert_eq!(
            s.owner_of(&seen(Class::Detractor, Some("checkout_done"), &props))
                .as_deref(),
            Some("ana@shop.example")
        );
        assert_eq!(
            s.owner_of(&seen(Class::Promoter, Some("checkout_done"), &props))
                .as_deref(),
            Some("luis@shop.example")
        );
        assert_eq!(s.owner_of(&seen(Class::Promoter, None, &none)), None);
        let e = check(raw("[[assign]]\nclass = \"detractor\""), &[], duration).unwrap_err();
        assert_eq!(e.0, "assign[0].to");
    }

    #[test]
    fn resolutions_and_saved_replies_are_checked() {
        let e = check(raw("require_resolution = true"), &[], duration).unwrap_err();
        assert_eq!(e.0, "require_resolution");
        let e = check(raw("resolutions = [\"not ok\"]"), &[], duration).unwrap_err();
        assert_eq!(e.0, "resolutions");
        let e = check(
            raw("[[replies]]\nid = \"a\"\nlocale = \"en\"\ntitle = \"\"\ntext = \"x\""),
            &[],
            duration,
        )
        .unwrap_err();
        assert_eq!(e.0, "replies[0].title");
    }
}
