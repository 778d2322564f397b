//! Exports for analysts: one row per answer in a fixed, documented column order,
//! as CSV, JSON or NDJSON, filtered, streamed so memory does not grow with the
//! number of answers. The HTTP endpoint and `pulso export` both use
//! [`export_stream`], so they produce the same bytes.

use std::str::FromStr;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::store::{AnswerRow, Filter, Segment, SegmentOf, Store, StoreError};

/// The export columns, in order. Never reorder or remove; add at the end.
pub const COLUMNS: [&str; 27] = [
    "id",
    "created_at",
    "updated_at",
    "site",
    "survey",
    "step",
    "page",
    "locale",
    "score",
    "class",
    "band",
    "first_survey",
    "follow_up",
    "reason_ids",
    "reason_texts",
    "other_text",
    "open_text",
    "respondent",
    "user_id",
    "props",
    "user_verified",
    "status",
    "owner",
    "tags",
    "resolved_at",
    "traits",
    "cta",
];

/// Rows are handed over in chunks of about this many bytes.
const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Ndjson,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            _ => Err(format!("unknown format `{s}`: csv, json or ndjson")),
        }
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
        }
    }
}

/// A site's answers in `format`, as a stream of byte chunks. A database error
/// ends the stream with that error (the HTTP body is then cut, not completed).
pub fn export_stream(
    store: Store,
    site: String,
    filter: Filter,
    format: Format,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    export_stream_then(store, site, filter, format, None)
}

/// How an export ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ended {
    /// Rows written to the stream.
    pub rows: u64,
    /// Every row was: no database error, the reader did not leave.
    pub complete: bool,
}

/// [`export_stream`], telling `ended` how it ended (for the audit log).
pub fn export_stream_then(
    store: Store,
    site: String,
    filter: Filter,
    format: Format,
    ended: Option<tokio::sync::oneshot::Sender<Ended>>,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, StoreError>>(4);
    tokio::spawn(async move {
        let mut out = Writer::new(format);
        let complete = write_rows(&store, &site, &filter, &mut out, &tx).await;
        let rows = out.rows;
        let complete = complete && tx.send(Ok(out.finish())).await.is_ok();
        if let Some(ended) = ended {
            let _ = ended.send(Ended { rows, complete });
        }
    });
    ReceiverStream::new(rx)
}

/// Writes every row into `out`, sending full chunks on; `false` if the
/// database failed or the reader left.
async fn write_rows(
    store: &Store,
    site: &str,
    filter: &Filter,
    out: &mut Writer,
    tx: &mpsc::Sender<Result<Bytes, StoreError>>,
) -> bool {
    let mut rows = std::pin::pin!(store.answers(site, filter));
    while let Some(row) = rows.next().await {
        match row {
            Ok(row) => {
                out.row(&row);
                if out.buffered() >= CHUNK_BYTES && tx.send(Ok(out.take())).await.is_err() {
                    return false; // the client went away
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return false;
            }
        }
    }
    true
}

/// Writes rows of one format into a buffer that is handed over in chunks.
struct Writer {
    format: Format,
    csv: csv::Writer<Vec<u8>>,
    buf: Vec<u8>,
    rows: u64,
}

impl Writer {
    fn new(format: Format) -> Writer {
        let mut w = Writer {
            format,
            csv: csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES + 4096)),
            buf: Vec::with_capacity(CHUNK_BYTES + 4096),
            rows: 0,
        };
        match format {
            // Writing into memory cannot fail.
            Format::Csv => drop(w.csv.write_record(COLUMNS)),
            Format::Json => w.buf.push(b'['),
            Format::Ndjson => {}
        }
        w
    }

    fn row(&mut self, row: &AnswerRow) {
        match self.format {
            Format::Csv => {
                let _ = self
                    .csv
                    .write_record(csv_record(row).iter().map(|c| neutralise(c).into_owned()));
            }
            Format::Json => {
                if self.rows > 0 {
                    self.buf.push(b',');
                }
                self.buf.push(b'\n');
                let _ = serde_json::to_writer(&mut self.buf, &JsonRow::from(row));
            }
            Format::Ndjson => {
                let _ = serde_json::to_writer(&mut self.buf, &JsonRow::from(row));
                self.buf.push(b'\n');
            }
        }
        self.rows += 1;
    }

    fn buffered(&self) -> usize {
        match self.format {
            Format::Csv => self.csv.get_ref().len(),
            _ => self.buf.len(),
        }
    }

    /// What was written so far.
    fn take(&mut self) -> Bytes {
        match self.format {
            Format::Csv => {
                // The writer hands out its buffer only by value: swap in a new one.
                let full = std::mem::replace(&mut self.csv, csv_writer());
                Bytes::from(full.into_inner().unwrap_or_default())
            }
            _ => Bytes::from(std::mem::take(&mut self.buf)),
        }
    }

    fn finish(mut self) -> Bytes {
        if self.format == Format::Json {
            self.buf
                .extend_from_slice(if self.rows > 0 { b"\n]\n" } else { b"]\n" });
        }
        self.take()
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES + 4096))
}

