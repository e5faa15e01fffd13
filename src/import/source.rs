//! Where the CSV files come from: a folder or a .zip (possibly with the files in a subfolder).
//! File names are matched case-insensitively on their last path component.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::ImportError;

pub(crate) enum Source {
    Dir {
        files: HashMap<String, PathBuf>,
    },
    Zip {
        path: PathBuf,
        archive: Box<zip::ZipArchive<File>>,
        files: HashMap<String, usize>,
    },
}

fn io_err(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn ambiguous(path: &Path, name: &str) -> ImportError {
    ImportError::Source {
        path: path.display().to_string(),
        message: format!("more than one file named {name} (names are matched ignoring case)"),
    }
}

impl Source {
    pub(crate) fn open(path: &Path) -> Result<Source, ImportError> {
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
        if meta.is_dir() {
            let mut files = HashMap::new();
            for entry in std::fs::read_dir(path).map_err(|e| io_err(path, e))? {
                let entry = entry.map_err(|e| io_err(path, e))?;
                let is_file = entry
                    .file_type()
                    .map(|t| t.is_file() || t.is_symlink())
                    .unwrap_or(false);
                if !is_file {
                    continue;
                }
                let name = entry.file_name().to_string_lossy().to_lowercase();
                if files.insert(name.clone(), entry.path()).is_some() {
                    return Err(ambiguous(path, &name));
                }
            }
            return Ok(Source::Dir { files });
        }
        let file = File::open(path).map_err(|e| io_err(path, e))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| ImportError::Source {
            path: path.display().to_string(),
            message: format!("not a folder and not a readable .zip file ({e})"),
        })?;
        let mut files = HashMap::new();
        for i in 0..archive.len() {
            let Some(Ok(name)) = archive.name_for_index(i) else {
                continue;
            };
            if name.ends_with('/') || name.contains("__MACOSX") {
                continue;
            }
            let base = name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&name)
                .to_lowercase();
            if base.is_empty() || base.starts_with("._") {
                continue;
            }
            if files.insert(base.clone(), i).is_some() {
                return Err(ambiguous(path, &base));
            }
        }
        Ok(Source::Zip {
            path: path.to_path_buf(),
            archive: Box::new(archive),
            files,
        })
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        let key = name.to_lowercase();
        match self {
            Source::Dir { files } => files.contains_key(&key),
            Source::Zip { files, .. } => files.contains_key(&key),
        }
    }

    /// Run `f` on a reader of the file `name`; `None` when the file is absent.
    pub(crate) fn with_reader<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Read) -> Result<T, ImportError>,
    ) -> Result<Option<T>, ImportError> {
        let key = name.to_lowercase();
        match self {
            Source::Dir { files } => {
                let Some(p) = files.get(&key) else {
                    return Ok(None);
                };
                let mut file = File::open(p).map_err(|e| io_err(p, e))?;
                f(&mut file).map(Some)
            }
            Source::Zip {
                path,
                archive,
                files,
            } => {
                let Some(&i) = files.get(&key) else {
                    return Ok(None);
                };
                let mut zf = archive.by_index(i).map_err(|e| ImportError::Source {
                    path: path.display().to_string(),
                    message: format!("cannot read {name} in the zip ({e})"),
                })?;
                f(&mut zf).map(Some)
            }
        }
    }
}
