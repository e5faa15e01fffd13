//! Lane names: a lane is one line of people at one door, fed by one or more scanners.

/// 1 to 32 of `a-z A-Z 0-9 _ -`.
pub fn valid_lane_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
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
    }
}
