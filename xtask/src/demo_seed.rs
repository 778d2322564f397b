//! A few answers for the demo's inbox, one or more in each state (new,
//! open with an owner and a note, waiting after a reply, resolved with a
//! resolution and a tag, dismissed), made through the collector's own API
//! the way a site and a team would: answers posted as the widget posts
//! them, the work done with the demo owner's API token. Only into a
//! database without answers, so a second `cargo xtask demo` adds nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::Result;

/// A response: status, the ETag header, the body.
struct Reply {
    status: u16,
    etag: Option<String>,
    body: String,
}

/// One HTTP/1.1 request to the collector on loopback (`Connection: close`).
fn call(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Result<Reply> {
    let mut stream =
        TcpStream::connect(address).map_err(|e| format!("cannot reach {address}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no HTTP status in the answer"))?;
    let etag = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("etag").then(|| v.trim().to_owned())
    });
    // Chunked bodies: the collector chunks only streams (exports), never these.
    Ok(Reply {
        status,
        etag,
        body: rest.to_owned(),
    })
}

fn expect(reply: Reply, what: &str) -> Result<Reply> {
    if (200..300).contains(&reply.status) {
        Ok(reply)
    } else {
        Err(format!(
            "demo seed: {what}: HTTP {} {}",
            reply.status, reply.body
        ))
    }
}

/// What happens to one seeded answer after it arrives.
enum Work {
    Nothing,
    Open {
        note: &'static str,
    },
    Waiting {
        reply: &'static str,
    },
    Resolved {
        resolution: &'static str,
        tags: &'static [&'static str],
    },
    Dismissed,
}

/// Seeds the demo's inbox through the collector at `address` unless the
/// site has answers already (asked with the site's read-only
/// `export_token`); the work is done with the owner's API token that
/// `token` makes.
pub fn seed(
    address: &str,
    export_token: &str,
    token: impl FnOnce() -> Result<String>,
    owner: &str,
) -> Result<bool> {
    let listed = expect(
        call(
            address,
            "GET",
            "/v1/sites/shop/export?format=json&dismissed=include",
            Some(export_token),
            &[],
            None,
        )?,
        "read the answers",
    )?;
    if listed.body.contains('{') {
        return Ok(false);
    }
    let token = token()?;
    let token = token.as_str();
    let seeds: [(u8, &str, Value, Work); 9] = [
        (
            1,
            "en",
            json!({"kind": "open", "text": "Two weeks for a parcel. Never again."}),
            Work::Nothing,
        ),
        (
            3,
            "es",
            json!({"kind": "open", "text": "El cupón de descuento no funcionaba al pagar."}),
            Work::Open {
                note: "The coupon service rejected codes made before Monday: reported to the shop team.",
            },
        ),
        (
            2,
            "en",
            json!({"kind": "closed", "reasons": ["product_damaged"]}),
            Work::Waiting {
                reply: "We are sorry the mug arrived broken. A new one is on its way; no need to send the old one back.",
            },
        ),
        (
            5,
            "en",
            json!({"kind": "closed", "reasons": ["shipping_cost"]}),
            Work::Nothing,
        ),
        (
            7,
            "en",
            json!({"kind": "closed", "reasons": ["faster_delivery"]}),
            Work::Resolved {
                resolution: "explained",
                tags: &["delivery"],
            },
        ),
        (
            8,
            "es",
            json!({"kind": "closed", "reasons": ["discounts"]}),
            Work::Nothing,
        ),
        (
            9,
            "en",
            json!({"kind": "open", "text": "Smooth checkout, and the parcel came a day early."}),
            Work::Resolved {
                resolution: "no_action",
                tags: &["praise", "delivery"],
            },
        ),
        (
            10,
            "es",
            json!({"kind": "open", "text": "Me encantó la atención por chat."}),
            Work::Nothing,
        ),
        (
            0,
            "en",
            json!({"kind": "open", "text": "test test asdf"}),
            Work::Dismissed,
        ),
    ];
    for (n, (score, locale, follow_up, work)) in seeds.into_iter().enumerate() {
        let id = format!("d3e0a5c1-7b2f-4c8e-9a6d-00000000000{n}");
        let answer = json!({
            "id": id, "rev": 1, "site": "shop", "survey": "checkout_nps",
            "respondent": format!("5e3d1c0b-9a8f-4e7d-8c6b-00000000000{n}"),
            "score": score, "locale": locale, "first_survey": true,
            "step": "checkout_done", "page": "/done",
            "props": {"plan": if n % 3 == 0 { "pro" } else { "standard" }},
            "follow_up": follow_up,
        });
        expect(
            call(address, "POST", "/v1/responses", None, &[], Some(&answer))?,
            "post an answer",
        )?;
        let path = format!("/v1/sites/shop/answers/{id}");
        let patch = |change: Value| -> Result<()> {
            let read = expect(
                call(address, "GET", &path, Some(token), &[], None)?,
                "read an answer",
            )?;
            let etag = read.etag.ok_or("demo seed: an answer without an ETag")?;
            expect(
                call(
                    address,
                    "PATCH",
                    &path,
                    Some(token),
                    &[("If-Match", &etag)],
                    Some(&change),
                )?,
                "change an answer",
            )
            .map(|_| ())
        };
        let post = |what: &str, text: &str| -> Result<()> {
            expect(
                call(
                    address,
                    "POST",
                    &format!("{path}/{what}"),
                    Some(token),
                    &[],
                    Some(&json!({"text": text})),
                )?,
                what,
            )
            .map(|_| ())
        };
        match work {
            Work::Nothing => {}
            Work::Open { note } => {
                patch(json!({"status": "open", "owner": owner}))?;
                post("notes", note)?;
            }
            Work::Waiting { reply } => {
                patch(json!({"status": "open", "owner": owner}))?;
                post("replies", reply)?;
                patch(json!({"status": "waiting"}))?;
            }
            Work::Resolved { resolution, tags } => {
                patch(json!({"owner": owner, "tags": tags}))?;
                patch(json!({"status": "resolved", "resolution": resolution}))?;
            }
            Work::Dismissed => patch(json!({"status": "dismissed"}))?,
        }
    }
    Ok(true)
}
