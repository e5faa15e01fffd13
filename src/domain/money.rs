//! Money as decimal strings ("0.00"): never floats.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an amount such as \"0.00\" (digits, at most two decimals)")]
pub struct BadMoney(pub String);

/// A non-negative amount with two decimals ("0.00", "12.50"), as [`parse_money`] normalised it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money(String);

impl Money {
    pub fn parse(s: &str) -> Result<Money, BadMoney> {
        parse_money(s).map(Money)
    }
    pub fn zero() -> Money {
        Money("0.00".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parse a non-negative amount with at most two decimals; returns it normalised to two decimals.
pub fn parse_money(s: &str) -> Result<String, BadMoney> {
    let t = s.trim();
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    let ok = !whole.is_empty()
        && whole.len() <= 12
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(t.contains('.') && frac.is_empty());
    if !ok {
        return Err(BadMoney(s.to_string()));
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    Ok(format!("{whole}.{frac:0<2}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn amounts() {
        assert_eq!(parse_money("0.00").unwrap(), "0.00");
        assert_eq!(Money::parse("7.5").unwrap().as_str(), "7.50");
        assert_eq!(Money::zero().to_string(), "0.00");
        assert_eq!(parse_money("5").unwrap(), "5.00");
        assert_eq!(parse_money("5.5").unwrap(), "5.50");
        assert_eq!(parse_money("007.25").unwrap(), "7.25");
        for bad in [
            "",
            "-1",
            "1.234",
            "1.",
            ".5",
            "1,00",
            "abc",
            "1e3",
            "9999999999999",
        ] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
    }
}
