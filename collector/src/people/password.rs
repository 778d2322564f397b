//! Passwords: Argon2id with OWASP's parameters (19 MiB, two passes, one lane),
//! at least 12 characters and not guessable (zxcvbn, which knows the common
//! passwords, names and keyboard walks, and the person's own email and name),
//! and a verification that takes as long for an unknown email as for a
//! wrong password.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;

fn argon2() -> Argon2<'static> {
    // OWASP's first recommendation for Argon2id: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weak {
    TooShort,
    /// Common, or easy to guess from the person's email or name.
    Guessable,
}

/// Whether `password` may be used by the person of `email` and `name`.
pub fn check(password: &str, email: &str, name: &str) -> Result<(), Weak> {
    if password.chars().count() < MIN_CHARS {
        return Err(Weak::TooShort);
    }
    // The person's own words: the email, its parts, the name and its parts.
    let local = email.split('@').next().unwrap_or(email);
    let mut own: Vec<&str> = vec![email, local, name, "pulso"];
    own.extend(local.split(['.', '_', '-', '+']).filter(|w| w.len() > 2));
    own.extend(name.split_whitespace().filter(|w| w.chars().count() > 2));
    let estimate = zxcvbn::zxcvbn(password, &own);
    if (estimate.score() as u8) < 3 {
        return Err(Weak::Guessable);
    }
    Ok(())
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashes any password")
        .to_string()
}

/// A hash no password matches, verified when the email is unknown (or has
/// no password yet), so that the answer takes the time a wrong password's
/// does and says nothing of which emails have accounts.
static DUMMY: LazyLock<String> = LazyLock::new(|| hash("no password opens this account"));

/// Whether `password` is the one of `stored` (`None`: there is none, and the
/// same work is done against a dummy).
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (DUMMY.as_str(), false),
    };
    let matches = PasswordHash::new(phc).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    });
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_passwords_pass_and_weak_ones_are_named() {
        assert_eq!(check("short", "a@b.example", "A"), Err(Weak::TooShort));
        assert_eq!(
            check("passwordpassword", "a@b.example", "A"),
            Err(Weak::Guessable)
        );
        assert_eq!(
            check("123456789012", "a@b.example", "A"),
            Err(Weak::Guessable)
        );
        assert_eq!(
            check(
                "maria.garcia2026",
                "maria.garcia@shop.example",
                "María García"
            ),
            Err(Weak::Guessable),
            "the person's own email is easy to guess"
        );
        assert_eq!(check("lilac-tundra-oboe-91", "a@b.example", "A"), Ok(()));
    }

    #[test]
    fn hashes_verify_and_are_argon2id_with_owasp_parameters() {
        let stored = hash("lilac-tundra-oboe-91");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("lilac-tundra-oboe-91", Some(&stored)));
        assert!(!verify("lilac-tundra-oboe-92", Some(&stored)));
        assert!(
            !verify("no password opens this account", None),
            "the dummy opens nothing"
        );
        assert_ne!(
            hash("lilac-tundra-oboe-91"),
            stored,
            "a salt of its own each time"
        );
    }
}
