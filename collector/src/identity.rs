//! Verified identify: a site's backend proves that a user id is its own by
//! sending the HMAC-SHA256 of the id, keyed with the site's identity secret,
//! along with it (`pulso('identify', ID, TRAITS, {hash})`). With a secret
//! configured, only a user id whose hash matches is trusted: looked up across
//! devices, and stored as verified.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// `HEX(HMAC-SHA256(secret, user_id))`: what the site's backend computes.
pub fn user_hash(secret: &Secret, user_id: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(user_id.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `given` is the hash of `user_id` (hex, any case), compared in
/// constant time.
pub fn verified(secret: &Secret, user_id: &str, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    let expected = user_hash(secret, user_id);
    constant_time_eq::constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's vector, computed with Python's hmac module: receivers in
    /// other languages can check their code against it.
    #[test]
    fn the_documented_vector() {
        let secret = Secret::new("idsec_test_0123456789abcdef");
        let hash = user_hash(&secret, "u-42");
        assert_eq!(
            hash,
            "cccf455a5b7e72bc01d053802eabf3c7d68e21d658348b55ab019a03b983f135"
        );
        assert!(verified(&secret, "u-42", Some(&hash.to_uppercase())));
        assert!(!verified(&secret, "u-43", Some(&hash)));
        assert!(!verified(&secret, "u-42", None));
    }
}
