//! End-to-end tests: real collector processes, the demo shop, headless Chromium.

// The walking skeleton: funnel → card → answer → export; no Wasm where no survey is due.
mod skeleton;
// Adaptive follow-ups: open first, then each band's closed list; locales; "Other".
mod adaptive;
// axe-core on the card, in English and Spanish, open and closed follow-ups.
mod accessibility;
// Nothing acknowledged is lost: SIGKILL under load, database outages, the outbox.
mod reliability;
// What a page passes in never costs an answer; a refused answer is never silent.
mod context;
// The loader's storage: its own keys only, reset, consent.
mod storage;
// A verified identify stored as such; retention when the collector starts.
mod privacy;
// The analysts' side: the dashboard shows answers made in the widget.
mod analysts;
// Team access: the first owner, set-password links, signing in, members, tokens, the audit log.
mod team;
// The inbox: an agent takes a detractor's answer, notes, replies, resolves; the reply reaches the respondent.
mod inbox;
// The NPS programme: displays and the response rate.
mod programme;
// Webhooks: events survive SIGKILL; a browser's detractor answer reaches Slack.
mod webhooks;
// Triggers and targeting: steps, URL rules and SPA navigation, sampling, periods, hostile pages.
mod triggers;
// Scale-out: two collector processes on one PostgreSQL database.
mod scale_out;
// Behind nginx: forged X-Forwarded-For headers count as the client's own address.
mod proxy;
// Benchmark (ignored by cargo test; cargo xtask bench runs it): time to a visible card.
mod bench;
