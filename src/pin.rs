//! Supervisor PINs: hashed with argon2 for the config (`scanstation hash-pin`), checked at login.
//! Used by `config` (is the configured hash readable?), the web login and the CLI.

use argon2::password_hash::PasswordHasher;
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::RngExt;

pub use argon2::password_hash::Error as PinHashError;

/// Hash a PIN for the config, with a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, PinHashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    Ok(Argon2::default()
        .hash_password_with_salt(pin.as_bytes(), &salt)?
        .to_string())
}

/// Whether `pin` matches `hash` (slow on purpose: call it from a blocking thread).
pub fn pin_matches(pin: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(pin.as_bytes(), hash)
        .is_ok()
}

/// Whether a configured hash is one `hash_pin` could have written; the reason if not.
pub fn check_hash(hash: &str) -> Result<(), String> {
    PasswordHash::new(hash)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_pin_only() {
        let h = hash_pin("1234").unwrap();
        assert!(check_hash(&h).is_ok());
        assert!(pin_matches("1234", &h));
        assert!(!pin_matches("1235", &h));
        assert!(check_hash("not-a-hash").is_err());
    }
}
