//! A small SMTP server on loopback that keeps what it is sent: enough of
//! RFC 5321 for a client that sends mail (greeting, EHLO, MAIL, RCPT, DATA
//! with dot-stuffing, RSET, NOOP, QUIT), so a test sees the digest's emails
//! as a mail server gets them. A recipient it is told to refuse gets a
//! temporary failure (450) at RCPT, as from a full or busy mailbox, or a
//! permanent one (550), as for a mailbox that does not exist.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A message as the server got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message itself (headers and body), CRLF line ends.
    pub data: String,
}

pub struct Sink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashMap<String, &'static [u8]>>>,
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(HashMap::new()));
        let (kept, refusing) = (received.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, refusing) = (kept.clone(), refusing.clone());
                tokio::spawn(async move {
                    let _ = session(stream, kept, refusing).await;
                });
            }
        });
        Sink {
            port,
            received,
            refused,
        }
    }

    /// Refuses mail to `email` for now (450) from now on (`false`: takes
    /// it again).
    pub fn refuse(&self, email: &str, refuse: bool) {
        let mut refused = self.refused.lock().unwrap();
        if refuse {
            refused.insert(
                email.to_owned(),
                b"450 4.2.1 mailbox busy, try again later\r\n",
            );
        } else {
            refused.remove(email);
        }
    }

    /// Refuses mail to `email` for good (550, no such mailbox).
    pub fn refuse_for_good(&self, email: &str) {
        let mut refused = self.refused.lock().unwrap();
        refused.insert(email.to_owned(), b"550 5.1.1 no such mailbox\r\n");
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    kept: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashMap<String, &'static [u8]>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                from = address(&command);
                b"250 OK\r\n"
            }
            "RCPT" => {
                let address = address(&command);
                if let Some(&refusal) = refused.lock().unwrap().get(&address) {
                    refusal
                } else {
                    to.push(address);
                    b"250 OK\r\n"
                }
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let text = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(text);
                }
                kept.lock().unwrap().push(Received {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 OK queued\r\n"
            }
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}
