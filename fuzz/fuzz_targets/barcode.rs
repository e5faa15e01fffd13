//! Raw scan to client ID (`BarcodeRules`), with prefix, suffix, pattern and check digit from the
//! input as `[barcode]` would give them. Properties: an ID is never empty, never holds a control
//! character, and with a check digit it is what remains after a valid Luhn digit.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use scanstation::domain::barcode::{luhn_valid, BarcodeRules, CheckDigit, DEFAULT_PATTERN};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    prefix: &'a str,
    suffix: &'a str,
    /// None: the default pattern (most stations keep it).
    pattern: Option<&'a str>,
    mod10: bool,
    raw: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let check = if input.mod10 {
        CheckDigit::Mod10
    } else {
        CheckDigit::None
    };
    let pattern = input.pattern.unwrap_or(DEFAULT_PATTERN);
    if pattern.len() > 200 {
        return;
    }
    let Ok(rules) = BarcodeRules::new(input.prefix, input.suffix, pattern, check) else {
        return;
    };
    if let Ok(id) = rules.client_id(input.raw) {
        assert!(!id.is_empty(), "empty client ID from {:?}", input.raw);
        assert!(
            !id.chars().any(char::is_control),
            "control character in {id:?}"
        );
        if input.mod10 {
            // The ID plus its removed digit was a valid Luhn number.
            let found = ('0'..='9').any(|d| luhn_valid(&format!("{id}{d}")));
            assert!(found, "check digit accepted for {id:?}");
        }
    }
});
