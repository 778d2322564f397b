//! Exports for analysts: one row per answer in a fixed, documented column order,
//! streamed so memory does not grow with the number of answers. The HTTP endpoint
//! and `pulso export` both use [`csv_stream`], so they produce the same bytes.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::store::{AnswerRow, Store, StoreError};

/// The export columns, in order. Never reorder or remove; add at the end.
pub const COLUMNS: [&str; 20] = [
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
];

/// Rows are written in chunks of about this many bytes.
const CHUNK_BYTES: usize = 32 * 1024;

/// The CSV export of a site as a stream of byte chunks (header row first).
pub fn csv_stream(store: Store, site: String) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, StoreError>>(4);
    tokio::spawn(async move {
        let mut out = writer();
        // Writing into a Vec cannot fail.
        let _ = out.write_record(COLUMNS);
        let mut rows = std::pin::pin!(store.answers(&site));
        while let Some(row) = rows.next().await {
            match row {
                Ok(row) => {
                    let _ =
                        out.write_record(record(&row).iter().map(|c| neutralise(c).into_owned()));
                    if out.get_ref().len() >= CHUNK_BYTES {
                        let chunk = take(&mut out);
                        if tx.send(Ok(chunk)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        let _ = tx.send(Ok(take(&mut out))).await;
    });
    ReceiverStream::new(rx)
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES + 4096))
}

/// Hands over what was written so far and starts a new buffer.
fn take(out: &mut csv::Writer<Vec<u8>>) -> Bytes {
    let full = std::mem::replace(out, writer());
    Bytes::from(full.into_inner().unwrap_or_default())
}

fn record(r: &AnswerRow) -> [String; 20] {
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
    ]
}

/// Unix milliseconds as RFC 3339 UTC, always with milliseconds, e.g.
/// `2026-11-24T06:13:53.123Z` (a fixed width sorts and parses alike everywhere).
pub fn rfc3339(millis: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A cell a spreadsheet would read as a formula gets a leading `'`, the usual
/// defence against CSV injection; nothing else is changed.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
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
}
