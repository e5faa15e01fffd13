//! Lane names: a lane is one line of people at one door, fed by one or more scanners.

use std::fmt;

/// 1 to 32 of `a-z A-Z 0-9 _ -`.
pub fn valid_lane_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A lane name that passed [`valid_lane_name`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LaneName(String);

/// Why a text is not a lane name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a lane name (1-32 of a-z A-Z 0-9 _ -)")]
pub struct BadLaneName(pub String);

impl LaneName {
    pub fn parse(name: &str) -> Result<LaneName, BadLaneName> {
        if valid_lane_name(name) {
            Ok(LaneName(name.to_string()))
        } else {
            Err(BadLaneName(name.to_string()))
        }
    }
    /// The lane every station has, fed by the demo's stdin and unconfigured screens.
    pub fn main() -> LaneName {
        LaneName("main".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LaneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LaneName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn lane_names() {
        assert!(valid_lane_name("main"));
        assert!(valid_lane_name("door-2_b"));
        assert!(!valid_lane_name(""));
        assert!(!valid_lane_name("a b"));
        assert!(!valid_lane_name("../etc"));
        assert!(!valid_lane_name(&"x".repeat(33)));
        assert_eq!(LaneName::parse("door-2").unwrap().as_str(), "door-2");
        assert!(LaneName::parse("a b").is_err());
    }
}
