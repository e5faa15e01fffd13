//! Supervisor PINs of the test stations, and their hashes made once per process.
//!
//! The hash is a cheap argon2id (64 KiB, one pass) so debug-build tests stay quick: verification
//! reads the parameters from the hash, so the station checks it like any other. The product's
//! `hash-pin` uses argon2's defaults (tests/cli.rs checks that one).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Maria's PIN (the first supervisor of every test station).
pub const PIN: &str = "2468";
/// Ana's PIN (the second supervisor).
pub const OTHER_PIN: &str = "1357";

/// The PHC hash of `pin`, computed once per process and PIN.
pub fn pin_hash(pin: &str) -> String {
    static CACHE: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pin.to_string())
        .or_insert_with(|| cheap_hash(pin))
        .clone()
}

fn cheap_hash(pin: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(64, 1, 1, None).expect("argon2 parameters");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon
        .hash_password_with_salt(pin.as_bytes(), b"saltsaltsaltsalt")
        .expect("argon2 hash")
        .to_string()
}
