//! When a survey is due and how often it may be shown: URL rules, targeting
//! conditions, and the site's theme. The loader (plain JS) evaluates them; this
//! module checks them when the configuration is read, and its `matches` and
//! `holds` are the reference the loader's tests hold it to.

use serde::{Deserialize, Serialize};

use crate::answer::Prop;

/// A page address rule, matched against the path of the page (no query string).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UrlRule {
    /// The path exactly: `{ exact = "/thanks" }`.
    Exact(String),
    /// Paths that start with it: `{ prefix = "/account/" }`.
    Prefix(String),
    /// `*` any characters but `/`, `**` any characters, `?` one character but
    /// `/`: `{ glob = "/orders/*/done" }`.
    Glob(String),
}

impl UrlRule {
    fn pattern(&self) -> &str {
        match self {
            UrlRule::Exact(p) | UrlRule::Prefix(p) | UrlRule::Glob(p) => p,
        }
    }

    /// The rule as an anchored JavaScript regular expression over the path,
    /// the form the loader runs.
    pub fn to_regex(&self) -> String {
        let mut out = String::from("^");
        match self {
            UrlRule::Exact(p) => {
                escape_into(&mut out, p);
                out.push('$');
            }
            UrlRule::Prefix(p) => escape_into(&mut out, p),
            UrlRule::Glob(p) => {
                let mut chars = p.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '*' if chars.peek() == Some(&'*') => {
                            chars.next();
                            out.push_str(".*");
                        }
                        '*' => out.push_str("[^/]*"),
                        '?' => out.push_str("[^/]"),
                        c => escape_into(&mut out, c.encode_utf8(&mut [0; 4])),
                    }
                }
                out.push('$');
            }
        }
        out
    }

    /// Whether `path` matches; the same meaning as the loader's regular expression.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            UrlRule::Exact(p) => path == p,
            UrlRule::Prefix(p) => path.starts_with(p.as_str()),
            UrlRule::Glob(p) => glob(p.as_bytes(), path.as_bytes()),
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        let p = self.pattern();
        if !p.starts_with('/') {
            return Err(format!(
                "`{p}` must start with `/` (rules match the page's path)"
            ));
        }
        if p.contains(['?', '#']) && !matches!(self, UrlRule::Glob(_)) || p.contains('#') {
            return Err(format!(
                "`{p}`: rules match the path only, without `?` or `#`"
            ));
        }
        if p.len() > 500 {
            return Err("a URL rule is at most 500 characters".into());
        }
        Ok(())
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if "\\^$.|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

fn glob(pattern: &[u8], path: &[u8]) -> bool {
    match pattern {
        [] => path.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=path.len()).any(|i| glob(rest, &path[i..])),
        [b'*', rest @ ..] => {
            let end = path.iter().position(|c| *c == b'/').unwrap_or(path.len());
            (0..=end).any(|i| glob(rest, &path[i..]))
        }
        [b'?', rest @ ..] => path.first().is_some_and(|c| *c != b'/') && glob(rest, &path[1..]),
        [c, rest @ ..] => path.first() == Some(c) && glob(rest, &path[1..]),
    }
}

/// A targeting condition on a trait given to `identify` or a property given
/// to `track`: `{ trait = "plan", equals = "pro" }`, `{ prop = "total", gte = 50 }`,
/// `{ trait = "country", one_of = ["es", "mx"] }`. Every condition of a survey
/// must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default, rename = "trait", skip_serializing_if = "Option::is_none")]
    pub trait_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prop: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Prop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Prop>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<f64>,
}

impl Condition {
    pub(crate) fn check(&self) -> Result<(), String> {
        match (&self.trait_, &self.prop) {
            (Some(k), None) | (None, Some(k)) if !k.trim().is_empty() => {}
            _ => return Err("a condition names one `trait` or one `prop`".into()),
        }
        let equal = self.equals.is_some() as u8 + self.one_of.is_some() as u8;
        let compare = [self.gt, self.gte, self.lt, self.lte]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if equal + (compare > 0) as u8 != 1 {
            return Err(
                "a condition has one test: `equals`, `one_of`, or numeric `gt`/`gte`/`lt`/`lte`"
                    .into(),
            );
        }
        if self.one_of.as_ref().is_some_and(Vec::is_empty) {
            return Err("`one_of` needs at least one value".into());
        }
        let values = self.equals.iter().chain(self.one_of.iter().flatten());
        let finite = [self.gt, self.gte, self.lt, self.lte]
            .into_iter()
            .flatten()
            .all(f64::is_finite)
            && values
                .into_iter()
                .all(|v| !matches!(v, Prop::Number(n) if !n.is_finite()));
        if !finite {
            return Err("numbers in a condition must be finite".into());
        }
        Ok(())
    }

