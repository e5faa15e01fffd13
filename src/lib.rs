//! scanstation: a service-scanning station for homeless-services agencies.
//!
//! See ARCHITECTURE.md for the map. Pure rules live in [`domain`]; [`store`] owns every SQLite
//! table; [`app`] holds the use cases; the edges call it: [`web`] (HTTP API and kiosk UI),
//! [`scanners`] (HID and serial devices), [`upstream`] (delivery to the HMIS, the enrollment pull),
//! [`import`] (HUD HMIS CSV), [`export`], the CLI and [`demo`].

pub mod app;
pub mod backoff;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod domain;
pub mod export;
pub mod fsmode;
pub mod import;
pub mod logging;
pub mod net;
pub mod pin;
pub mod scanners;
pub mod store;
pub mod synth;
pub mod systemd;
pub mod upstream;
pub mod web;

/// Make ring the process-wide rustls provider (two are compiled in, so rustls cannot pick one by
/// itself). Called once at start by the binary and by tests; later calls change nothing.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
