//! The domain rules: pure functions and plain data, no I/O. Everything here is unit-tested case by
//! case; the store gathers the facts and these functions decide.

pub mod barcode;
pub mod lane;
pub mod money;
pub mod policy;
pub mod rules;
pub mod service;