    /// Whether the condition holds for these traits and properties; the loader
    /// implements the same rule in JS.
    pub fn holds(&self, traits: &[(&str, Prop)], props: &[(&str, Prop)]) -> bool {
        let (name, from) = match (&self.trait_, &self.prop) {
            (Some(t), _) => (t, traits),
            (_, Some(p)) => (p, props),
            _ => return false,
        };
        let value = from.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        if let Some(want) = &self.equals {
            return value == Some(want);
        }
        if let Some(list) = &self.one_of {
            return value.is_some_and(|v| list.contains(v));
        }
        let Some(Prop::Number(n)) = value else {
            return false;
        };
        self.gt.is_none_or(|x| *n > x)
            && self.gte.is_none_or(|x| *n >= x)
            && self.lt.is_none_or(|x| *n < x)
            && self.lte.is_none_or(|x| *n <= x)
    }
}

/// A [`Condition`] as the loader runs it: the value is one of a list, or a
/// number in a closed range (an exclusive bound moved to the next double, so
/// the range means exactly what the condition said). One form for every test
/// keeps the loader's code, paid on every page, small.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default, rename = "trait", skip_serializing_if = "Option::is_none")]
    pub trait_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prop: Option<String>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Prop>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Condition {
    /// The condition in the loader's form.
    pub fn compile(&self) -> Target {
        let highest = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let lowest = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let one_of = match (&self.equals, &self.one_of) {
            (Some(v), _) => Some(vec![v.clone()]),
            (None, list) => list.clone(),
        };
        let ranged = one_of.is_none();
        Target {
            trait_: self.trait_.clone(),
            prop: self.prop.clone(),
            one_of,
            min: highest(self.gte, self.gt.map(f64::next_up)).filter(|_| ranged),
            max: lowest(self.lte, self.lt.map(f64::next_down)).filter(|_| ranged),
        }
    }
}

impl Target {
    /// The loader's rule, in Rust: the same verdicts as [`Condition::holds`].
    pub fn holds(&self, traits: &[(&str, Prop)], props: &[(&str, Prop)]) -> bool {
        let (name, from) = match (&self.trait_, &self.prop) {
            (Some(t), _) => (t, traits),
            (_, Some(p)) => (p, props),
            _ => return false,
        };
        let value = from.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        if let Some(list) = &self.one_of {
            return value.is_some_and(|v| list.contains(v));
        }
        let Some(Prop::Number(n)) = value else {
            return false;
        };
        self.min.is_none_or(|m| *n >= m) && self.max.is_none_or(|m| *n <= m)
    }
}

/// Where the card sits on the screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    #[default]
    BottomRight,
    BottomLeft,
    BottomCenter,
}

/// Light, dark, or following the visitor's system setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    #[default]
    Light,
    Dark,
    Auto,
}

/// The card's look on a site (`[sites.KEY.theme]`); hosts can still override
/// the `--pulso-*` custom properties on the `pulso-survey` element.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// Buttons, the chosen score, focus rings: a CSS colour (`#0b57d0`, `rgb(...)`, a name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent: Option<String>,
    /// A CSS font family list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    /// Corner radius of the card, a CSS length (`12px`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<String>,
    #[serde(default)]
    pub position: Position,
    #[serde(default)]
    pub scheme: Scheme,
    /// The above as the card's stylesheet ([`Theme::to_css`]), which the
    /// card adopts as it is: made by the collector (which checked the
    /// values) so that the card carries no code to make it. Never written in
    /// `pulso.toml`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub css: String,
}

/// The dark palette of the card's custom properties.
const DARK: &str = "--pulso-bg:#161b22;--pulso-fg:#e6edf3;--pulso-border:#30363d;\
--pulso-muted:#9da7b3;--pulso-scale-border:#8b949e;--pulso-hover:#21262d;--pulso-error:#ff7b72;";

