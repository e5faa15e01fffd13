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

/// Does `pin` match the argon2 PHC `hash`? argon2's working memory is `memory` (grown to what the
/// hash's parameters need, then reused), so repeated checks do not allocate 19 MiB each time.
pub fn pin_matches_in(pin: &str, hash: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::{Algorithm, Params, PasswordHash, Version};
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        pin.as_bytes(),
        salt.as_ref(),
        out,
        &mut memory[..blocks],
    );
    // Output's equality is constant-time.
    hashed.is_ok() && argon2::password_hash::phc::Output::new(out).is_ok_and(|o| o == *expected)
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
