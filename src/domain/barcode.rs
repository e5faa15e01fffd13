//! From the characters a scanner sends to a client ID.
//!
//! Drop the terminator (CR, LF, CRLF or Tab), trim, strip the configured prefix and suffix, match
//! the pattern (its named group `id` if it has one, else the whole match), then check and remove an
//! optional mod 10 (Luhn) check digit.

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckDigit {
    None,
    Mod10,
}

#[derive(Debug, Clone)]
pub struct BarcodeRules {
    prefix: String,
    suffix: String,
    pattern: Regex,
    check_digit: CheckDigit,
}

#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("not a valid regular expression: {0}")]
    Syntax(#[from] regex::Error),
}

/// Why a scan gave no client ID (the entry's verdict is then `invalid_code`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("empty scan")]
    Empty,
    #[error("does not match the card pattern")]
    NoMatch,
    #[error("check digit is wrong")]
    CheckDigit,
    /// The scanner sent bytes that are not text (a misread: NUL, control bytes, invalid UTF-8
    /// shown as U+FFFD). Refused before the pattern, which may not be anchored.
    #[error("unreadable characters in the scan")]
    Unreadable,
}

/// The pattern when the config names none: 1 to 32 of `A-Z a-z 0-9 _ -`, all of the scan.
pub const DEFAULT_PATTERN: &str = "^(?P<id>[A-Za-z0-9_-]{1,32})$";

impl Default for BarcodeRules {
    fn default() -> Self {
        BarcodeRules::new("", "", DEFAULT_PATTERN, CheckDigit::None)
            .expect("default pattern compiles")
    }
}

impl BarcodeRules {
    pub fn new(
        prefix: &str,
        suffix: &str,
        pattern: &str,
        check_digit: CheckDigit,
    ) -> Result<BarcodeRules, PatternError> {
        Ok(BarcodeRules {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            pattern: Regex::new(pattern)?,
            check_digit,
        })
    }

    /// The client ID in a raw scan, or why there is none.
    pub fn client_id(&self, raw: &str) -> Result<String, BarcodeError> {
        let s = raw
            .strip_suffix("\r\n")
            .or_else(|| raw.strip_suffix('\r'))
            .or_else(|| raw.strip_suffix('\n'))
            .or_else(|| raw.strip_suffix('\t'))
            .unwrap_or(raw)
            .trim();
        if s.chars()
            .any(|c| c == char::REPLACEMENT_CHARACTER || c.is_control())
        {
            return Err(BarcodeError::Unreadable);
        }
        let s = s.strip_prefix(self.prefix.as_str()).unwrap_or(s);
        let s = s.strip_suffix(self.suffix.as_str()).unwrap_or(s);
        if s.is_empty() {
            return Err(BarcodeError::Empty);
        }
        let caps = self.pattern.captures(s).ok_or(BarcodeError::NoMatch)?;
        let id = caps
            .name("id")
            .or_else(|| caps.get(0))
            .map(|m| m.as_str())
            .unwrap_or("");
        if id.is_empty() {
            return Err(BarcodeError::Empty);
        }
        match self.check_digit {
            CheckDigit::None => Ok(id.to_string()),
            CheckDigit::Mod10 => {
                if id.len() < 2 || !luhn_valid(id) {
                    return Err(BarcodeError::CheckDigit);
                }
                Ok(id[..id.len() - 1].to_string())
            }
        }
    }
}

/// Luhn (mod 10) over a string of digits, the last being the check digit.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The Luhn check digit to append to `digits` (used by the demo data generator and tests).
pub fn luhn_check_digit(digits: &str) -> Option<char> {
    (0..10u8)
        .map(|d| (b'0' + d) as char)
        .find(|&c| luhn_valid(&format!("{digits}{c}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(prefix: &str, suffix: &str, pattern: &str, cd: CheckDigit) -> BarcodeRules {
        BarcodeRules::new(prefix, suffix, pattern, cd).unwrap()
    }

    #[test]
    fn terminators_are_dropped() {
        let r = BarcodeRules::default();
        for raw in [
            "123456\r\n",
            "123456\r",
            "123456\n",
            "123456\t",
            "  123456  ",
            "123456",
        ] {
            assert_eq!(r.client_id(raw).unwrap(), "123456", "{raw:?}");
        }
    }

    #[test]
    fn default_pattern_limits() {
        let r = BarcodeRules::default();
        assert_eq!(r.client_id("abc_DEF-9").unwrap(), "abc_DEF-9");
        assert_eq!(r.client_id("").unwrap_err(), BarcodeError::Empty);
        assert_eq!(r.client_id("\r\n").unwrap_err(), BarcodeError::Empty);
        assert_eq!(r.client_id("12 34").unwrap_err(), BarcodeError::NoMatch);
        assert_eq!(r.client_id("é123").unwrap_err(), BarcodeError::NoMatch);
        assert_eq!(
            r.client_id(&"9".repeat(33)).unwrap_err(),
            BarcodeError::NoMatch
        );
        assert!(r.client_id(&"9".repeat(32)).is_ok());
    }

    #[test]
    fn prefix_suffix_and_named_group() {
        let r = rules("HMIS:", "#", r"^C(?P<id>\d+)$", CheckDigit::None);
        assert_eq!(r.client_id("HMIS:C00042#\r").unwrap(), "00042");
        // Without the prefix the pattern still decides.
        assert_eq!(r.client_id("C7").unwrap(), "7");
        assert_eq!(r.client_id("HMIS:X7#").unwrap_err(), BarcodeError::NoMatch);
        // No named group: the whole match.
        let r = rules("", "", r"\d{4}", CheckDigit::None);
        assert_eq!(r.client_id("ab1234cd").unwrap(), "1234");
    }

    #[test]
    fn garbled_frames_are_unreadable_whatever_the_pattern() {
        let r = rules("", "", r"[0-9]+", CheckDigit::None);
        assert_eq!(
            r.client_id("12\u{FFFD}34").unwrap_err(),
            BarcodeError::Unreadable
        );
        assert_eq!(
            r.client_id("12\u{0}34\r\n").unwrap_err(),
            BarcodeError::Unreadable
        );
        assert_eq!(
            r.client_id("\u{1b}[A1234").unwrap_err(),
            BarcodeError::Unreadable
        );
        // The terminator itself is not a control character in the code.
        assert_eq!(r.client_id("1234\r\n").unwrap(), "1234");
    }

    #[test]
    fn luhn_check_digit_is_checked_and_removed() {
        let r = rules("", "", r"^(?P<id>\d{2,20})$", CheckDigit::Mod10);
        // 7992739871 + check digit 3 is the textbook Luhn example.
        assert_eq!(r.client_id("79927398713").unwrap(), "7992739871");
        assert_eq!(
            r.client_id("79927398710").unwrap_err(),
            BarcodeError::CheckDigit
        );
        assert_eq!(luhn_check_digit("7992739871"), Some('3'));
        let r = rules("", "", r"^(?P<id>[A-Z0-9]+)$", CheckDigit::Mod10);
        assert_eq!(r.client_id("AB12").unwrap_err(), BarcodeError::CheckDigit);
        assert_eq!(r.client_id("5").unwrap_err(), BarcodeError::CheckDigit);
    }
}