impl Theme {
    /// The theme as CSS: custom properties on the host (the host page's own
    /// rules for `pulso-survey` still win), the card's corner of the screen,
    /// dark mode.
    pub fn to_css(&self) -> String {
        let mut css = String::from(":host{");
        for (names, value) in [
            (&["--pulso-accent", "--pulso-focus"][..], &self.accent),
            (&["--pulso-font"], &self.font),
            (&["--pulso-radius"], &self.radius),
        ] {
            for name in names.iter().filter(|_| value.is_some()) {
                css.extend([name, ":", value.as_deref().unwrap_or_default(), ";"]);
            }
        }
        if self.scheme == Scheme::Dark {
            css.push_str(DARK);
        }
        css.push('}');
        if self.scheme == Scheme::Auto {
            css.extend(["@media (prefers-color-scheme:dark){:host{", DARK, "}}"]);
        }
        css.push_str(match self.position {
            Position::BottomRight => "",
            Position::BottomLeft => ".card{right:auto;left:16px}",
            Position::BottomCenter => ".card{right:auto;left:50%;transform:translateX(-50%)}",
        });
        css
    }

    /// Values go into a stylesheet: only characters that cannot end a declaration
    /// or open a block or a URL are allowed.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !self.css.is_empty() {
            return Err((
                "css",
                "made from accent, font, radius, position and scheme: write those".into(),
            ));
        }
        for (field, value) in [
            ("accent", &self.accent),
            ("font", &self.font),
            ("radius", &self.radius),
        ] {
            if let Some(v) = value
                && (v.bytes().all(|c| c == b' ')
                    || v.len() > 200
                    || !v
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b" #%,.-_'\"()".contains(&c))
                    || v.to_ascii_lowercase()
                        .split('(')
                        .any(|f| f.ends_with("url")))
            {
                return Err((field, format!("`{v}` is not a plain CSS value")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules_match_as_their_regexes_say() {
        let rules = [
            UrlRule::Exact("/thanks".into()),
            UrlRule::Prefix("/account/".into()),
            UrlRule::Glob("/orders/*/done".into()),
            UrlRule::Glob("/help/**".into()),
        ];
        let regexes = [
            "^\\/thanks$",
            "^\\/account\\/",
            "^\\/orders\\/[^/]*\\/done$",
            "^\\/help\\/.*$",
        ];
        for (rule, regex) in rules.iter().zip(regexes) {
            assert_eq!(rule.to_regex(), regex);
        }
        let m = |i: usize, path: &str| rules[i].matches(path);
        assert!(m(0, "/thanks") && !m(0, "/thanks/again") && !m(0, "/thank"));
        assert!(m(1, "/account/") && m(1, "/account/orders/7") && !m(1, "/accounts"));
        assert!(m(2, "/orders/42/done") && !m(2, "/orders/4/2/done") && !m(2, "/orders/42/done/x"));
        assert!(m(3, "/help/") && m(3, "/help/a/b/c") && !m(3, "/helpdesk"));
        assert!(UrlRule::Glob("/a?c".into()).matches("/abc"));
        assert!(!UrlRule::Glob("/a?c".into()).matches("/a/c"));
        assert!(UrlRule::Exact("shop".into()).check().is_err());
        assert!(UrlRule::Prefix("/x?y=1".into()).check().is_err());
    }

    #[test]
    fn conditions_test_traits_and_props() {
        let traits = [
            ("plan", Prop::Text("pro".into())),
            ("seats", Prop::Number(12.0)),
        ];
        let props = [("total", Prop::Number(60.0))];
        let c = |toml: Condition| {
            toml.check().unwrap();
            toml.holds(&traits, &props)
        };
        let base = |name: &str, is_trait: bool| Condition {
            trait_: is_trait.then(|| name.to_owned()),
            prop: (!is_trait).then(|| name.to_owned()),
            ..Condition::default()
        };
        assert!(c(Condition {
            equals: Some(Prop::Text("pro".into())),
            ..base("plan", true)
        }));
        assert!(!c(Condition {
            equals: Some(Prop::Text("free".into())),
            ..base("plan", true)
        }));
        assert!(c(Condition {
            one_of: Some(vec![Prop::Text("team".into()), Prop::Text("pro".into())]),
            ..base("plan", true)
        }));
        assert!(c(Condition {
            gte: Some(50.0),
            lt: Some(100.0),
            ..base("total", false)
        }));
        assert!(!c(Condition {
            gt: Some(60.0),
            ..base("total", false)
        }));
        assert!(!c(Condition {
            gt: Some(1.0),
            ..base("missing", false)
        }));
        assert!(
            !c(Condition {
                gt: Some(1.0),
                ..base("plan", true)
            }),
            "not a number"
        );
        assert!(base("plan", true).check().is_err(), "no test");
        assert!(
            Condition {
                equals: Some(Prop::Bool(true)),
                ..Condition::default()
            }
            .check()
            .is_err()
        );
        assert!(
            Condition {
                equals: Some(Prop::Bool(true)),
                gt: Some(1.0),
                ..base("plan", true)
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn compiled_conditions_hold_exactly_where_the_conditions_do() {
        let number = |n: f64| Prop::Number(n);
        let conditions = [
            Condition {
                prop: Some("n".into()),
                gt: Some(5.0),
                ..Default::default()
            },
            Condition {
                prop: Some("n".into()),
                gte: Some(5.0),
                lt: Some(10.0),
                ..Default::default()
            },
            Condition {
                prop: Some("n".into()),
                gt: Some(0.1),
                lte: Some(0.3),
                ..Default::default()
            },
            Condition {
                prop: Some("n".into()),
                lt: Some(-2.0),
                gt: Some(-7.5),
                gte: Some(-8.0),
                ..Default::default()
            },
            Condition {
                prop: Some("n".into()),
                equals: Some(number(3.0)),
                ..Default::default()
            },
            Condition {
                trait_: Some("n".into()),
                one_of: Some(vec![number(1.0), Prop::Text("x".into())]),
                ..Default::default()
            },
            Condition {
                prop: Some("n".into()),
                equals: Some(Prop::Bool(true)),
                ..Default::default()
            },
        ];
        let mut values: Vec<Prop> = [
            -8.0,
            -7.5,
            -7.4,
            -2.0,
            -2.0000001,
            0.0,
            0.1,
            0.30000000000000004,
            0.3,
            1.0,
            3.0,
            4.999,
            5.0,
            5.000000000000001,
            9.999999999999998,
            10.0,
        ]
        .into_iter()
        .flat_map(|x: f64| [x, x.next_up(), x.next_down()])
        .map(number)
        .collect();
        values.extend([
            Prop::Text("x".into()),
            Prop::Text("5".into()),
            Prop::Bool(true),
        ]);
        for c in &conditions {
            let t = c.compile();
            for v in &values {
                let one = [("n", v.clone())];
                assert_eq!(t.holds(&one, &one), c.holds(&one, &one), "{c:?} at {v:?}");
            }
            assert_eq!(t.holds(&[], &[]), c.holds(&[], &[]));
        }
        assert_eq!(
            serde_json::to_string(&conditions[1].compile()).unwrap(),
            r#"{"prop":"n","min":5.0,"max":9.999999999999998}"#
        );
        assert_eq!(
            serde_json::to_string(&conditions[4].compile()).unwrap(),
            r#"{"prop":"n","in":[3.0]}"#
        );
    }

    #[test]
    fn theme_values_cannot_escape_their_declaration() {
        let ok = Theme {
            accent: Some("#0b57d0".into()),
            font: Some("\"Inter\", sans-serif".into()),
            radius: Some("8px".into()),
            ..Theme::default()
        };
        assert_eq!(ok.check(), Ok(()));
        for bad in [
            "red; } * { display: none",
            "url(https://x)",
            "red</style>",
            "",
        ] {
            let t = Theme {
                accent: Some(bad.into()),
                ..Theme::default()
            };
            assert_eq!(t.check().unwrap_err().0, "accent", "{bad}");
        }
        let written = Theme {
            css: ":host{}".into(),
            ..Theme::default()
        };
        assert_eq!(written.check().unwrap_err().0, "css");
    }

    #[test]
    fn the_theme_becomes_custom_properties_a_corner_and_dark_mode() {
        let theme = Theme {
            accent: Some("#0a7".into()),
            font: Some("Inter".into()),
            radius: Some("4px".into()),
            position: Position::BottomLeft,
            scheme: Scheme::Auto,
            css: String::new(),
        };
        let css = theme.to_css();
        assert!(
            css.starts_with(
                ":host{--pulso-accent:#0a7;--pulso-focus:#0a7;--pulso-font:Inter;--pulso-radius:4px;}"
            ),
            "{css}"
        );
        assert!(
            css.contains("@media (prefers-color-scheme:dark){:host{--pulso-bg:#161b22;"),
            "{css}"
        );
        assert!(css.ends_with(".card{right:auto;left:16px}"), "{css}");
        let dark = Theme {
            scheme: Scheme::Dark,
            position: Position::BottomCenter,
            ..Theme::default()
        };
        assert!(dark.to_css().starts_with(":host{--pulso-bg:#161b22;"));
        assert!(dark.to_css().contains("left:50%"));
        assert_eq!(Theme::default().to_css(), ":host{}");
    }
}