fn csv_record(r: &AnswerRow) -> [String; COLUMNS.len()] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.id.clone(),
        rfc3339(r.created_at),
        rfc3339(r.updated_at),
        r.site.clone(),
        r.survey.clone(),
        opt(&r.step),
        opt(&r.page),
        r.locale.clone(),
        r.score.to_string(),
        r.class.clone(),
        r.band.clone(),
        r.first_survey.map(|f| f.to_string()).unwrap_or_default(),
        opt(&r.follow_up),
        opt(&r.reason_ids),
        opt(&r.reason_texts),
        opt(&r.other_text),
        opt(&r.open_text),
        r.respondent.clone(),
        opt(&r.user_id),
        r.props.clone(),
        r.user_verified.map(|f| f.to_string()).unwrap_or_default(),
        r.status.clone(),
        opt(&r.owner),
        r.tags.join(";"),
        r.resolved_at.map(rfc3339).unwrap_or_default(),
        r.traits.clone().unwrap_or_else(|| "{}".to_owned()),
        cta(r).unwrap_or_default().to_owned(),
    ]
}

/// The thank-you's call to action as exported: `offered`, `clicked`, or
/// nothing when none was offered.
fn cta(r: &AnswerRow) -> Option<&'static str> {
    r.cta
        .map(|clicked| if clicked { "clicked" } else { "offered" })
}

/// A row of the JSON and NDJSON exports: the CSV's columns, in the same order,
/// with their JSON types (numbers, booleans, lists, the props object).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ExportRow)]
pub struct JsonRow<'a> {
    id: &'a str,
    created_at: String,
    updated_at: String,
    site: &'a str,
    survey: &'a str,
    step: Option<&'a str>,
    page: Option<&'a str>,
    locale: &'a str,
    score: i64,
    class: &'a str,
    band: &'a str,
    first_survey: Option<bool>,
    follow_up: Option<&'a str>,
    reason_ids: Vec<&'a str>,
    reason_texts: Vec<&'a str>,
    other_text: Option<&'a str>,
    open_text: Option<&'a str>,
    respondent: &'a str,
    user_id: Option<&'a str>,
    #[schema(value_type = Object)]
    props: &'a serde_json::value::RawValue,
    user_verified: Option<bool>,
    /// new, open, waiting, resolved or dismissed.
    status: &'a str,
    /// The owner's email.
    owner: Option<&'a str>,
    tags: Vec<&'a str>,
    resolved_at: Option<String>,
    /// The traits of `identify` the site keeps (`keep_traits`).
    #[schema(value_type = Object)]
    traits: &'a serde_json::value::RawValue,
    /// The thank-you's call to action: `offered`, `clicked`, or `null` when
    /// none was offered.
    cta: Option<&'static str>,
}

impl<'a> From<&'a AnswerRow> for JsonRow<'a> {
    fn from(r: &'a AnswerRow) -> JsonRow<'a> {
        let list = |v: &'a Option<String>, sep: &str| -> Vec<&'a str> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| s.split(sep).collect())
                .unwrap_or_default()
        };
        let empty: &'static serde_json::value::RawValue =
            serde_json::from_str("{}").expect("an empty object");
        JsonRow {
            id: &r.id,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            site: &r.site,
            survey: &r.survey,
            step: r.step.as_deref(),
            page: r.page.as_deref(),
            locale: &r.locale,
            score: r.score,
            class: &r.class,
            band: &r.band,
            first_survey: r.first_survey,
            follow_up: r.follow_up.as_deref(),
            reason_ids: list(&r.reason_ids, ";"),
            reason_texts: list(&r.reason_texts, "; "),
            other_text: r.other_text.as_deref(),
            open_text: r.open_text.as_deref(),
            respondent: &r.respondent,
            user_id: r.user_id.as_deref(),
            // Stored as JSON text by the collector itself.
            props: serde_json::from_str(&r.props).unwrap_or(empty),
            user_verified: r.user_verified,
            status: &r.status,
            owner: r.owner.as_deref(),
            tags: r.tags.iter().map(String::as_str).collect(),
            resolved_at: r.resolved_at.map(rfc3339),
            traits: r
                .traits
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(empty),
            cta: cta(r),
        }
    }
}

