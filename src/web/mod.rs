//! Web
pub mod ui;
