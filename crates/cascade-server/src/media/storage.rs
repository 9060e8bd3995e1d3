//! Where media files live, behind one interface: `MediaStore`. Files are written once
//! under a random key and never changed, so a key names its content for good (it is the
//! ETag) and can be cached forever; removing a file is idempotent.
//!
//! The data folder is the default (one binary, nothing else to run): files lie under
//! `<data>/media/`, each written to a temporary name and renamed into place, so a reader
//! never sees half a file.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A stored file's bytes, or a range of them.
#[derive(Debug, Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// The whole file's length.
    pub total: u64,
}

/// The storage backends: a closed set, so an enum and no `dyn`.
#[derive(Debug, Clone)]
pub enum MediaStore {
    /// Files under a folder (`<data>/media`).
    Folder(PathBuf),
}

/// Whether a key is one Cascade makes: `<letter>/<32 hex digits>.<extension>`. Anything
/// else (`..`, slashes, long names) never reaches the file system.
pub fn valid_key(key: &str) -> bool {
    let Some((prefix, rest)) = key.split_once('/') else {
        return false;
    };
    let Some((name, ext)) = rest.split_once('.') else {
        return false;
    };
    prefix.len() == 1
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && name.len() == 32
        && name
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && (1..=5).contains(&ext.len())
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A new random key for a file of `extension`, under `prefix` (`m` media, `p` previews,
/// `a` avatars, `h` headers): 128 random bits, so no URL can be guessed.
pub fn new_key(prefix: char, extension: &str) -> String {
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}/{hex}.{extension}")
}

impl MediaStore {
    /// The data folder's store.
    pub fn folder(data_dir: &Path) -> MediaStore {
        MediaStore::Folder(data_dir.join("media"))
    }

    fn path(root: &Path, key: &str) -> std::io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a media key",
            ));
        }
        Ok(root.join(key))
    }

    /// Stores a file under `key`.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            MediaStore::Folder(root) => {
                let path = Self::path(root, key)?;
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let temporary = path.with_extension("part");
                tokio::fs::write(&temporary, bytes).await?;
                tokio::fs::rename(&temporary, &path).await
            }
        }
    }

    /// A file's bytes, or `range` of them (`start..end`, end excluded, cut to the file);
    /// `None` when there is no such file.
    pub async fn get(&self, key: &str, range: Option<(u64, u64)>) -> std::io::Result<Option<Blob>> {
        match self {
            MediaStore::Folder(root) => {
                let path = Self::path(root, key)?;
                let mut file = match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                let total = file.metadata().await?.len();
                let (start, end) = match range {
                    Some((s, e)) => (s.min(total), e.min(total)),
                    None => (0, total),
                };
                file.seek(SeekFrom::Start(start)).await?;
                let mut bytes = Vec::with_capacity((end.saturating_sub(start)) as usize);
                file.take(end.saturating_sub(start))
                    .read_to_end(&mut bytes)
                    .await?;
                Ok(Some(Blob { bytes, total }))
            }
        }
    }

    /// The length of a stored file, `None` when there is none.
    pub async fn len(&self, key: &str) -> std::io::Result<Option<u64>> {
        match self {
            MediaStore::Folder(root) => match tokio::fs::metadata(Self::path(root, key)?).await {
                Ok(m) => Ok(Some(m.len())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// Removes a file; one already gone is no error.
    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self {
            MediaStore::Folder(root) => {
                match tokio::fs::remove_file(Self::path(root, key)?).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_cascade_makes_are_valid() {
        let key = new_key('m', "jpg");
        assert!(valid_key(&key), "{key}");
        assert!(!valid_key("m/../../etc/passwd"));
        assert!(!valid_key("m/0123456789abcdef0123456789abcdef.jpg/x"));
        assert!(!valid_key("../0123456789abcdef0123456789abcdef.jpg"));
        assert!(!valid_key("m/0123456789ABCDEF0123456789abcdef.jpg"));
        assert_ne!(new_key('m', "jpg"), key);
    }
}