/// Unix milliseconds as RFC 3339 UTC, always with milliseconds, e.g.
/// `2026-11-24T06:13:53.123Z` (a fixed width sorts and parses alike everywhere).
pub fn rfc3339(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// A cell a spreadsheet would read as a formula gets a leading `'`, the usual
/// defence against CSV injection; nothing else is changed.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A parameter at fault and what is wrong with it.
pub type ParamError = (&'static str, String);

/// What an export asks for, from a query string or the command line.
#[derive(Clone, Debug, Default, serde::Deserialize, clap::Args, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// csv (default), json or ndjson.
    #[arg(long)]
    pub format: Option<String>,
    /// From this RFC 3339 time, or the start of this date (YYYY-MM-DD) in `tz`.
    #[arg(long)]
    pub from: Option<String>,
    /// Up to this RFC 3339 time (excluded), or the end of this date in `tz`.
    #[arg(long)]
    pub to: Option<String>,
    /// IANA time zone for dates (default UTC), e.g. Europe/Madrid.
    #[arg(long)]
    pub tz: Option<String>,
    /// Only this survey.
    #[arg(long)]
    pub survey: Option<String>,
    /// Only this funnel step.
    #[arg(long)]
    pub step: Option<String>,
    /// Only this NPS class: detractor, passive or promoter.
    #[arg(long)]
    pub class: Option<String>,
    /// Only this band of the survey.
    #[arg(long)]
    pub band: Option<String>,
    /// Answers dismissed in the inbox (spam, tests): exclude (default),
    /// include, or only.
    #[arg(long)]
    pub dismissed: Option<String>,
    /// Only answers with these props: `KEY:VALUE`, several comma-separated.
    #[arg(long)]
    pub prop: Option<String>,
    /// Only answers with these kept traits (`keep_traits`): `KEY:VALUE`,
    /// several comma-separated.
    #[arg(long = "trait")]
    #[serde(rename = "trait")]
    #[param(rename = "trait")]
    pub traits: Option<String>,
    /// The report only: the NPS broken down by a prop or a kept trait,
    /// `prop:KEY` or `trait:KEY`.
    #[arg(long)]
    pub by: Option<String>,
}

impl Params {
    /// The format, filter and time zone asked for; `Err` names the parameter at fault.
    pub fn parse(&self) -> Result<Asked, ParamError> {
        let format = match self.format.as_deref() {
            None | Some("") => Format::Csv,
            Some(f) => f.parse().map_err(|e| ("format", e))?,
        };
        let tz = time_zone(self.tz.as_deref())?;
        let (from, to) = time_range(self.from.as_deref(), self.to.as_deref(), &tz)?;
        let class = self.class.clone().filter(|c| !c.is_empty());
        if let Some(c) = &class
            && survey::Class::from_name(c).is_none()
        {
            return Err((
                "class",
                format!("unknown class `{c}`: detractor, passive or promoter"),
            ));
        }
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let dismissed = match self.dismissed.as_deref() {
            None | Some("") | Some("exclude") => crate::store::Dismissed::Exclude,
            Some("include") => crate::store::Dismissed::Include,
            Some("only") => crate::store::Dismissed::Only,
            Some(other) => {
                return Err(("dismissed", format!("`{other}`: exclude, include or only")));
            }
        };
        let mut segments = segments_of("prop", SegmentOf::Prop, self.prop.as_deref())?;
        segments.extend(segments_of(
            "trait",
            SegmentOf::Trait,
            self.traits.as_deref(),
        )?);
        let by = match self.by.as_deref() {
            None | Some("") => None,
            Some(by) => Some(
                by.split_once(':')
                    .and_then(|(of, key)| {
                        let of = match of {
                            "prop" => SegmentOf::Prop,
                            "trait" => SegmentOf::Trait,
                            _ => return None,
                        };
                        survey::is_id(key).then(|| (of, key.to_owned()))
                    })
                    .ok_or_else(|| ("by", format!("`{by}`: prop:KEY or trait:KEY")))?,
            ),
        };
        Ok(Asked {
            format,
            filter: Filter {
                from,
                to,
                survey: given(&self.survey),
                step: given(&self.step),
                class,
                band: given(&self.band),
                dismissed,
                segments,
            },
            tz,
            by,
        })
    }
}

/// [`Params`] checked.
pub struct Asked {
    pub format: Format,
    pub filter: Filter,
    /// Where dates and weeks begin and end.
    pub tz: jiff::tz::TimeZone,
    /// The report's breakdown by a prop or kept trait.
    pub by: Option<(SegmentOf, String)>,
}

/// `KEY:VALUE[,KEY:VALUE…]` of parameter `name` as segments of `of`.
fn segments_of(
    name: &'static str,
    of: SegmentOf,
    text: Option<&str>,
) -> Result<Vec<Segment>, ParamError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|pair| {
            let (key, value) = pair
                .split_once(':')
                .filter(|(key, _)| survey::is_id(key))
                .ok_or_else(|| (name, format!("`{pair}`: KEY:VALUE, the key an id")))?;
            Ok(Segment {
                of,
                key: key.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

/// The IANA time zone named by `tz`, UTC when none.
pub fn time_zone(tz: Option<&str>) -> Result<jiff::tz::TimeZone, ParamError> {
    match tz {
        None | Some("") => Ok(jiff::tz::TimeZone::UTC),
        Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
            (
                "tz",
                format!("unknown time zone `{name}` (e.g. Europe/Madrid)"),
            )
        }),
    }
}

/// Parses the time range of an export or report: RFC 3339 instants, or plain
/// dates (`2026-11-24`) meaning that day's start (`from`) or end (`to`) in `tz`.
/// Returns Unix milliseconds, `to` exclusive. A bound past what a time can
/// be (the end of 9999-12-31) is no bound; a `to` before `from` is a range
/// that holds nothing (not an error: no answers fall in it).
pub fn time_range(
    from: Option<&str>,
    to: Option<&str>,
    zone: &jiff::tz::TimeZone,
) -> Result<(Option<i64>, Option<i64>), ParamError> {
    let instant =
        |field: &'static str, text: &str, end: bool| -> Result<i64, (&'static str, String)> {
            if let Ok(t) = jiff::Timestamp::from_str(text) {
                return Ok(t.as_millisecond());
            }
            let date = jiff::civil::Date::from_str(text).map_err(|_| {
                (
                    field,
                    format!("`{text}` is neither an RFC 3339 time nor a date (YYYY-MM-DD)"),
                )
            })?;
            let day = if end { date.tomorrow() } else { Ok(date) };
            Ok(day
                .and_then(|d| d.to_zoned_datetime(zone.clone()))
                .map_or(if end { i64::MAX } else { i64::MIN }, |z| {
                    z.timestamp().as_millisecond()
                }))
        };
    let from = from
        .filter(|s| !s.is_empty())
        .map(|s| instant("from", s, false))
        .transpose()?;
    let to = to
        .filter(|s| !s.is_empty())
        .map(|s| instant("to", s, true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Ok((Some(f), Some(f)));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@cmd"), "'@cmd");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("fine = good"), "fine = good");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn times_are_utc_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }

    #[test]
    fn dates_are_day_boundaries_in_the_time_zone() {
        let utc = jiff::tz::TimeZone::UTC;
        let madrid = time_zone(Some("Europe/Madrid")).unwrap();
        // Madrid is UTC+1 in November: its 24th runs 23rd 23:00 UTC to 24th 23:00 UTC.
        let (from, to) = time_range(Some("2026-11-24"), Some("2026-11-24"), &madrid).unwrap();
        assert_eq!(rfc3339(from.unwrap()), "2026-11-23T23:00:00.000Z");
        assert_eq!(rfc3339(to.unwrap()), "2026-11-24T23:00:00.000Z");
        let (from, to) = time_range(Some("2026-11-24T10:00:00Z"), None, &utc).unwrap();
        assert_eq!(rfc3339(from.unwrap()), "2026-11-24T10:00:00.000Z");
        assert_eq!(to, None);
        assert_eq!(
            time_range(Some("yesterday"), None, &utc).unwrap_err().0,
            "from"
        );
        assert_eq!(time_zone(Some("Mars/Olympus")).unwrap_err().0, "tz");
        // Backwards: a range that holds nothing, not an error.
        let (from, to) = time_range(Some("2026-11-26"), Some("2026-11-24"), &utc).unwrap();
        assert_eq!(from, to);
        // Past the last day a time can have: no bound.
        let (_, to) = time_range(None, Some("9999-12-31"), &utc).unwrap();
        assert_eq!(to, Some(i64::MAX));
    }
}
