//! Kept only for tests/export.rs (another piece of work moves it onto tests/common): the
//! upstream parts of the one harness, under their old module name.
#![allow(dead_code, unused_imports)]

#[path = "../common/mod.rs"]
mod common;

pub use common::upstream::*;
