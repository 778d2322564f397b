//! Random secrets handed to people (session cookies, API tokens, set-password
//! links) and what is kept of them: their SHA-256, never the value.

use sha2::{Digest, Sha256};

/// The prefix of every person's API token: scripts and secret scanners can
/// tell it from a site's machine token.
pub const TOKEN_PREFIX: &str = "pulso_";

/// 256 random bits as 64 hex digits, from the operating system's generator.
pub fn random() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random numbers");
    hex(&bytes)
}

/// A new API token: `pulso_` and 256 random bits.
pub fn api_token() -> String {
    [TOKEN_PREFIX, &random()].concat()
}

/// What is stored of a secret: its SHA-256, hex.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_only_their_digest_is_kept() {
        let (a, b) = (random(), random());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(api_token().starts_with("pulso_"));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
