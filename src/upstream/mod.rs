//! Upstream
