//! Scanners
