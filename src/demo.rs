//! `scanstation demo`. (Stub.)
