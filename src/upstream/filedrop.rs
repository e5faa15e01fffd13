//! The `clienttrack-csv` upstream: one ClientTrack batch-upload file per posted batch, written
//! atomically (temporary file, then rename) into the configured folder, for ClientTrack's importer
//! (or a person) to pick up.

use std::path::{Path, PathBuf};

use crate::config::Settings;

use crate::store::outbox::{Delivery, PostedService};

/// The file name of a delivery: stable, so writing it again after a crash replaces the same file.
pub fn file_name(station_id: &str, delivery: &Delivery) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "scanstation-{}-{}-{}.csv",
        clean(station_id),
        clean(&delivery.batch_id),
        delivery.id
    )
}

/// Write the delivery's file; returns its path.
pub fn write(
    folder: &Path,
    settings: &Settings,
    delivery: &Delivery,
    services: &[PostedService],
) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        folder.is_dir(),
        "upstream.folder {} is not a folder",
        folder.display()
    );
    let path = folder.join(file_name(settings.station_id(), delivery));
    crate::export::write_atomically(&path, |file| {
        crate::export::write_clienttrack_csv(file, settings, services)
    })?;
    Ok(path)
}
